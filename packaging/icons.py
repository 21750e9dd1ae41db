"""Render the application icon's PNG sizes from its SVG, with Qt's own SVG renderer.

    python packaging/icons.py           # write resources/icons/app/retouch-studio-N.png
    python packaging/icons.py --check   # exit 1 if a committed PNG is not the SVG rendered

The PNGs are committed (the window, the desktop entry's hicolor theme and the bundle use
them); tests/packaging/test_icons.py checks they are the SVG's.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "resources" / "icons" / "app"
SVG = FOLDER / "retouch-studio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_path(size: int, folder: Path = FOLDER) -> Path:
    return folder / f"retouch-studio-{size}.png"


def render(size: int, svg: Path = SVG):  # -> QImage; Qt imported late (an app must exist)
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not an SVG that Qt can render; fix the file")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def write_all(folder: Path = FOLDER) -> list[Path]:
    written = []
    for size in SIZES:
        path = png_path(size, folder)
        if not render(size).save(str(path), "PNG"):
            raise OSError(f"{path}: could not write the icon")
        written.append(path)
    return written


def largest_difference(size: int, folder: Path = FOLDER) -> int:
    """The largest channel difference between the committed PNG and a fresh render."""
    from PySide6.QtGui import QImage

    committed = QImage(str(png_path(size, folder)))
    if committed.isNull():
        raise FileNotFoundError(f"{png_path(size, folder)}: missing; run packaging/icons.py")
    fresh = render(size)
    committed = committed.convertToFormat(fresh.format())
    if committed.size() != fresh.size():
        return 255
    a, b = bytes(committed.constBits()), bytes(fresh.constBits())
    return max((abs(x - y) for x, y in zip(a, b, strict=True)), default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    if args.check:
        stale = [size for size in SIZES if largest_difference(size) > 8]
        for size in stale:
            print(f"{png_path(size)} differs from the SVG: run python packaging/icons.py")
        return 1 if stale else 0
    for path in write_all():
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
