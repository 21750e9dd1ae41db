"""What is kept of a result (app.core.original): the original photo read at its own depth,
mode and profile, the sRGB result converted into it and pasted through the mask, written
with the photo's profile, depth and EXIF. Outside the mask every pixel is the photo's own,
bit for bit, at 16 bits too. The corpus is generated (tests/support/photos.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from app.core.composite import paste_alpha
from app.core.imageio import ImageFileError
from app.core.mask import read_mask
from app.core.original import (
    DEFAULT_FEATHER_PX,
    Original,
    losses,
    lossless_format,
    paste_back_file,
    paste_into,
    read_original,
    srgb_into,
    write_original,
)
from app.core.original.colour import MatrixInto
from app.core.original.icc import matrix_shaper, parse_profile, read_curve
from app.core.original.reading import upright
from tests.support import icc, images, photos

LIMIT = 100_000_000
HOLE = (20, 12, 50, 36)  # x0, y0, x1, y1 of the mask's hole, upright
RESULT_COLOUR = (30, 200, 90)
SRGB = ImageCms.createProfile("sRGB")


@pytest.fixture
def result(tmp_path: Path) -> Path:
    """A flat sRGB result of another size and aspect than the photos (the API's)."""
    path = tmp_path / "result.png"
    Image.new("RGB", (64, 40), RESULT_COLOUR).save(path)
    return path


@pytest.fixture
def mask(tmp_path: Path) -> Path:
    width, height = photos.SIZE
    return images.write(tmp_path / "mask.png", images.mask_bytes(width, height, HOLE))


# --- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(photos.BUILDERS))
def test_a_photo_is_read_upright_at_its_own_depth_with_its_profile(tmp_path, name) -> None:
    photo = photos.build(name, tmp_path)
    original = read_original(photo.path, max_pixels=LIMIT)
    assert (original.mode, original.bits, original.size) == (photo.mode, photo.bits, photos.SIZE)
    assert original.pixels.dtype == (np.uint16 if photo.bits == 16 else np.uint8)
    assert np.array_equal(original.pixels, photo.pixels)
    assert original.icc == photo.icc
    if original.exif is not None:
        exif = Image.Exif()
        exif.load(original.exif)
        assert photos.ORIENTATION not in exif


def test_the_exif_is_kept_without_its_orientation(tmp_path) -> None:
    original = read_original(photos.build("turned-6.jpg", tmp_path).path, max_pixels=LIMIT)
    exif = Image.Exif()
    exif.load(original.exif)
    assert exif[photos.MAKE] == "Retouch Test Camera" and photos.ORIENTATION not in exif
    assert original.pixels[0, 0, 0] > 200 and original.pixels[0, 0, 1] < 60  # red corner


@pytest.mark.parametrize("turn", range(1, 9))
def test_upright_turns_as_pillow_does(turn: int) -> None:
    pixels = np.arange(6 * 10 * 3, dtype=np.uint8).reshape(6, 10, 3)
    exif = Image.Exif()
    exif[photos.ORIENTATION] = turn
    image = Image.fromarray(pixels)
    image.info["exif"] = exif.tobytes()
    assert np.array_equal(upright(pixels, turn), np.asarray(ImageOps.exif_transpose(image)))


def test_a_bad_file_is_refused_naming_it(tmp_path) -> None:
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 40)
    with pytest.raises(ImageFileError, match=r"broken\.tif"):
        read_original(bad, max_pixels=LIMIT)
    with pytest.raises(ImageFileError, match=r"missing\.png: file not found"):
        read_original(tmp_path / "missing.png", max_pixels=LIMIT)


# --- the ICC parser and the float conversion ------------------------------------------------


