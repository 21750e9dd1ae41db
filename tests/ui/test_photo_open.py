"""Large and unusual photos through the real document and canvas: a 40 MP camera JPEG (over
the API's per-image limit, under what this machine can open) opens as it is, in the
background, and is shown at its own size; the zoom levels show the photo's own pixels; a
HEIC opens through its working copy; a refused file leaves the canvas as it was."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.imageio import ImageFileError
from app.core.photo import Prepared, display_pixels, pillow_heif
from app.core.schema import load_schema
from app.models.levels import decode_levels, levels_from_pixels
from tests.support import images
from tests.support.canvas import make_canvas

CAMERA = (7300, 5500)  # 40.15 MP: a 48 MP photo's kind, a little smaller to stay quick


def camera_jpeg(path: Path, width: int, height: int) -> np.ndarray:
    """A photo-like JPEG (gradients, a little grain); returns what Pillow decodes of it."""
    rng = np.random.default_rng(7)
    x = np.linspace(0, 200, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 150, height, dtype=np.float32)[:, None]
    grain = rng.integers(0, 8, (height, 1, 1), dtype=np.uint8)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[..., 0] = (30 + x + 0 * y).astype(np.uint8)
    rgb[..., 1] = (40 + y + 0 * x).astype(np.uint8)
    rgb[..., 2] = 120
    rgb += grain
    Image.fromarray(rgb).save(path, "JPEG", quality=90)
    with Image.open(path) as written:
        return np.asarray(written)


def level_pixels(image) -> np.ndarray:
    """An (h, w, 3) RGB copy of a QImage, whatever its format."""
    rgb = image.convertToFormat(image.Format.Format_RGB888)
    view = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return view[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()


def test_a_40_megapixel_photo_opens_as_it_is_without_blocking(qtbot, tmp_path) -> None:
    width, height = CAMERA
    assert width * height > load_schema().files.max_pixels  # over what one request takes
    path = tmp_path / "camera.jpg"
    expected = camera_jpeg(path, width, height)
    canvas = make_canvas(qtbot, size=(900, 600))
    before = canvas.image().size()

    with qtbot.waitSignal(canvas.edit.opened, timeout=60_000) as opened:
        assert canvas.open_file(path)
        # Decoded in a worker: open_file returns at once, the old picture still shown.
        assert canvas.image().size() == before and canvas.edit.picture.path != path
    assert opened.args == [str(path)]
    picture = canvas.edit.picture
    assert picture.path == path and picture.original == path  # no working copy was made
    assert (canvas.image().width(), canvas.image().height()) == (width, height)
    assert canvas.document.mask.shape == (height, width)
    assert canvas.photo.boundingRect().size().toTuple() == (width, height)
    # Fitted: the whole photo is in view.
    shown = canvas.mapToScene(canvas.viewport().rect()).boundingRect()
    assert shown.width() >= width - 1 or shown.height() >= height - 1
    # The full-size level is the photo's own pixels (OpenCV and Pillow decode alike).
    got = level_pixels(canvas.image().copy(4000, 3000, 64, 48))
    assert np.abs(got.astype(int) - expected[3000:3048, 4000:4064]).max() <= 2
    # Every smaller level halves the one above, down to at most 512 px.
    sizes = [(level.width(), level.height()) for level in picture.levels]
    assert sizes[1] == (width // 2, height // 2) and max(sizes[-1]) <= 512
    for (w, h), (w2, h2) in itertools.pairwise(sizes):
        assert (w2, h2) == (w // 2, h // 2)
    canvas.viewport().repaint()  # and it paints


def test_levels_average_the_level_above(qtbot) -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (1201, 1603, 3), dtype=np.uint8)
    levels = levels_from_pixels(rgb)
    assert [(lv.width(), lv.height()) for lv in levels] == [(1603, 1201), (801, 600), (400, 300)]
    assert np.array_equal(level_pixels(levels[0]), rgb)
    # An odd side is shrunk by its true factor (a box filter over the whole picture)...
    smooth = np.asarray(images.gradient(1603, 1201))
    box = np.asarray(Image.fromarray(smooth).resize((801, 600), Image.Resampling.BOX))
    shrunk = level_pixels(levels_from_pixels(smooth)[1])
    assert np.abs(shrunk.astype(int) - box).max() <= 2
    # ... an even one exactly 2x2 pixels into one.
    even = levels_from_pixels(rgb[:1200, :1600].copy())[1]
    pairs = rgb[:1200, :1600].reshape(600, 2, 800, 2, 3).mean(axis=(1, 3))
    assert np.abs(level_pixels(even).astype(float) - pairs).max() <= 0.5
    # With transparency: premultiplied ARGB32 throughout, the alpha kept.
    rgba = np.zeros((600, 700, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 128
    alpha_levels = levels_from_pixels(rgba)
    assert all(level.hasAlphaChannel() for level in alpha_levels)
    colour = alpha_levels[1].pixelColor(10, 10)
    assert abs(colour.alpha() - 128) <= 1 and abs(colour.red() - 200) <= 2


def test_display_pixels_decode_each_kind_of_file_once(tmp_path) -> None:
    plain = images.gradient(90, 60)
    rgba = plain.convert("RGBA")
    rgba.putalpha(100)
    cases = {
        "plain.jpg": (plain, "JPEG", 3),
        "plain.png": (plain, "PNG", 3),
        "alpha.png": (rgba, "PNG", 4),
        "palette.png": (plain.quantize(16), "PNG", 3),
        "grey.webp": (plain.convert("L"), "WEBP", 3),
    }
    for name, (image, fmt, channels) in cases.items():
        path = tmp_path / name
        image.save(path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        with Image.open(path) as stored:
            prepared = Prepared(path, None, fmt, stored.mode)
            expected = np.asarray(stored.convert("RGBA" if channels == 4 else "RGB"))
        got = display_pixels(prepared)
        assert got.shape == (60, 90, channels), name
        assert np.abs(got.astype(int) - expected).max() <= 2, name  # RGB order, not BGR


def test_a_cut_short_jpeg_used_as_it_is_is_named_not_shown_half(tmp_path) -> None:
    data = images.encode(images.gradient(300, 200), "JPEG", quality=90)
    path = images.write(tmp_path / "half.jpg", images.truncated(data, 0.5))
    with pytest.raises(ImageFileError, match=r"half\.jpg: the JPEG file is truncated"):
        decode_levels(Prepared(path, None, "JPEG", "RGB"), str(path))


def test_a_heic_opens_on_the_canvas_through_its_working_copy(qtbot, tmp_path) -> None:
    if pillow_heif is None or not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("no HEIF encoder in this pillow-heif")
    path = tmp_path / "IMG_0042.HEIC"
    source = np.zeros((240, 320, 3), np.uint8)
    source[:, :160] = (220, 40, 30)
    source[:, 160:] = (30, 60, 200)
    Image.fromarray(source).save(path, "HEIF", quality=95)
    canvas = make_canvas(qtbot)
    canvas.edit.work_dir = tmp_path / "work"
    with qtbot.waitSignal(canvas.edit.opened, timeout=10_000) as opened:
        canvas.open_file(path)
    assert opened.args == [str(path)]  # the designer's file is named, not the copy
    picture = canvas.edit.picture
    assert picture.original == path and picture.path.suffix == ".png"
    assert picture.path.parent == tmp_path / "work"
    assert (canvas.image().width(), canvas.image().height()) == (320, 240)
    left, right = canvas.image().pixelColor(40, 120), canvas.image().pixelColor(280, 120)
    assert abs(left.red() - 220) <= 12 and abs(left.blue() - 30) <= 12
    assert abs(right.blue() - 200) <= 12 and abs(right.red() - 30) <= 12


def test_a_photo_over_the_memory_limit_is_refused_and_the_picture_stays(qtbot, tmp_path) -> None:
    canvas = make_canvas(qtbot)
    before = canvas.edit.picture
    path = images.write(tmp_path / "forged.png", images.png_bomb(60000, 60000))
    with qtbot.waitSignal(canvas.edit.open_failed, timeout=10_000) as failed:
        canvas.open_file(path)
    message = failed.args[0]
    assert message.startswith(f"{path}: ") and "this machine's memory allows at most" in message
    assert canvas.edit.picture is before
