"""Compare, drift and paste-back math (app.core.composite), without Qt."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.core import composite
from app.core.composite import DRIFT_THRESHOLD, Drift, Fitted
from app.core.imageio import ImageFileError
from app.core.mask import Box, feathered
from tests.support.images import corrupt, gradient, png_bytes


def noisy(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A textured picture: a gradient with grain, so that every pixel is different."""
    rng = np.random.default_rng(seed)
    base = np.asarray(gradient(width, height), np.int16)
    if channels == 4:
        base = np.dstack([base, np.full((height, width), 200, np.int16)])
    grain = rng.integers(-20, 21, base.shape, dtype=np.int16)
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def square_mask(height: int, width: int, box: Box) -> np.ndarray:
    coverage = np.zeros((height, width), np.uint8)
    coverage[box.slices] = 255
    return coverage


# --- difference_heat ----------------------------------------------------------------------------


def test_difference_heat_is_zero_for_identical_images() -> None:
    image = noisy(30, 40)
    heat = composite.difference_heat(image, image.copy())
    assert heat.shape == (30, 40)
    assert heat.dtype == np.uint8
    assert not heat.any()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), channels=st.sampled_from([3, 4]))
def test_difference_heat_is_the_largest_channel_difference(seed: int, channels: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (7, 9, channels), dtype=np.uint8)
    b = rng.integers(0, 256, (7, 9, channels), dtype=np.uint8)
    expected = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
    np.testing.assert_array_equal(composite.difference_heat(a, b), expected)
    np.testing.assert_array_equal(composite.difference_heat(b, a), expected)


def test_difference_heat_counts_one_channel_in_full() -> None:
    a = np.full((4, 4, 3), 100, np.uint8)
    b = a.copy()
    b[1, 2, 0] = 250  # a red dot on grey
    heat = composite.difference_heat(a, b)
    assert heat[1, 2] == 150
    assert heat.sum() == 150


def test_difference_heat_counts_alpha_only_when_both_have_it() -> None:
    rgba = np.full((2, 2, 4), 255, np.uint8)
    clearer = rgba.copy()
    clearer[0, 0, 3] = 0
    assert composite.difference_heat(rgba, clearer)[0, 0] == 255
    assert not composite.difference_heat(rgba[..., :3].copy(), clearer).any()


def test_difference_heat_refuses_other_sizes_and_types() -> None:
    with pytest.raises(ValueError, match=r"same size.*fit_to"):
        composite.difference_heat(noisy(10, 10), noisy(10, 12))
    with pytest.raises(ValueError, match="uint8 image"):
        composite.difference_heat(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8 image"):
        composite.difference_heat(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8))


# --- heat_to_rgba -------------------------------------------------------------------------------


def test_heat_to_rgba_shape_and_zero() -> None:
    heat = np.zeros((5, 6), np.uint8)
    rgba = composite.heat_to_rgba(heat)
    assert rgba.shape == (5, 6, 4)
    assert rgba.dtype == np.uint8
    assert not rgba.any()  # transparent black
    floored = composite.heat_to_rgba(heat, alpha_floor=255)
    np.testing.assert_array_equal(floored[0, 0], [0, 0, 0, 255])


def test_heat_to_rgba_goes_through_yellow_to_red() -> None:
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    rgba = composite.heat_to_rgba(levels, alpha_floor=40).reshape(256, 4).astype(int)
    np.testing.assert_array_equal(rgba[0], [0, 0, 0, 40])
    np.testing.assert_array_equal(rgba[255], [255, 0, 0, 255])
    assert (np.diff(rgba[:, 3]) >= 0).all(), "alpha grows with the heat"
    assert (np.diff(rgba[:, 0]) >= 0).all(), "red grows with the heat"
    assert (rgba[:, 2] == 0).all(), "no blue anywhere"
    r, g, _, a = rgba[DRIFT_THRESHOLD + 4]
    assert r > 200 and g > 180 and a > 128, "a visible change is clearly yellow"
    assert (np.diff(rgba[16:, 1]) <= 0).all(), "then green fades: orange, red"
    assert rgba[3, 3] < rgba[DRIFT_THRESHOLD, 3], "codec noise stays fainter"


def test_heat_to_rgba_matches_its_table_and_checks_arguments() -> None:
    heat = np.random.default_rng(3).integers(0, 256, (9, 11), dtype=np.uint8)
    np.testing.assert_array_equal(composite.heat_to_rgba(heat), composite.heat_lut()[heat])
    with pytest.raises(ValueError, match="alpha_floor"):
        composite.heat_to_rgba(heat, alpha_floor=256)
    with pytest.raises(ValueError, match="2-D uint8"):
        composite.heat_to_rgba(heat.astype(np.float32))