def test_little_cms_srgb_profile_parses_as_a_matrix_shaper() -> None:
    data = ImageCms.ImageCmsProfile(SRGB).tobytes()
    profile = parse_profile(data)
    assert (profile.colour_space, profile.pcs) == (b"RGB ", b"XYZ ")
    shaper = matrix_shaper(data)
    assert shaper is not None
    # Its colorants sum to the D50 white, and its curve is IEC 61966-2-1's (type 3 or 4).
    assert np.allclose(shaper.matrix.sum(axis=1), icc.D50, atol=2e-3)
    curve = read_curve(profile.tags[b"rTRC"])
    assert curve.kind == "para" and curve.function in (3, 4)
    encoded = curve.inverse(np.array([0.0, 0.002, 0.214, 1.0], np.float32))
    assert np.allclose(encoded, [0.0, 0.002 * 12.92, 0.5, 1.0], atol=2e-3)


def test_a_cmyk_or_lut_profile_is_not_taken_for_a_matrix_shaper() -> None:
    assert matrix_shaper(icc.cmyk()) is None
    assert matrix_shaper(b"not a profile at all" * 10) is None


def _grid(step: int) -> np.ndarray:
    levels = np.arange(0, 256, step, dtype=np.uint8)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return np.ascontiguousarray(cube.reshape(-1, levels.size, 3))


@pytest.mark.parametrize("profile", [icc.adobe_rgb(), icc.prophoto()], ids=["adobe", "romm"])
def test_the_16_bit_path_agrees_with_little_cms_within_one_level(profile: bytes) -> None:
    shaper = matrix_shaper(profile)
    assert shaper is not None
    pixels = _grid(5)
    ours = np.rint(np.rint(MatrixInto(shaper)(pixels)) / 257)  # 16 bits, then 8
    # little-cms unoptimised: its default 8-bit pipeline approximates the steep inverse
    # curve near black and strays up to 3 levels from the exact value there.
    reference = ImageCms.profileToProfile(
        Image.fromarray(pixels), SRGB, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, flags=ImageCms.Flags.NOOPTIMIZE,
    )  # fmt: skip
    assert np.abs(ours - np.asarray(reference)).max() <= 1


def test_a_table_curve_inverts_like_the_gamma_it_samples() -> None:
    gamma = 563 / 256
    table = np.linspace(0, 1, 1024) ** gamma
    by_table = matrix_shaper(icc.matrix_profile("table", icc.ADOBE_RGB, table))
    by_gamma = matrix_shaper(icc.adobe_rgb())
    assert by_table is not None and by_gamma is not None
    assert by_table.curves[0].kind == "table"
    pixels = _grid(15)
    difference = np.abs(MatrixInto(by_table)(pixels) - MatrixInto(by_gamma)(pixels))
    assert difference.max() < 257  # under one 8-bit level on the 16-bit scale


# --- pasting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(photos.BUILDERS))
def test_paste_back_keeps_every_pixel_outside_the_mask(tmp_path, name, result, mask) -> None:
    photo = photos.build(name, tmp_path / "in")
    (tmp_path / "out").mkdir()
    written = paste_back_file(photo.path, result, mask, 2.0, tmp_path / "out", max_pixels=LIMIT)
    expected_suffix = ".tif" if photo.mode == "CMYK" else ".png"
    assert written == tmp_path / "out" / f"result-pasted{expected_suffix}"
    pixels = photos.reread(written)
    assert pixels.shape == photo.pixels.shape and pixels.dtype == photo.pixels.dtype  # upright
    outside = read_mask(mask, photos.SIZE, mode="alpha") == 0
    assert np.array_equal(pixels[outside], photo.pixels[outside])  # bit for bit
    # Inside, full strength at the hole's centre: the result in the photo's own space.
    original = read_original(photo.path, max_pixels=LIMIT)
    colour = np.array([[RESULT_COLOUR]], np.uint8)
    converted = np.rint(srgb_into(original)(colour)).reshape(-1)
    centre = pixels[24, 35].reshape(-1)[: converted.size]
    assert np.array_equal(centre, converted.astype(centre.dtype))
    assert not np.array_equal(pixels[~outside], photo.pixels[~outside])
    with Image.open(written) as image:
        assert image.info.get("icc_profile") == photo.icc
        assert photos.ORIENTATION not in image.getexif()


