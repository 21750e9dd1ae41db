"""Crop to mask from the photo to the request and back (app.core.cropping and the
region-aware paste of app.core.original.paste): the files sent for a region, results
scaled to it, pasted into the full-resolution photo in its own profile, depth and mode
(exact outside the mask, feathered right at the region's border), and the drift there."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.core.composite import DRIFT_BAND_PX, paste_alpha
from app.core.cropping import (
    CONTEXT_SIDE,
    context_image,
    drift_band,
    encode_crop,
    paste_region,
    paste_region_file,
    prepare_crop,
    region_drift,
    region_weight,
    result_to_region,
    sent_drift,
    working_pixels,
)
from app.core.mask import to_api_png
from app.core.original import paste_into, read_original
from app.core.region import Rect, crop, crop_mask, place_back, plan_for_coverage
from app.core.schema import load_schema
from tests.support import photos

SCHEMA = load_schema()
LIMIT = 1 << 30
REGION = Rect(14, 8, 44, 32)  # inside the 72x48 corpus photos
HOLE = (24, 16, 46, 32)  # x0, y0, x1, y1: inside REGION, 4+ px from its border


def coverage_with(size: tuple[int, int], hole=HOLE, soft: bool = True) -> np.ndarray:
    coverage = np.zeros((size[1], size[0]), np.uint8)
    x0, y0, x1, y1 = hole
    coverage[y0:y1, x0:x1] = 255
    if soft:  # a soft edge, as a brush leaves
        coverage[y0 - 1, x0:x1] = 90
        coverage[y0:y1, x1] = 40
    return coverage


def random_result(shape: tuple[int, int], channels: int = 3, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (*shape, channels), dtype=np.uint8)


def plan_for(size: tuple[int, int], coverage: np.ndarray, model: str = "gpt-image-1"):
    plan = plan_for_coverage(coverage, SCHEMA.rules_for(model), max_pixels=SCHEMA.files.max_pixels)
    assert plan is not None and plan.photo == size
    return plan


# --- the weight: exactly paste_alpha's, from the region and a margin ----------------------


@st.composite
def masks_and_regions(draw):
    width, height = draw(st.integers(8, 90)), draw(st.integers(8, 90))
    coverage = np.zeros((height, width), np.uint8)
    for _ in range(draw(st.integers(1, 4))):
        centre = (draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1)))
        radius, level = draw(st.integers(1, 30)), draw(st.integers(1, 255))
        cv2.circle(coverage, centre, radius, level, -1)
    x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
    region = Rect(x, y, draw(st.integers(1, width - x)), draw(st.integers(1, height - y)))
    feather = draw(st.sampled_from([0.0, 0.5, 1.0, 2.5, 4.0, 7.0, 16.0]))
    return coverage, region, feather


@settings(max_examples=150, deadline=None)
@given(masks_and_regions())
def test_the_region_weight_is_the_whole_masks_weight_there(case) -> None:
    coverage, region, feather = case
    whole = paste_alpha(coverage, feather)[region.slices]
    assert np.array_equal(region_weight(coverage, region, feather), whole)


def test_the_feather_starts_at_the_region_border_that_is_the_masks_edge() -> None:
    """Padding 0: the region is the mask's box, so its border is the mask's own edge.
    Feathering the cropped coverage alone would take that border for the picture's and
    paste at full strength up to it; the region weight ramps in from it."""
    coverage = coverage_with((72, 48), soft=False)
    box = Rect(24, 16, 22, 16)
    weight = region_weight(coverage, box, 4.0)
    assert weight.shape == (16, 22)
    assert weight[0, 11] < 0.2 and weight[11, 0] < 0.2 and weight[-1, -1] < 0.2
    assert weight[8, 11] == 1.0  # the middle, farther than the feather from every edge
    naive = paste_alpha(np.ascontiguousarray(coverage[box.slices]), 4.0)
    assert naive[0, 11] == 1.0  # what the region weight avoids


def test_a_region_at_the_photos_edge_keeps_the_mask_full_there() -> None:
    coverage = coverage_with((72, 48), hole=(0, 0, 20, 20), soft=False)
    weight = region_weight(coverage, Rect(0, 0, 30, 30), 4.0)
    assert weight[0, 0] == 1.0  # the picture's own border is no edge, as in paste_alpha
    assert weight[19, 5] < 0.2  # the mask's inner edge is


# --- pasting a region's result into the photo ------------------------------------------------


@pytest.mark.parametrize("name", sorted(photos.BUILDERS))
def test_a_region_pasted_is_exactly_the_whole_size_paste(tmp_path: Path, name: str) -> None:
    """For every kind of photo (8/16-bit, Adobe RGB, ProPhoto, CMYK with and without a
    profile, grey, alpha, palette, EXIF-turned): the region's result pasted at its place
    is bit for bit what pasting it at the photo's full size gives, and every pixel outside
    the mask is the photo's own."""
    photo = photos.build(name, tmp_path)
    original = read_original(photo.path, max_pixels=LIMIT)
    coverage = coverage_with(original.size)
    channels = 4 if original.has_alpha else 3
    result = random_result((REGION.height, REGION.width), channels)
    full = np.zeros((original.size[1], original.size[0], channels), np.uint8)
    full[REGION.slices] = result
    expected = paste_into(original, full, paste_alpha(coverage, 3.0))
    pasted = paste_region(original, result, REGION, region_weight(coverage, REGION, 3.0))
    assert pasted.dtype == original.pixels.dtype and pasted.shape == original.pixels.shape
    assert np.array_equal(pasted, expected)
    outside = coverage == 0
    assert np.array_equal(pasted[outside], original.pixels[outside])
    assert not np.array_equal(pasted[~outside], original.pixels[~outside])


