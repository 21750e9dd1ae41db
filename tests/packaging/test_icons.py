"""The application icon: one SVG, and PNGs of 16 to 256 px that are that SVG rendered by Qt
(packaging/icons.py), so a change to the drawing cannot leave stale PNGs behind."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "resources" / "icons" / "app"


def icons_module():
    spec = importlib.util.spec_from_file_location("icons", ROOT / "packaging" / "icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_size_from_16_to_256_is_the_svg_rendered(qapp) -> None:
    icons = icons_module()
    assert icons.SIZES == (16, 24, 32, 48, 64, 128, 256)
    for size in icons.SIZES:
        image = QImage(str(FOLDER / f"retouch-studio-{size}.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.hasAlphaChannel() and image.pixelColor(0, 0).alpha() == 0  # round corners
        assert icons.largest_difference(size) <= 8, size


def test_a_png_that_is_not_the_svg_is_found(qapp, tmp_path: Path) -> None:
    icons = icons_module()
    written = icons.write_all(tmp_path)
    assert [p.name for p in written] == [f"retouch-studio-{s}.png" for s in icons.SIZES]
    assert icons.largest_difference(48, tmp_path) == 0
    stale = icons.render(48)
    stale.fill(0xFF00FF00)
    stale.save(str(tmp_path / "retouch-studio-48.png"))
    assert icons.largest_difference(48, tmp_path) > 8
