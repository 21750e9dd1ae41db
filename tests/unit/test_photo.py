"""Photos as phones and cameras write them (a generated corpus): turned by EXIF, tagged with
Adobe RGB, 16-bit, TIFF, BMP, GIF, CMYK. Each becomes an upright 8-bit sRGB working copy;
a file that can be sent as it is stays itself."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from app.core.imageio import ImageFileError
from app.core.photo import ORIENTATION_TAG, working_copy
from tests.support.icc import adobe_rgb

LIMIT = 33_177_600


def marked(width: int = 60, height: int = 40) -> Image.Image:
    """A picture whose top-left corner is red, so its orientation can be read back."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, :] = (40, 90, 160)
    pixels[:8, :12] = (255, 0, 0)
    return Image.fromarray(pixels)


def save(image: Image.Image, path: Path, fmt: str, **options) -> Path:
    image.save(path, fmt, **options)
    return path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_a_plain_srgb_png_or_jpeg_is_used_as_it_is(tmp_path) -> None:
    for name, fmt in (("plain.png", "PNG"), ("plain.jpg", "JPEG"), ("plain.webp", "WEBP")):
        path = save(marked(), tmp_path / name, fmt)
        assert working_copy(path, tmp_path / "work", max_pixels=LIMIT) == path
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(tmp_path, orientation: int) -> None:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    path = save(marked(), tmp_path / f"phone-{orientation}.jpg", "JPEG", exif=exif, quality=95)
    copy = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    with Image.open(path) as stored:
        expected = np.asarray(ImageOps.exif_transpose(stored).convert("RGB"))
    if orientation == 1:
        assert copy == path
        return
    assert copy.suffix == ".png" and copy.parent == tmp_path / "work"
    got = pixels(copy)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    with Image.open(copy) as written:  # no tag left that would turn it again
        assert written.getexif().get(ORIENTATION_TAG, 1) == 1
    if orientation in (5, 6, 7, 8):
        assert got.shape[:2] == (60, 40)  # turned a quarter: width and height swap


def test_an_adobe_rgb_photo_is_converted_to_srgb(tmp_path) -> None:
    profile = adobe_rgb()
    image = Image.new("RGB", (16, 16), (200, 100, 50))
    path = save(image, tmp_path / "adobe.jpg", "JPEG", icc_profile=profile, quality=100)
    copy = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    assert copy != path
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    with Image.open(path) as stored:
        reference = ImageCms.profileToProfile(stored, source, ImageCms.createProfile("sRGB"))
        expected = np.asarray(reference)
    assert np.array_equal(pixels(copy), expected)
    # Not the raw numbers: red is stronger in sRGB (Ghostscript's a98.icc gives the same).
    assert abs(int(pixels(copy)[8, 8, 0]) - 227) <= 2


def test_sixteen_bit_grey_is_not_shown_white(tmp_path) -> None:
    ramp = (np.arange(64, dtype=np.uint16)[None, :].repeat(8, 0) * 1024).astype(np.uint16)
    grey16 = Image.new("I;16", (64, 8))
    grey16.frombytes(ramp.astype("<u2").tobytes())
    path = save(grey16, tmp_path / "grey16.png", "PNG")
    copy = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    with Image.open(copy) as written:
        assert written.mode == "L"
        got = np.asarray(written)
    assert np.array_equal(got, (ramp.astype(np.uint32) * 255 // 65535).astype(np.uint8))
    assert got.mean() < 200


@pytest.mark.parametrize(
    ("name", "fmt", "options"),
    [
        ("scan.tif", "TIFF", {}),
        ("scan-lzw.tiff", "TIFF", {"compression": "tiff_lzw"}),
        ("paint.bmp", "BMP", {}),
        ("anim.gif", "GIF", {}),
    ],
)
def test_tiff_bmp_and_gif_are_opened_through_a_png_copy(tmp_path, name, fmt, options) -> None:
    image = marked()
    path = save(image if fmt != "GIF" else image.quantize(8), tmp_path / name, fmt, **options)
    copy = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    assert copy.suffix == ".png" and copy.read_bytes().startswith(b"\x89PNG")
    got = pixels(copy)
    assert got.shape == (40, 60, 3) and tuple(got[0, 0]) == (255, 0, 0)


def test_cmyk_jpeg_becomes_rgb(tmp_path) -> None:
    path = save(marked().convert("CMYK"), tmp_path / "print.jpg", "JPEG", quality=100)
    copy = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    got = pixels(copy)
    assert got.shape == (40, 60, 3) and got[0, 0, 0] > 200 and got[0, 0, 1] < 60


def test_each_copy_has_a_name_of_its_own(tmp_path) -> None:
    path = save(marked(), tmp_path / "same.bmp", "BMP")
    first = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    second = working_copy(path, tmp_path / "work", max_pixels=LIMIT)
    assert first != second and first.name.startswith("same-working-")


def test_bad_files_are_refused_naming_the_file(tmp_path) -> None:
    text = tmp_path / "notes.tif"
    text.write_text("not a picture")
    with pytest.raises(ImageFileError, match=r"notes\.tif"):
        working_copy(text, tmp_path / "work", max_pixels=LIMIT)
    big = save(Image.new("L", (300, 200)), tmp_path / "big.tif", "TIFF")
    with pytest.raises(ImageFileError, match=r"big\.tif: 300x200 .* over the 1,000 pixel limit"):
        working_copy(big, tmp_path / "work", max_pixels=1000)
    broken_profile = save(marked(), tmp_path / "profile.jpg", "JPEG", icc_profile=b"garbage" * 20)
    with pytest.raises(ImageFileError, match=r"profile\.jpg: its colour profile is damaged"):
        working_copy(broken_profile, tmp_path / "work", max_pixels=LIMIT)
    with pytest.raises(ImageFileError, match=r"missing\.png: file not found"):
        working_copy(tmp_path / "missing.png", tmp_path / "work", max_pixels=LIMIT)