def test_pasting_into_out_writes_there_and_nowhere_else(tmp_path: Path) -> None:
    photo = photos.build("prophoto-16.png", tmp_path)
    original = read_original(photo.path, max_pixels=LIMIT)
    coverage = coverage_with(original.size)
    result = random_result((REGION.height, REGION.width))
    weight = region_weight(coverage, REGION, 2.0)
    out = original.pixels.copy()
    returned = paste_region(original, result, REGION, weight, out=out)
    assert returned is out
    assert np.array_equal(out, paste_region(original, result, REGION, weight))
    with pytest.raises(ValueError, match="out must be"):
        paste_region(original, result, REGION, weight, out=out.astype(np.uint8))


def test_a_result_not_at_the_regions_size_is_refused_with_the_way_out(tmp_path: Path) -> None:
    original = read_original(photos.build("adobe-8.png", tmp_path).path, max_pixels=LIMIT)
    weight = np.zeros((REGION.height, REGION.width), np.float32)
    with pytest.raises(ValueError, match="result_to_region"):
        paste_region(original, random_result((10, 10)), REGION, weight)
    with pytest.raises(ValueError, match="not inside"):
        paste_region(original, random_result((32, 44)), Rect(60, 8, 44, 32), weight)
    with pytest.raises(ValueError, match="weight must be"):
        paste_region(original, random_result((32, 44)), REGION, weight[:-1])


# --- results scaled to the region ------------------------------------------------------------


def test_a_result_of_any_size_is_scaled_to_the_region() -> None:
    coverage = coverage_with((2400, 1600), hole=(1000, 600, 1400, 900))
    plan = plan_for((2400, 1600), coverage)
    big = random_result((plan.output[1], plan.output[0]))
    placed = result_to_region(big, plan)
    assert placed.shape == (plan.region.height, plan.region.width, 3)
    odd = result_to_region(random_result((1024, 1024)), plan)  # a size not asked for
    assert odd.shape == placed.shape
    assert result_to_region(big, tuple(plan.region)).shape == placed.shape
    flat = np.full((1024, 1536, 3), 77, np.uint8)
    assert (result_to_region(flat, Rect(0, 0, 5000, 3000)) == 77).all()  # enlarged
    assert (result_to_region(flat, Rect(0, 0, 300, 200)) == 77).all()  # reduced


def test_crop_fake_edit_paste_leaves_everything_outside_the_mask_exact() -> None:
    rng = np.random.default_rng(8)
    pixels = rng.integers(0, 256, (900, 1300, 3), dtype=np.uint8)
    coverage = coverage_with((1300, 900), hole=(700, 300, 900, 420))
    plan = plan_for((1300, 900), coverage)
    sent = crop(pixels, plan.region, plan.output)
    edited = 255 - sent  # the model redraws everything, the hole and the rest
    placed = result_to_region(edited, plan)
    original = _original(pixels)
    pasted = paste_region(original, placed, plan.region, region_weight(coverage, plan.region, 4))
    assert np.array_equal(pasted[coverage == 0], pixels[coverage == 0])
    middle = pasted[340:380, 760:840].astype(int)
    assert abs(middle.mean() - (255 - pixels[340:380, 760:840].astype(int)).mean()) < 20


