"""Hole filling (app.engine.fills): plausible fills, untouched surroundings, real stages."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from PIL import Image

from app.engine.fills.base import HOLE_BELOW_ALPHA, hole_from_alpha, partial_scales
from app.engine.fills.direct import DirectFill, Method
from app.engine.variants import VARIANTS, variant
from tests.support.images import gradient, sample

FILLS = [v.fill for v in VARIANTS]
IDS = [v.name for v in VARIANTS]


def hole_error(result: np.ndarray, clean: np.ndarray, hole: np.ndarray) -> float:
    return float(np.abs(result.astype(np.int16) - clean.astype(np.int16))[hole].mean())


@pytest.fixture(scope="module")
def gradient_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth picture, the same with a foreign dark square, and a hole a little larger
    than the square (as a designer paints it)."""
    clean = np.asarray(gradient(256, 256))
    dirty = clean.copy()
    dirty[100:150, 90:140] = (20, 20, 20)
    hole = np.zeros(clean.shape[:2], bool)
    hole[96:154, 86:144] = True
    return clean, dirty, hole


@pytest.fixture(scope="module")
def photo_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A magenta square painted over the smoothest part of a real photo."""
    clean = np.asarray(Image.open(sample("coffee.png")).convert("RGB"))
    grey = cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.boxFilter(grey, -1, (48, 48))
    variance = cv2.boxFilter(grey * grey, -1, (48, 48)) - mean * mean
    border = 40
    inner = variance[border:-border, border:-border]
    y, x = np.unravel_index(np.argmin(inner), inner.shape)
    y, x = y + border, x + border
    dirty = clean.copy()
    dirty[y - 16 : y + 16, x - 16 : x + 16] = (250, 20, 200)
    hole = np.zeros(clean.shape[:2], bool)
    hole[y - 20 : y + 20, x - 20 : x + 20] = True
    return clean, dirty, hole


@pytest.mark.parametrize("fill", FILLS, ids=IDS)
def test_a_removed_object_is_filled_like_the_smooth_picture_around_it(fill, gradient_scene):
    clean, dirty, hole = gradient_scene
    before = hole_error(dirty, clean, hole)
    after = hole_error(fill.apply(dirty, hole), clean, hole)
    assert before > 60
    assert after < 10, f"{fill.name}: mean error {after:.1f} in the hole"


@pytest.mark.parametrize("fill", FILLS, ids=IDS)
def test_a_removed_object_is_filled_plausibly_in_a_real_photo(fill, photo_scene):
    clean, dirty, hole = photo_scene
    before = hole_error(dirty, clean, hole)
    after = hole_error(fill.apply(dirty, hole), clean, hole)
    assert before > 80
    assert after < 6, f"{fill.name}: mean error {after:.1f} in the hole"


@pytest.mark.parametrize("fill", FILLS, ids=IDS)
def test_pixels_outside_the_hole_are_bit_identical_at_every_stage(fill, gradient_scene):
    _, dirty, hole = gradient_scene
    stages = list(fill.stages(dirty, hole, (8, 4, 2)))
    assert len(stages) == 4
    for stage in stages:
        assert stage.shape == dirty.shape and stage.dtype == np.uint8
        assert np.array_equal(stage[~hole], dirty[~hole])
        assert not np.array_equal(stage[hole], dirty[hole])


@pytest.mark.parametrize("fill", FILLS, ids=IDS)
def test_stages_go_from_coarse_to_fine(fill, photo_scene):
    clean, dirty, hole = photo_scene
    stages = list(fill.stages(dirty, hole, (8, 4, 2)))
    # Each stage is a different, real fill; all of them remove the object.
    for a, b in itertools.combinations(stages, 2):
        assert not np.array_equal(a, b)
    assert all(hole_error(s, clean, hole) < hole_error(dirty, clean, hole) / 4 for s in stages)


def test_the_direct_fill_is_exactly_opencvs_own_call():
    rng = np.random.default_rng(7)
    image = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 3)
    hole = np.zeros((300, 400), bool)
    hole[120:170, 200:260] = True
    for method, flag in ((Method.TELEA, cv2.INPAINT_TELEA), (Method.NS, cv2.INPAINT_NS)):
        ours = DirectFill("direct", method, 3).apply(image, hole)
        theirs = cv2.inpaint(image, hole.astype(np.uint8) * 255, 3, flag)
        assert np.array_equal(ours, theirs)


def test_variants_genuinely_differ(photo_scene):
    _, dirty, hole = photo_scene
    results = [v.fill.apply(dirty, hole) for v in VARIANTS]
    for (i, a), (j, b) in itertools.combinations(enumerate(results), 2):
        changed = np.count_nonzero(np.any(a != b, axis=-1))
        assert changed > 0.05 * hole.sum(), f"variants {i} and {j} are nearly the same"
    assert len({v.name for v in VARIANTS}) == len(VARIANTS) == 10
    assert variant(0) is VARIANTS[0]


def test_fills_are_deterministic(photo_scene):
    _, dirty, hole = photo_scene
    for fill in FILLS:
        assert np.array_equal(fill.apply(dirty, hole), fill.apply(dirty, hole))


@pytest.mark.parametrize("fill", FILLS, ids=IDS)
def test_rgba_and_grey_images_are_filled_channel_by_channel(fill, gradient_scene):
    _, dirty, hole = gradient_scene
    alpha = np.full(hole.shape, 200, np.uint8)
    rgba = np.dstack([dirty, alpha])
    out = fill.apply(rgba, hole)
    assert out.shape == rgba.shape
    assert np.array_equal(out[~hole], rgba[~hole])
    # Telea's gradient estimate wobbles by a few levels even on a constant plane.
    assert abs(out[..., 3][hole].mean() - 200) < 4
    grey = dirty[..., 0].copy()
    out = fill.apply(grey, hole)
    assert out.shape == grey.shape and np.array_equal(out[~hole], grey[~hole])


def test_a_hole_at_the_edge_and_a_tiny_hole_are_filled(gradient_scene):
    clean, _, _ = gradient_scene
    for hole_box in ((0, 0, 30, 256), (128, 128, 129, 129)):
        hole = np.zeros(clean.shape[:2], bool)
        y0, x0, y1, x1 = hole_box
        hole[y0:y1, x0:x1] = True
        for fill in FILLS:
            stages = list(fill.stages(clean, hole, (8, 4, 2)))
            assert len(stages) == 4
            assert hole_error(stages[-1], clean, hole) < 20


def test_an_empty_hole_changes_nothing_and_a_full_hole_is_refused(gradient_scene):
    clean, _, _ = gradient_scene
    empty = np.zeros(clean.shape[:2], bool)
    assert all(np.array_equal(s, clean) for s in FILLS[0].stages(clean, empty, (8,)))
    with pytest.raises(ValueError, match="whole image"):
        list(FILLS[0].stages(clean, ~empty))


def test_alpha_below_half_is_the_hole():
    alpha = np.array([[0, 1, HOLE_BELOW_ALPHA - 1, HOLE_BELOW_ALPHA, 255]], np.uint8)
    assert hole_from_alpha(alpha).tolist() == [[True, True, True, False, False]]


def test_partial_scales_are_coarsest_first():
    assert partial_scales(0) == ()
    assert partial_scales(1) == (8,)
    assert partial_scales(3) == (8, 4, 2)
    assert partial_scales(7) == (8, 4, 2)
