"""Photos as phones and cameras write them (a generated corpus): turned by EXIF, tagged with
Adobe RGB, 16-bit, TIFF, BMP, GIF, CMYK, HEIC, AVIF. Each becomes an upright 8-bit sRGB
working copy; a file that can be sent as it is stays itself. How many pixels open depends
on this machine's memory (app.core.limits): 100 MP always, a 60000x60000 header never."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps, features

from app.core import limits, photo
from app.core.imageio import ImageFileError
from app.core.limits import open_pixel_limit
from app.core.photo import ORIENTATION_TAG, open_photo, working_copy
from tests.support import images
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


# --- HEIC, AVIF, large and hostile files (issue 12, the opening side) ---------------------


def _turned_exif(value: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = value
    return exif


def _save_or_skip(image: Image.Image, path: Path, fmt: str, **options) -> Path:
    """Write with an encoder this installation may lack: skip (with why) when it does."""
    try:
        image.save(path, fmt, **options)
    except (OSError, KeyError, ValueError) as exc:
        pytest.skip(f"no {fmt} encoder here ({exc})")
    return path


def _close(got: np.ndarray, expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(got, expected, strict=True))


def test_a_heic_photo_opens_upright_with_its_colours(tmp_path) -> None:
    if photo.pillow_heif is None:
        pytest.skip("pillow-heif is not installed")
    turned = marked().transpose(Image.Transpose.ROTATE_90)  # stored as a phone held sideways
    path = _save_or_skip(
        turned, tmp_path / "iphone.heic", "HEIF", quality=100, exif=_turned_exif(6).tobytes()
    )
    copy = working_copy(path, tmp_path / "work")
    assert copy != path and copy.suffix == ".png"
    got = pixels(copy)
    assert got.shape == (40, 60, 3)  # upright again: 60 wide, red corner top left
    assert _close(got[2, 2], (255, 0, 0)) and _close(got[30, 40], (40, 90, 160))


def test_an_avif_picture_opens_upright_with_its_colours(tmp_path) -> None:
    if not features.check("avif"):
        pytest.skip("this Pillow reads no AVIF")
    turned = marked().transpose(Image.Transpose.ROTATE_90)
    path = _save_or_skip(turned, tmp_path / "web.avif", "AVIF", quality=100, exif=_turned_exif(6))
    copy = working_copy(path, tmp_path / "work")
    assert copy != path and copy.suffix == ".png"
    got = pixels(copy)
    assert got.shape == (40, 60, 3)
    assert _close(got[2, 2], (255, 0, 0)) and _close(got[30, 40], (40, 90, 160))


def test_heic_without_pillow_heif_is_refused_saying_what_to_install(tmp_path, monkeypatch) -> None:
    # A HEIC file's first bytes: a box size, "ftyp", the brand "heic".
    path = images.write(tmp_path / "IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic" + bytes(64))
    monkeypatch.setattr(photo, "pillow_heif", None)
    with pytest.raises(ImageFileError, match=r"IMG_0001\.HEIC: a HEIC/HEIF photo.*pillow-heif"):
        working_copy(path, tmp_path / "work")


def test_a_100_megapixel_photo_is_within_the_open_limit(tmp_path) -> None:
    assert open_pixel_limit() >= 100_000_000
    path = images.write(tmp_path / "medium-format.png", images.png_bomb(10000, 10000))
    with open_photo(path) as image:  # the header only: nothing is decoded
        assert image.size == (10000, 10000)


def test_a_60000_pixel_square_header_is_refused_naming_the_file(tmp_path) -> None:
    path = images.write(tmp_path / "bomb.png", images.png_bomb(60000, 60000))
    limit = open_pixel_limit()
    with pytest.raises(ImageFileError) as raised:
        working_copy(path, tmp_path / "work")
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "3,600,000,000 pixels" in message
    assert f"this machine's memory allows at most {limit:,} pixels" in message
    assert raised.value.code == "image_too_large"
    assert limit == Image.MAX_IMAGE_PIXELS  # Pillow's own bomb check agrees


GIB = 1024**3


def test_the_open_limit_follows_memory_and_the_cgroup_within_its_bounds(tmp_path) -> None:
    assert limits.pixel_limit_for(16 * GIB) == 16 * GIB // 2 // 32  # 268 MP
    assert limits.pixel_limit_for(64 * GIB, 8 * GIB) == 8 * GIB // 2 // 32  # the container's
    assert limits.pixel_limit_for(64 * GIB, 2 * GIB) == 100_000_000  # floor: 100 MP opens
    assert limits.pixel_limit_for(4 * 1024 * GIB) == 1_000_000_000  # ceiling: 1 GP
    assert limits.pixel_limit_for(None, None) == 100_000_000
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("max\n")
    assert limits.cgroup_memory_limit(v2) is None
    (v2 / "memory.max").write_text(f"{6 * GIB}\n")
    assert limits.cgroup_memory_limit(v2) == 6 * GIB
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{3 * GIB}\n")
    assert limits.cgroup_memory_limit(v1) == 3 * GIB
    assert limits.cgroup_memory_limit(tmp_path / "none") is None


def test_a_truncated_tiff_says_it_is_damaged_naming_the_file(tmp_path) -> None:
    whole = images.encode(marked(600, 400), "TIFF")
    path = images.write(tmp_path / "scan.tif", images.truncated(whole, 0.5))
    with pytest.raises(ImageFileError, match=r"scan\.tif: cannot be decoded .*copy or export"):
        working_copy(path, tmp_path / "work")


def test_a_corrupt_profile_in_a_tiff_is_named(tmp_path) -> None:
    path = save(marked(), tmp_path / "tagged.tif", "TIFF", icc_profile=b"\x00\x01junk" * 40)
    with pytest.raises(ImageFileError, match=r"tagged\.tif: its colour profile is damaged"):
        working_copy(path, tmp_path / "work")


@pytest.mark.parametrize("value", [0, 9, 300])
def test_a_bogus_exif_orientation_is_taken_as_upright(tmp_path, value: int) -> None:
    jpeg = save(marked(), tmp_path / f"odd-{value}.jpg", "JPEG", exif=_turned_exif(value))
    assert working_copy(jpeg, tmp_path / "work") == jpeg  # sendable as it is, not turned
    tiff = save(marked(), tmp_path / f"odd-{value}.tif", "TIFF", exif=_turned_exif(value))
    got = pixels(working_copy(tiff, tmp_path / "work"))
    assert got.shape == (40, 60, 3) and tuple(got[0, 0]) == (255, 0, 0)