def _original(pixels: np.ndarray):
    from app.core.original import Original

    height, width = pixels.shape[:2]
    return Original(pixels, "RGB", 8, None, None, "PNG", (width, height))


# --- the files sent ---------------------------------------------------------------------------


def _decoded(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


@pytest.mark.parametrize("name", ["adobe-8.png", "cmyk-profile.jpg", "turned-6.jpg"])
def test_the_crop_sent_is_the_working_pixels_region_at_the_planned_size(
    tmp_path: Path, name: str
) -> None:
    photo = photos.build(name, tmp_path / "in")
    pixels = working_pixels(photo.path)
    assert pixels.shape[:2] == (48, 72) and pixels.dtype == np.uint8  # upright 8-bit
    coverage = coverage_with((72, 48))
    plan = plan_for((72, 48), coverage)
    files = prepare_crop(photo.path, coverage, plan, tmp_path / "work")
    assert files.size == plan.output and files.context is None
    assert files.image.suffix == ".png" and files.image.parent == tmp_path / "work"
    sent = np.asarray(_decoded(files.image).convert("RGB"))
    assert np.array_equal(sent, crop(pixels, plan.region, plan.output))  # lossless
    mask = _decoded(files.mask)
    assert mask.size == plan.output
    alpha = np.asarray(mask.getchannel("A"))
    assert np.array_equal(alpha == 0, crop_mask(coverage, plan.region, plan.output) >= 128)
    assert np.array_equal(files.pixels, sent)
    assert np.array_equal(files.coverage, crop_mask(coverage, plan.region, plan.output))


def test_a_crop_over_the_byte_limit_is_sent_as_jpeg_and_the_context_downscaled(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    coverage = coverage_with((2000, 1500), hole=(900, 600, 1100, 800))
    plan = plan_for((2000, 1500), coverage)
    files = prepare_crop(pixels, coverage, plan, tmp_path, max_bytes=200_000, context_side=512)
    assert files.image.suffix == ".jpg" and _decoded(files.image).size == plan.output
    assert files.context is not None and _decoded(files.context).size == (512, 384)
    names = {files.image.name, files.mask.name, files.context.name}
    again = prepare_crop(pixels, coverage, plan, tmp_path, max_bytes=200_000)
    assert not names & {again.image.name, again.mask.name}  # never overwritten


def test_prepare_crop_refuses_a_mask_or_plan_for_another_photo(tmp_path: Path) -> None:
    pixels = np.zeros((400, 600, 3), np.uint8)
    coverage = coverage_with((600, 400))
    plan = plan_for((600, 400), coverage)
    with pytest.raises(ValueError, match="must agree"):
        prepare_crop(pixels[:300], coverage, plan, tmp_path)


def test_the_context_image_is_the_whole_photo_at_most_max_side() -> None:
    pixels = np.full((3000, 4000, 3), 50, np.uint8)
    assert context_image(pixels).shape == (768, CONTEXT_SIDE, 3)
    assert context_image(pixels, 300).shape == (225, 300, 3)
    small = np.zeros((100, 80, 4), np.uint8)
    assert context_image(small) is small  # never enlarged
    with pytest.raises(ValueError):
        context_image(pixels, 0)


# --- drift inside the region, outside the mask ------------------------------------------------


def test_drift_counts_the_regions_pixels_outside_the_mask_only() -> None:
    rng = np.random.default_rng(4)
    photo = rng.integers(40, 200, (400, 600, 3), dtype=np.uint8)
    coverage = coverage_with((600, 400), hole=(250, 150, 350, 250), soft=False)
    region = Rect(150, 50, 300, 300)
    same = photo[region.slices].copy()
    assert region_drift(photo, same, coverage, region).share == 0.0
    inside = same.copy()
    inside[100:200, 100:200] = 0  # the hole itself: not drift
    assert region_drift(photo[region.slices], inside, coverage, region).share == 0.0
    drifted = same.copy()
    drifted[:60] = 255 - drifted[:60]  # a band across the top of the region, outside the hole
    found = region_drift(photo, drifted, coverage, region)
    measured = 300 * 300 - 104 * 104  # less the hole and its 2 px band
    assert found.share == pytest.approx(60 * 300 / measured, rel=0.02)
    assert found.heat.shape == (300, 300)
    with pytest.raises(ValueError, match="region's"):
        region_drift(photo[:10], same, coverage, region)


def test_drift_at_the_size_sent_counts_outside_the_mask_sent(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    pixels = rng.integers(40, 200, (1200, 1800, 3), dtype=np.uint8)
    coverage = coverage_with((1800, 1200), hole=(800, 500, 1000, 650))
    plan = plan_for((1800, 1200), coverage)
    files = prepare_crop(pixels, coverage, plan, tmp_path)
    redrawn = files.pixels.copy()
    redrawn[files.coverage > 0] = 0  # the edit itself
    assert sent_drift(files, redrawn).share == 0.0
    redrawn[: plan.output[1] // 4] = 255 - redrawn[: plan.output[1] // 4]  # drift
    assert sent_drift(files, redrawn).share == pytest.approx(0.25, abs=0.03)
    other_size = cv2.resize(redrawn, (1024, 1024), interpolation=cv2.INTER_AREA)
    assert sent_drift(files, other_size).share == pytest.approx(0.25, abs=0.05)


def test_a_transparent_crop_over_the_byte_limit_goes_as_webp() -> None:
    rng = np.random.default_rng(9)
    rgba = rng.integers(0, 256, (300, 400, 4), dtype=np.uint8)
    data, suffix = encode_crop(rgba, 1 << 30)
    assert suffix == ".png"
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(np.asarray(image), rgba)  # lossless, channels in order
    data, suffix = encode_crop(rgba, 10_000)
    assert suffix == ".webp" and data[8:12] == b"WEBP"


def test_the_drift_band_widens_with_the_upscaling_of_a_reduced_region() -> None:
    coverage = coverage_with((8000, 6000), hole=(1000, 1000, 5000, 4000))
    reduced = plan_for((8000, 6000), coverage)
    assert reduced.scale < 0.5 and drift_band(reduced) > DRIFT_BAND_PX
    small = plan_for((600, 400), coverage_with((600, 400), hole=(200, 100, 300, 200)))
    assert small.scale > 1 and drift_band(small) == DRIFT_BAND_PX


# --- from files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["adobe-16-turned.tif", "cmyk-profile.jpg", "rgba.png"])
def test_paste_region_file_writes_the_full_photo_in_its_own_space(
    tmp_path: Path, name: str
) -> None:
    photo = photos.build(name, tmp_path / "in")
    coverage = coverage_with(photos.SIZE, soft=False)  # an API mask file has no soft edge
    mask = tmp_path / "mask.png"
    mask.write_bytes(to_api_png(coverage))
    result = tmp_path / "result.png"
    Image.fromarray(random_result((1024, 1536))).save(result)  # the size sent, not the region's
    written = paste_region_file(photo.path, result, mask, REGION, 3.0, tmp_path, max_pixels=LIMIT)
    suffix = ".tif" if photo.mode == "CMYK" else ".png"
    assert written == tmp_path / f"result-pasted{suffix}"
    pixels = photos.reread(written)
    assert pixels.shape == photo.pixels.shape and pixels.dtype == photo.pixels.dtype
    outside = coverage == 0
    assert np.array_equal(pixels[outside], photo.pixels[outside])
    assert not np.array_equal(pixels[~outside], photo.pixels[~outside])
    with Image.open(written) as image:
        assert image.info.get("icc_profile") == photo.icc
    # The coverage given as an array pastes the same pixels.
    again = paste_region_file(
        photo.path, result, coverage, REGION, 3.0, tmp_path / "again.png", max_pixels=LIMIT
    )
    assert np.array_equal(photos.reread(again), pixels)


def test_paste_region_file_refuses_a_mask_of_another_size(tmp_path: Path) -> None:
    photo = photos.build("adobe-8.png", tmp_path)
    result = tmp_path / "r.png"
    Image.fromarray(random_result((32, 44))).save(result)
    with pytest.raises(ValueError, match="the mask is 10x10"):
        paste_region_file(
            photo.path, result, np.zeros((10, 10), np.uint8), REGION, 2, tmp_path,
            max_pixels=LIMIT,
        )  # fmt: skip


def test_place_back_and_result_to_region_agree() -> None:
    result = random_result((1024, 1536))
    region = Rect(10, 20, 700, 466)
    assert np.array_equal(result_to_region(result, region), place_back(result, region))