def test_paste_back_writes_the_exif_and_depth_of_a_turned_16_bit_tiff(tmp_path, result, mask):
    photo = photos.build("adobe-16-turned.tif", tmp_path)
    written = paste_back_file(photo.path, result, mask, 4.0, tmp_path, max_pixels=LIMIT)
    with Image.open(written) as image:
        assert image.getexif()[photos.MAKE] == "Retouch Test Camera"
        assert photos.ORIENTATION not in image.getexif()
    assert photos.reread(written)[0, 0].tolist() == [65535, 0, 0]  # the red corner, top left


def test_an_srgb_red_pasted_into_adobe_rgb_reads_back_as_srgb_red(tmp_path, mask) -> None:
    red = tmp_path / "red.png"
    Image.new("RGB", photos.SIZE, (255, 0, 0)).save(red)
    for name in ("adobe-8.png", "prophoto-16.png"):
        photo = photos.build(name, tmp_path / name)
        written = paste_back_file(photo.path, red, mask, 0.0, tmp_path / name, max_pixels=LIMIT)
        stored = photos.reread(written)[24:26, 30:40]
        assert stored[..., 1].max() > 0 or name == "adobe-8.png"  # not the raw numbers
        eight = np.rint(stored / 257).astype(np.uint8) if stored.dtype == np.uint16 else stored
        source = ImageCms.ImageCmsProfile(io.BytesIO(photo.icc))
        seen = np.asarray(ImageCms.profileToProfile(Image.fromarray(eight), source, SRGB))
        assert np.abs(seen.astype(int) - (255, 0, 0)).max() <= 3, name


def test_paste_into_blends_at_16_bits_and_is_exact_where_the_weight_is_0() -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 65536, (40, 64, 4), dtype=np.uint16)
    original = Original(pixels, "RGBA", 16, None, None, "PNG", (64, 40))
    result = np.zeros((40, 64, 4), np.uint8)
    result[...] = (255, 255, 255, 255)
    weight = np.zeros((40, 64), np.float32)
    weight[10:20, 10:30] = 1.0
    weight[20:30, 10:30] = 0.5
    pasted = paste_into(original, result, weight)
    assert np.array_equal(pasted[weight == 0], pixels[weight == 0])
    assert (pasted[10:20, 10:30] == 65535).all()
    half = (pixels[20:30, 10:30].astype(np.float64) + 65535) / 2
    assert np.abs(pasted[20:30, 10:30] - half).max() <= 0.5 + 1e-6  # no 8-bit steps


def test_paste_into_refuses_a_result_of_another_size() -> None:
    original = Original(np.zeros((4, 6, 3), np.uint8), "RGB", 8, None, None, "PNG", (6, 4))
    with pytest.raises(ValueError, match="fit_to"):
        paste_into(original, np.zeros((5, 6, 3), np.uint8), np.zeros((4, 6), np.float32))


def test_without_a_mask_the_whole_result_is_converted(tmp_path, result) -> None:
    photo = photos.build("prophoto-16.png", tmp_path)
    written = paste_back_file(photo.path, result, None, 4.0, tmp_path / "whole", max_pixels=LIMIT)
    assert written == tmp_path / "whole.png"
    pixels = photos.reread(written)
    assert pixels.dtype == np.uint16 and (pixels == pixels[0, 0]).all()
    with Image.open(written) as image:
        assert image.info["icc_profile"] == icc.prophoto()


# --- writing ----------------------------------------------------------------------------------


def _original(tmp_path: Path, name: str) -> Original:
    return read_original(photos.build(name, tmp_path).path, max_pixels=LIMIT)


def test_png_refuses_cmyk_and_names_tif(tmp_path) -> None:
    original = _original(tmp_path, "cmyk-profile.jpg")
    assert lossless_format(original) == "tiff"
    with pytest.raises(ValueError, match=r"\.tif"):
        write_original(tmp_path / "x.png", original.pixels, original, "png")