# --- fit_to -------------------------------------------------------------------------------------


def test_fit_to_same_size_is_the_variant_itself() -> None:
    variant = noisy(20, 30)
    fitted = composite.fit_to(variant, 30, 20)
    assert fitted == Fitted(variant, False, (30, 20))
    assert fitted.pixels is variant


@pytest.mark.parametrize("size", [(128, 48), (256, 128), (48, 24)])
def test_fit_to_stretches_a_fixed_size_result_to_the_original(size: tuple[int, int]) -> None:
    # A square result for a 2:1 original (growing, shrinking, or one axis each way): the
    # left half stays the left half, stretched; nothing is cropped away.
    width, height = size
    variant = np.zeros((64, 64, 3), np.uint8)
    variant[:, :32] = (255, 0, 0)
    variant[:, 32:] = (0, 0, 255)
    fitted = composite.fit_to(variant, width, height)
    assert fitted.scaled
    assert fitted.source_size == (64, 64)
    assert fitted.pixels.shape == (height, width, 3)
    assert fitted.pixels.dtype == np.uint8
    left, right = fitted.pixels[:, : width // 2 - 4], fitted.pixels[:, width // 2 + 4 :]
    np.testing.assert_array_equal(left, np.broadcast_to([255, 0, 0], left.shape))
    np.testing.assert_array_equal(right, np.broadcast_to([0, 0, 255], right.shape))


@pytest.mark.parametrize("size", [(40, 40), (200, 100), (90, 300), (300, 90)])
def test_fit_to_keeps_a_flat_colour_flat(size: tuple[int, int]) -> None:
    variant = np.full((120, 160, 3), (12, 200, 99), np.uint8)
    fitted = composite.fit_to(variant, *size)
    assert fitted.pixels.shape == (size[1], size[0], 3)
    np.testing.assert_array_equal(
        fitted.pixels, np.broadcast_to((12, 200, 99), fitted.pixels.shape)
    )


def test_fit_to_resizes_rgba_without_dark_fringes() -> None:
    variant = np.zeros((32, 32, 4), np.uint8)  # transparent black...
    variant[:, :16] = (255, 255, 255, 255)  # ...next to opaque white
    pixels = composite.fit_to(variant, 80, 80).pixels
    visible = pixels[..., 3] > 0
    assert visible.any() and (pixels[..., 3] < 255).any()
    assert pixels[visible][:, :3].min() >= 250


def test_fit_to_refuses_bad_sizes_and_images() -> None:
    with pytest.raises(ValueError, match="positive"):
        composite.fit_to(noisy(10, 10), 0, 10)
    with pytest.raises(ValueError, match="variant"):
        composite.fit_to(np.zeros((10, 10, 2), np.uint8), 20, 20)


# --- paste_alpha --------------------------------------------------------------------------------


def test_paste_alpha_feathers_inside_a_hard_mask() -> None:
    box = Box(20, 10, 60, 50)
    coverage = square_mask(60, 80, box)
    weight = composite.paste_alpha(coverage, 6.0)
    assert weight.dtype == np.float32
    assert weight.shape == (60, 80)
    assert not weight[coverage == 0].any()
    inner = box.expanded(-6)  # a feather of 6 pixels inside the edge, then full strength
    np.testing.assert_array_equal(weight == 1.0, square_mask(60, 80, inner) > 0)
    row = weight[30, box.x0 : box.x0 + 7]  # from the edge to 6.5 pixels in
    assert 0.0 < row[0] < 0.1, "the outermost painted pixel is barely taken"
    assert (np.diff(row) > 0).all(), "then the weight rises over the feather"
    assert row[-1] == 1.0


def test_paste_alpha_without_feather_is_the_coverage() -> None:
    coverage = np.random.default_rng(1).integers(0, 256, (20, 30), dtype=np.uint8)
    coverage[:5] = 0
    weight = composite.paste_alpha(coverage, 0)
    np.testing.assert_array_equal(weight, coverage / np.float32(255))
    assert weight.max() == 1.0


def test_paste_alpha_of_a_blob_narrower_than_the_feather_never_reaches_full() -> None:
    coverage = square_mask(40, 40, Box(15, 15, 25, 25))  # 10 px wide, feather 8 px
    weight = composite.paste_alpha(coverage, 8.0)
    assert 0.5 < weight.max() < 1.0
    assert not weight[coverage == 0].any()


def test_paste_alpha_keeps_the_picture_border_at_full_strength() -> None:
    coverage = square_mask(40, 40, Box(0, 0, 20, 40))  # painted up to the left edge
    weight = composite.paste_alpha(coverage, 5.0)
    assert (weight[:, 0:12] == 1.0).all()
    assert weight[20, 19] < 0.2


def test_paste_alpha_scales_soft_coverage() -> None:
    coverage = np.zeros((50, 50), np.uint8)
    coverage[5:45, 5:45] = 128  # painted at half opacity
    weight = composite.paste_alpha(coverage, 4.0)
    np.testing.assert_allclose(weight[25, 25], 128 / 255, rtol=1e-6)
    assert weight.max() <= 128 / 255 + 1e-6


def test_paste_alpha_of_an_empty_mask_and_bad_arguments() -> None:
    assert not composite.paste_alpha(np.zeros((8, 9), np.uint8), 4.0).any()
    with pytest.raises(ValueError, match="feather_px"):
        composite.paste_alpha(np.zeros((8, 9), np.uint8), -1.0)
    with pytest.raises(ValueError, match="feather_px"):
        composite.paste_alpha(np.zeros((8, 9), np.uint8), float("nan"))
    with pytest.raises(ValueError, match="2-D uint8"):
        composite.paste_alpha(np.zeros((8, 9, 1), np.uint8), 4.0)


# --- paste_back ---------------------------------------------------------------------------------


@st.composite
def paste_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An original, a variant that differs everywhere, and a weight from a random mask of a
    few rectangles (some soft, some touching the border) and a random feather."""
    height, width = draw(st.integers(1, 90)), draw(st.integers(1, 140))
    channels = draw(st.sampled_from([3, 4]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    original = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    variant = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    coverage = np.zeros((height, width), np.uint8)
    for _ in range(draw(st.integers(0, 4))):
        x0, x1 = sorted(draw(st.integers(0, width)) for _ in range(2))
        y0, y1 = sorted(draw(st.integers(0, height)) for _ in range(2))
        coverage[y0:y1, x0:x1] = draw(st.sampled_from([255, 255, 200, 60]))
    if draw(st.booleans()):
        edit = feathered(coverage, draw(st.integers(1, 6)))
        coverage[edit.box.slices] = edit.pixels
    weight = composite.paste_alpha(coverage, draw(st.sampled_from([0.0, 1.0, 2.5, 8.0])))
    return original, variant, weight


@settings(max_examples=150, deadline=None)
@given(case=paste_cases())
def test_paste_back_is_exact_outside_and_blends_inside(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    original, variant, weight = case
    before = original.copy(), variant.copy(), weight.copy()
    out = composite.paste_back(original, variant, weight)
    assert out.dtype == np.uint8
    assert out.shape == original.shape
    outside, full = weight == 0, weight == 1
    np.testing.assert_array_equal(out[outside], original[outside])
    np.testing.assert_array_equal(out[full], variant[full])
    low = np.minimum(original, variant)
    high = np.maximum(original, variant)
    assert ((out >= low) & (out <= high)).all(), "a blend lies between its two sources"
    expected = original * (1.0 - weight[..., None]) + variant * weight[..., None].astype(float)
    # Rounded linear blend, up to float32 arithmetic (OpenCV's 1e-5 guard moves 255 by 0.003).
    assert np.abs(out - expected).max(initial=0) <= 0.51, "rounded linear blend"
    for kept, given_array in zip(before, (original, variant, weight), strict=True):
        np.testing.assert_array_equal(kept, given_array)  # inputs untouched


def test_paste_back_blends_strictly_between_in_the_feather_band() -> None:
    height, width = 60, 90
    coverage = square_mask(height, width, Box(20, 15, 70, 45))
    weight = composite.paste_alpha(coverage, 8.0)
    original = np.zeros((height, width, 3), np.uint8)
    variant = np.full((height, width, 3), 255, np.uint8)
    out = composite.paste_back(original, variant, weight)
    band = (weight > 0.01) & (weight < 0.99)
    assert band.sum() > 100
    assert ((out[band] > 0) & (out[band] < 255)).all()
    np.testing.assert_allclose(out[band][:, 0], 255 * weight[band], atol=0.51)
    assert not out[weight == 0].any()
    assert (out[weight == 1] == 255).all()


def test_paste_back_with_rgba_blends_alpha_too() -> None:
    original = noisy(40, 50, channels=4, seed=1)
    variant = noisy(40, 50, channels=4, seed=2)
    variant[..., 3] = 10
    weight = composite.paste_alpha(square_mask(40, 50, Box(10, 10, 40, 30)), 3.0)
    out = composite.paste_back(original, variant, weight)
    np.testing.assert_array_equal(out[weight == 0], original[weight == 0])
    np.testing.assert_array_equal(out[weight == 1], variant[weight == 1])
    band = (weight > 0.1) & (weight < 0.9)
    alpha = out[..., 3][band]
    assert ((alpha > 10) & (alpha < 200)).all()


def test_paste_back_far_apart_blobs_in_a_large_picture() -> None:
    # Blobs in the same rows but far apart, and in different strips, on a picture whose
    # size is no multiple of the strip height: every pixel is still right.
    height, width = 333, 1001
    coverage = np.zeros((height, width), np.uint8)
    for x, y, r in ((60, 40, 25), (900, 50, 30), (500, 300, 20), (999, 332, 10)):
        cv2.circle(coverage, (x, y), r, 255, -1)
    weight = composite.paste_alpha(coverage, 5.0)
    original, variant = noisy(height, width, seed=4), noisy(height, width, seed=5)
    out = composite.paste_back(original, variant, weight)
    np.testing.assert_array_equal(out[weight == 0], original[weight == 0])
    np.testing.assert_array_equal(out[weight == 1], variant[weight == 1])
    covered = np.zeros((height, width), bool)
    for box in composite.weight_boxes(weight):
        covered[box.slices] = True
    assert covered[weight > 0].all()
    assert covered.mean() < 0.5, "the blank parts are skipped"


def test_paste_back_with_no_weight_is_a_copy_of_the_original() -> None:
    original, variant = noisy(20, 20, seed=1), noisy(20, 20, seed=2)
    out = composite.paste_back(original, variant, np.zeros((20, 20), np.float32))
    np.testing.assert_array_equal(out, original)
    assert out is not original


def test_paste_back_refuses_bad_shapes() -> None:
    original = noisy(20, 30)
    weight = np.zeros((20, 30), np.float32)
    with pytest.raises(ValueError, match=r"same shape.*fit_to"):
        composite.paste_back(original, noisy(20, 31), np.zeros((20, 31), np.float32))
    with pytest.raises(ValueError, match="same shape"):
        composite.paste_back(original, noisy(20, 30, channels=4), weight)
    with pytest.raises(ValueError, match="weight must be a float32 array of shape"):
        composite.paste_back(original, original, np.zeros((30, 20), np.float32))
    with pytest.raises(ValueError, match="weight must be a float32"):
        composite.paste_back(original, original, weight.astype(np.float64))
    with pytest.raises(ValueError, match="original must be an"):
        composite.paste_back(original.astype(np.uint16), original, weight)
    with pytest.raises(ValueError, match="variant must be an"):
        composite.paste_back(original, original[..., :2], weight)


# --- drift_map ----------------------------------------------------------------------------------


def test_drift_of_identical_images_is_zero() -> None:
    original = noisy(60, 80)
    coverage = square_mask(60, 80, Box(10, 10, 30, 30))
    drift = composite.drift_map(original, original.copy(), coverage)
    assert isinstance(drift, Drift)
    assert drift.share == 0.0
    assert drift.threshold == DRIFT_THRESHOLD
    assert drift.heat.shape == (60, 80)
    assert drift.heat.dtype == np.uint8
    assert not drift.heat.any()


def test_drift_localises_a_changed_square() -> None:
    height, width = 120, 160
    original = noisy(height, width)
    coverage = square_mask(height, width, Box(10, 10, 50, 50))
    changed = Box(90, 60, 130, 100)  # 40 x 40, away from the mask
    variant = original.copy()
    variant[changed.slices] = 255 - variant[changed.slices] // 2  # far off, everywhere
    drift = composite.drift_map(original, variant, coverage)
    np.testing.assert_array_equal(drift.heat > 0, square_mask(height, width, changed) > 0)
    unmasked = (coverage == 0).sum()
    assert drift.share == pytest.approx(changed.area / unmasked, rel=0.02)


def test_drift_ignores_changes_inside_the_mask() -> None:
    original = noisy(80, 100)
    mask_box = Box(20, 20, 60, 60)
    coverage = square_mask(80, 100, mask_box)
    variant = original.copy()
    variant[mask_box.slices] = 0
    drift = composite.drift_map(original, variant, coverage)
    assert drift.share == 0.0
    assert not drift.heat.any()


def test_drift_counts_soft_mask_edges_as_mask() -> None:
    original = noisy(80, 100)
    coverage = square_mask(80, 100, Box(30, 30, 50, 50))
    edit = feathered(coverage, 8)
    coverage[edit.box.slices] = edit.pixels
    variant = original.copy()
    variant[coverage > 0] = 0
    assert composite.drift_map(original, variant, coverage).share == 0.0


def test_drift_ignores_a_resampling_blur_across_the_mask_edge() -> None:
    height, width = 100, 120
    original = noisy(height, width)
    mask_box = Box(30, 30, 80, 70)
    coverage = square_mask(height, width, mask_box)
    edited = original.copy()
    edited[mask_box.slices] = (250, 20, 20)
    # The edit bleeds a pixel over the mask's edge, as after a resize.
    variant = original.copy()
    near = mask_box.expanded(1)
    variant[near.slices] = cv2.blur(edited, (3, 3))[near.slices]
    assert composite.drift_map(original, variant, coverage, band_px=0).share > 0
    drift = composite.drift_map(original, variant, coverage)
    assert drift.share == 0.0
    assert not drift.heat.any()


def test_drift_is_deaf_to_small_changes_and_isolated_speckles() -> None:
    original = noisy(90, 90)
    coverage = np.zeros((90, 90), np.uint8)
    faint = original.copy()
    faint[20:60, 20:60] = np.clip(faint[20:60, 20:60].astype(int) + 8, 0, 255)
    drift = composite.drift_map(original, faint, coverage)
    assert drift.heat.any()
    assert drift.share == 0.0
    speckled = original.copy()
    speckled[5::6, 5::6] ^= 0x40  # single pixels far off, like codec ringing
    drift = composite.drift_map(original, speckled, coverage)
    assert drift.heat.max() >= 64
    assert drift.share == 0.0


def test_drift_counts_a_visible_tint_over_the_threshold() -> None:
    original = noisy(50, 50) // 2 + 60
    tinted = original + np.array([DRIFT_THRESHOLD + 3, 0, 0], np.uint8)
    drift = composite.drift_map(original, tinted, np.zeros((50, 50), np.uint8))
    assert drift.share == 1.0


def test_drift_of_a_fully_masked_picture_and_of_rgba() -> None:
    original = noisy(30, 30, channels=4)
    variant = original.copy()
    variant[..., 3] = 0  # only the alpha changes: it is drift too
    full = np.full((30, 30), 255, np.uint8)
    assert composite.drift_map(original, variant, full).share == 0.0
    drift = composite.drift_map(original, variant, np.zeros((30, 30), np.uint8))
    assert drift.share == 1.0


def test_drift_refuses_bad_shapes() -> None:
    original = noisy(20, 30)
    with pytest.raises(ValueError, match="mask is 20x30 but the images are 30x20"):
        composite.drift_map(original, original, np.zeros((30, 20), np.uint8))
    with pytest.raises(ValueError, match="fit_to"):
        composite.drift_map(original, noisy(40, 60), np.zeros((20, 30), np.uint8))
    with pytest.raises(ValueError, match="band_px"):
        composite.drift_map(original, original, np.zeros((20, 30), np.uint8), band_px=-1)


# --- load_rgb -----------------------------------------------------------------------------------


def test_load_rgb_decodes_to_rgb_or_rgba() -> None:
    data = png_bytes(32, 24, mode="RGBA")
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    rgb = composite.load_rgb(data, max_pixels=10_000)
    assert rgb.shape == (24, 32, 3)
    rgba = composite.load_rgb(data, max_pixels=10_000, alpha=True)
    np.testing.assert_array_equal(rgba, expected)
    rgba[0, 0] = 0  # a writable array of its own


def test_load_rgb_reports_bad_files() -> None:
    with pytest.raises(ImageFileError, match=r"result\.png"):
        composite.load_rgb(corrupt(png_bytes(200, 150)), max_pixels=100_000, name="result.png")
    with pytest.raises(ImageFileError, match="pixel limit"):
        composite.load_rgb(png_bytes(200, 200), max_pixels=10_000)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (40, 60)])
def test_a_picture_painted_all_over_takes_the_variant_everywhere(shape) -> None:
    """No unpainted pixel anywhere: the picture's border is no edge, so the weight is full
    (the distance transform then says 'infinitely far', which must not overflow)."""
    coverage = np.full(shape, 255, np.uint8)
    assert np.array_equal(composite.paste_alpha(coverage, 8.0), np.ones(shape, np.float32))