def test_jpeg_flattens_transparency_on_white_and_keeps_cmyk(tmp_path) -> None:
    original = _original(tmp_path, "grey-alpha-16.png")
    pixels = original.pixels.copy()
    pixels[:4, :4, 1] = 0  # fully transparent
    written = write_original(tmp_path / "flat.jpg", pixels, original, "jpeg")
    with Image.open(written) as image:
        assert image.mode == "L" and np.asarray(image)[:3, :3].min() >= 250
    cmyk = _original(tmp_path, "cmyk-profile.jpg")
    written = write_original(tmp_path / "cmyk.jpg", cmyk.pixels, cmyk, "jpeg")
    with Image.open(written) as image:
        assert image.mode == "CMYK" and image.info["icc_profile"] == icc.cmyk()


def test_webp_and_jpeg_are_8_bit_with_the_profile_and_exif(tmp_path) -> None:
    original = _original(tmp_path, "prophoto-16.png")
    for fmt in ("jpeg", "webp"):
        written = write_original(tmp_path / f"out.{fmt}", original.pixels, original, fmt)
        with Image.open(written) as image:
            assert image.mode == "RGB" and image.info["icc_profile"] == icc.prophoto()
            assert image.getexif()[photos.MAKE] == "Retouch Test Camera"
            eight = np.asarray(image).astype(int)
        assert np.abs(eight - original.pixels / 257).mean() < 3
    cmyk = _original(tmp_path, "cmyk-profile.jpg")
    written = write_original(tmp_path / "cmyk.webp", cmyk.pixels, cmyk, "webp")
    with Image.open(written) as image:
        assert image.mode == "RGB"


def test_16_bit_tiff_and_png_keep_the_depth_and_profile(tmp_path) -> None:
    for name in ("adobe-16-turned.tif", "grey-16.png", "grey-alpha-16.png"):
        original = _original(tmp_path, name)
        for fmt in ("png", "tiff"):
            written = write_original(tmp_path / f"{name}.{fmt}", original.pixels, original, fmt)
            if original.mode == "LA" and fmt == "tiff":  # Pillow cannot open this one
                assert np.array_equal(tifffile.imread(written), original.pixels)
                continue
            back = read_original(written, max_pixels=LIMIT)
            assert back.mode == original.mode and back.bits == 16
            assert np.array_equal(back.pixels, original.pixels), (name, fmt)
            assert back.icc == original.icc


def test_losses_say_what_each_format_gives_up(tmp_path) -> None:
    deep = _original(tmp_path, "prophoto-16.png")
    alpha = _original(tmp_path, "rgba.png")
    cmyk = _original(tmp_path, "cmyk.jpg")
    plain = _original(tmp_path, "adobe-8.png")
    assert losses(plain, "png") == losses(deep, "png") == losses(cmyk, "tiff") == []
    assert losses(alpha, "tif") == losses(deep, ".TIFF") == []
    assert "16-bit depth becomes 8-bit" in losses(deep, "jpeg")
    assert "16-bit depth becomes 8-bit" in losses(deep, "webp")
    assert "transparency is flattened onto white" in losses(alpha, "jpg")
    assert "transparency is flattened onto white" not in losses(alpha, "webp")
    assert "CMYK is converted to RGB" in losses(cmyk, "webp")
    assert "CMYK is converted to RGB" not in losses(cmyk, "jpeg")
    assert "JPEG compression changes pixels outside the mask too" in losses(plain, "jpeg")
    assert any("TIFF" in loss for loss in losses(cmyk, "png"))
    turned = _original(tmp_path, "adobe-16-turned.tif")
    assert losses(turned, "tiff") == []  # its EXIF is text tags only
    with pytest.raises(ValueError, match="PNG, TIFF, JPEG or WebP"):
        losses(plain, "gif")


def test_the_default_feather_is_the_editors() -> None:
    from app.models.settings import FEATHER_PX

    assert FEATHER_PX.default == DEFAULT_FEATHER_PX


def test_the_weight_of_a_feathered_mask_leaves_the_border_exact(tmp_path, mask) -> None:
    coverage = read_mask(mask, photos.SIZE, mode="alpha")
    weight = paste_alpha(coverage, 8.0)
    assert (weight[coverage == 0] == 0).all() and 0 < weight.max() <= 1
