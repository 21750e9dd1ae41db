"""Crop to mask (issue 14), the pure core (app.core.region): the mask's bounds, the region
planned around it for each model's sizes, and the pixels cut out and put back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.mask import EDIT_THRESHOLD
from app.core.region import (
    LOW_SCALE,
    MIN_PADDING_PX,
    PASTE_THRESHOLD,
    Rect,
    RegionPlan,
    aspect_error,
    context_padding,
    crop,
    crop_mask,
    fit_region,
    mask_bounds,
    place_back,
    plan_for_coverage,
    plan_region,
)
from app.core.schema import ModelRules, SizeRule, load_schema, parse_size

SCHEMA = load_schema()
MODELS = [
    *(model.name for model in SCHEMA.models),
    "gpt-image-1-plus",  # a pattern: gpt-image-1's sizes
    "someone-elses-model",  # unknown: the schema's unknown_model rule
]
GPT2_CAP = 2560 * 1440


def rules(model: str) -> ModelRules:
    return SCHEMA.rules_for(model)


def photo_with_box(draw, low: int, high: int):
    width = draw(st.integers(low, high))
    height = draw(st.integers(low, high))
    x = draw(st.integers(0, width - 1))
    y = draw(st.integers(0, height - 1))
    box = Rect(x, y, draw(st.integers(1, width - x)), draw(st.integers(1, height - y)))
    return (width, height), box


def some_aspect_holds(rule: SizeRule, mask: Rect, photo: tuple[int, int], spare: float) -> bool:
    """Whether an aspect the rule allows can hold ``mask`` (``spare`` larger) inside the
    photo, reasoning on real numbers: a region of aspect a needs w >= mask w, h >= mask h,
    w <= photo w, h <= photo h, w = a h."""
    need_w, need_h = mask.width * spare, mask.height * spare
    low, high = need_w / photo[1], photo[0] / need_h  # the aspects that hold it
    if rule.grammar == "fixed":
        sizes = [s for s in map(parse_size, rule.choices) if s]
        return any(low <= w / h <= high for w, h in sizes)
    ratio = rule.max_ratio or math.inf
    return max(low, 1 / ratio) <= min(high, ratio)


# --- properties -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    padding=st.none() | st.integers(0, 4000),
    allow_experimental=st.booleans(),
    limit=st.sampled_from([None, SCHEMA.files.max_pixels]),
)
def test_every_plan_holds_the_mask_inside_the_photo_at_a_size_the_model_takes(
    model: str, data, padding: int | None, allow_experimental: bool, limit: int | None
) -> None:
    photo, box = photo_with_box(data.draw, 64, 12000)
    rule = rules(model)
    plan = plan_region(
        photo, box, rule, padding=padding, allow_experimental=allow_experimental, max_pixels=limit
    )
    assert plan.region.contains(box)
    assert Rect.of_size(photo).contains(plan.region)
    assert rule.size.problem(plan.size) is None
    if limit is not None:
        assert plan.output[0] * plan.output[1] <= limit
    if rule.size.experimental_above and not allow_experimental:
        assert not plan.experimental and plan.output[0] * plan.output[1] <= GPT2_CAP
    if plan.stretched:
        # Only when no shape the model takes can hold the mask in this photo (with a
        # little to spare for the whole-pixel grid).
        assert not some_aspect_holds(rule.size, box, photo, spare=1.03)
        assert plan.notes and "stretched" in plan.notes[0]
    else:
        assert aspect_error(plan.region.size, plan.output) <= 0.5
    if plan.scale < LOW_SCALE:
        assert any("Paint one area at a time" in note for note in plan.notes)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=25, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_crop_edit_and_place_back_leave_every_pixel_outside_the_mask_exact(
    model: str, data, seed: int
) -> None:
    (width, height), _ = photo_with_box(data.draw, 64, 360)
    rng = np.random.default_rng(seed)
    photo = rng.integers(0, 100, (height, width, 3), dtype=np.uint8)  # dark: the edit shows
    coverage = np.zeros((height, width), np.uint8)
    for _ in range(data.draw(st.integers(1, 3))):  # islands, soft or hard
        x, y = rng.integers(0, width), rng.integers(0, height)
        w, h = rng.integers(1, width - x + 1), rng.integers(1, height - y + 1)
        coverage[y : y + h, x : x + w] = rng.integers(1, 256)
    coverage[rng.integers(0, height), rng.integers(0, width)] = 255  # something to edit
    plan = plan_for_coverage(coverage, rules(model))
    assert plan is not None

    sent = crop(photo, plan.region, plan.output)
    sent_mask = crop_mask(coverage, plan.region, plan.output)
    assert sent.shape == (plan.output[1], plan.output[0], 3)
    assert sent_mask.shape == (plan.output[1], plan.output[0])
    assert (sent_mask >= EDIT_THRESHOLD).any()  # the edit survives the scaling
    edited = 255 - sent  # the "model": redraws everything
    back = place_back(edited, plan.region)
    assert back.shape == (plan.region.height, plan.region.width, 3)

    pasted = photo.copy()
    part = pasted[plan.region.slices]
    painted = coverage[plan.region.slices] > 0
    part[painted] = back[painted]
    outside = coverage == 0
    assert np.count_nonzero(painted) == np.count_nonzero(~outside)  # all of it in the region
    np.testing.assert_array_equal(pasted[outside], photo[outside])
    change = np.abs(pasted[~outside].astype(int) - photo[~outside])
    assert change.min() >= 30  # and the edit landed on every painted pixel


@settings(max_examples=100, deadline=None)
@given(
    aspect=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    data=st.data(),
)
def test_a_fitted_region_has_the_aspect_within_half_a_pixel(aspect, data) -> None:
    photo, box = photo_with_box(data.draw, 1, 5000)
    region = fit_region(aspect, box, box, photo)
    if region is None:
        fixed = SizeRule("fixed", (f"{aspect[0]}x{aspect[1]}",))
        assert not some_aspect_holds(fixed, box, photo, spare=1.0 + 2 / min(box.size))
        return
    assert region.contains(box) and Rect.of_size(photo).contains(region)
    assert aspect_error(region.size, aspect) <= 0.5


# --- mask_bounds ------------------------------------------------------------------------------


def test_an_empty_mask_has_no_bounds() -> None:
    assert mask_bounds(np.zeros((40, 60), np.uint8)) is None


def test_bounds_hold_every_island_and_ignore_soft_coverage_below_the_edit_level() -> None:
    coverage = np.zeros((300, 400), np.uint8)
    coverage[10:20, 30:35] = 255
    coverage[250, 390] = 128
    coverage[290:295, 0:3] = 127  # soft: kept by the API mask, blended by paste-back
    assert mask_bounds(coverage) == Rect(30, 10, 361, 241)
    assert mask_bounds(coverage, PASTE_THRESHOLD) == Rect(0, 10, 391, 285)
    assert mask_bounds(coverage, 200) == Rect(30, 10, 5, 10)


def test_bounds_reach_the_picture_edge() -> None:
    coverage = np.zeros((50, 70), np.uint8)
    coverage[:, -1] = 255
    assert mask_bounds(coverage) == Rect(69, 0, 1, 50)


@pytest.mark.parametrize("threshold", [0, 256, -1])
def test_a_threshold_outside_one_to_255_is_refused(threshold: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        mask_bounds(np.zeros((4, 4), np.uint8), threshold)


def test_bounds_take_a_uint8_layer_only() -> None:
    with pytest.raises(ValueError, match="uint8"):
        mask_bounds(np.zeros((4, 4), np.float32))


def test_bounds_of_a_48_megapixel_mask() -> None:
    """The frame follows the mask while painting: no full-size temporary is made (about
    5 ms here; timed by the benchmarks, not here)."""
    coverage = np.zeros((6000, 8000), np.uint8)
    coverage[2000:2400, 3000:3600] = 255  # 0.5 % of the photo
    coverage[5999, 7999] = 255
    assert mask_bounds(coverage) == Rect(3000, 2000, 5000, 4000)


# --- context ---------------------------------------------------------------------------------


def test_the_default_context_grows_with_the_photo_and_the_mask_and_has_a_floor() -> None:
    assert context_padding((6000, 4000), Rect(0, 0, 100, 80)) == 375  # 6000 / 16
    assert context_padding((6000, 4000), Rect(0, 0, 3000, 1000)) == 1000  # mean side / 2
    assert context_padding((300, 200), Rect(0, 0, 10, 10)) == MIN_PADDING_PX


def test_a_padding_the_user_sets_is_taken_as_it_is() -> None:
    assert context_padding((6000, 4000), Rect(0, 0, 100, 80), 0) == 0
    assert context_padding((6000, 4000), Rect(0, 0, 100, 80), 17) == 17
    for wrong in (-1, 2.5, True):
        with pytest.raises(ValueError, match="padding"):
            context_padding((6000, 4000), Rect(0, 0, 100, 80), wrong)


# --- gpt-image-1 family: a fixed list of sizes -------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"])
def test_a_small_blemish_in_a_24_mp_photo_is_sent_at_full_detail(model: str) -> None:
    plan = plan_region((6000, 4000), Rect(2950, 1960, 100, 80), rules(model))
    assert plan.output == (1024, 1024) and plan.size == "1024x1024"
    assert plan.region == Rect(2488, 1488, 1024, 1024)  # more context, no upscaling
    assert plan.scale == 1.0 and plan.notes == () and not plan.whole_photo


@pytest.mark.parametrize(
    ("box", "output"),
    [(Rect(1000, 2000, 3000, 900), (1536, 1024)), (Rect(2000, 500, 700, 2500), (1024, 1536))],
)
def test_the_closest_aspect_is_chosen_and_the_region_grows_to_it(box: Rect, output) -> None:
    plan = plan_region((6000, 4000), box, rules("gpt-image-1"))
    assert plan.output == output and plan.region.contains(box)
    assert aspect_error(plan.region.size, output) <= 0.5
    assert plan.region.width * output[1] == pytest.approx(plan.region.height * output[0], abs=2000)


def test_the_next_closest_size_is_taken_when_the_photo_has_no_room_for_the_closest() -> None:
    # 1300x1000 is nearer 3:2 than 1:1, but a 3:2 region holding the full-height mask
    # would be 1500 wide.
    plan = plan_region((1300, 1000), Rect(250, 0, 800, 1000), rules("gpt-image-1"))
    assert plan.output == (1024, 1024) and plan.region == Rect(150, 0, 1000, 1000)
    assert not plan.stretched


def test_a_photo_too_narrow_for_any_listed_shape_is_stretched_and_says_so() -> None:
    plan = plan_region((6000, 1000), Rect(500, 450, 5000, 100), rules("gpt-image-1"))
    assert plan.stretched and plan.region == Rect(0, 0, 6000, 1000) and plan.whole_photo
    assert plan.output == (1536, 1024)
    assert "stretched back" in plan.notes[0]


def test_a_narrow_photo_still_gives_an_exact_region_when_the_mask_fits_one() -> None:
    plan = plan_region((6000, 1000), Rect(2500, 450, 1000, 100), rules("gpt-image-1"))
    assert not plan.stretched and plan.output == (1536, 1024)
    assert plan.region.height == 1000 and plan.region.width == 1500
    assert any("less context" in note for note in plan.notes)


def test_a_photo_smaller_than_the_sizes_is_enlarged_and_says_so() -> None:
    plan = plan_region((640, 480), Rect(300, 200, 50, 50), rules("gpt-image-1"))
    assert plan.region == Rect(85, 0, 480, 480) and plan.output == (1024, 1024)
    assert plan.scale > 2 and "enlarged 2.13×" in plan.notes[0]


# --- gpt-image-2: a free grammar ---------------------------------------------------------------


def test_a_small_mask_gets_more_context_up_to_the_minimum_before_any_upscaling() -> None:
    plan = plan_region((2000, 1500), Rect(990, 740, 20, 20), rules("gpt-image-2"), padding=40)
    w, h = plan.output
    assert w % 16 == 0 and h % 16 == 0 and w * h >= 655_360
    assert plan.region.size == plan.output and plan.scale == 1.0  # context, not upscaling
    assert plan.padding == 40 and plan.notes == ()


def test_a_large_region_is_reduced_to_2560x1440_pixels_unless_experimental_sizes_are_allowed():
    box = Rect(500, 500, 5000, 3000)
    plan = plan_region((6000, 4000), box, rules("gpt-image-2"))
    w, h = plan.output
    assert 0.95 * GPT2_CAP <= w * h <= GPT2_CAP and not plan.experimental
    bigger = plan_region((6000, 4000), box, rules("gpt-image-2"), allow_experimental=True)
    w, h = bigger.output
    assert GPT2_CAP < w * h <= 8_294_400 and bigger.experimental
    assert max(w, h) <= 3840 and any("experimental" in note for note in bigger.notes)
    assert bigger.scale > plan.scale


def test_a_whole_photo_mask_is_sent_whole_at_an_exact_aspect() -> None:
    plan = plan_region((4000, 3000), Rect(0, 0, 4000, 3000), rules("gpt-image-2"))
    assert plan.whole_photo and not plan.stretched
    assert plan.output[0] * 3 == plan.output[1] * 4  # 4:3 on the grid of 16: 2176x1632
    assert plan.output == (2176, 1632)


def test_a_wide_mask_is_given_context_up_to_three_to_one() -> None:
    plan = plan_region((8000, 6000), Rect(1000, 3000, 6000, 100), rules("gpt-image-2"))
    w, h = plan.output
    assert max(w, h) / min(w, h) <= 3 and plan.region.contains(Rect(1000, 3000, 6000, 100))
    assert aspect_error(plan.region.size, plan.output) <= 0.5


def test_a_photo_under_the_minimum_pixels_is_upscaled_whole() -> None:
    plan = plan_region((640, 480), Rect(0, 0, 640, 480), rules("gpt-image-2"))
    assert plan.region.width == 640 and plan.region.height >= 477
    assert plan.output[0] * plan.output[1] >= 655_360 and plan.scale > 1
    assert "enlarged" in plan.notes[0]


def test_a_strip_photo_that_no_three_to_one_shape_fits_is_stretched() -> None:
    plan = plan_region((6000, 1000), Rect(500, 450, 5000, 100), rules("gpt-image-2"))
    assert plan.stretched and plan.output[0] == 3 * plan.output[1]


# --- other models ------------------------------------------------------------------------------


def test_an_unknown_model_gets_the_padded_box_at_its_own_size() -> None:
    plan = plan_region((6000, 4000), Rect(3000, 2000, 100, 80), rules("someone-elses-model"))
    assert plan.region == Rect(2625, 1625, 850, 830) and plan.output == (850, 830)
    limit = SCHEMA.files.max_pixels
    everything = Rect(0, 0, 8000, 6000)
    capped = plan_region((8000, 6000), everything, rules("someone-elses-model"), max_pixels=limit)
    assert capped.output[0] * capped.output[1] <= limit and capped.scale < 1


def test_the_local_engine_reduces_a_region_to_its_longest_edge() -> None:
    plan = plan_region((8000, 6000), Rect(10, 10, 7900, 5900), rules("local-inpaint"))
    assert plan.whole_photo and plan.output == (3840, 2880)


def test_a_fixed_rule_with_no_size_to_crop_to_is_refused() -> None:
    only_auto = ModelRules("odd", SizeRule("fixed", ("auto",)))
    with pytest.raises(ValueError, match="no WIDTHxHEIGHT"):
        plan_region((1000, 1000), Rect(0, 0, 10, 10), only_auto)


# --- edge cases the issue lists ----------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-2"])
@pytest.mark.parametrize(
    "box", [Rect(0, 0, 50, 50), Rect(5950, 3950, 50, 50), Rect(0, 1000, 6000, 40)]
)
def test_a_mask_touching_the_edge(model: str, box: Rect) -> None:
    plan = plan_region((6000, 4000), box, rules(model))
    assert plan.region.contains(box) and Rect.of_size((6000, 4000)).contains(plan.region)
    assert not plan.stretched


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-2"])
def test_a_padding_larger_than_the_photo_is_clamped(model: str) -> None:
    plan = plan_region((900, 700), Rect(400, 300, 100, 100), rules(model), padding=5000)
    assert Rect.of_size((900, 700)).contains(plan.region)
    # As much context as the photo has at the size's shape: it spans the photo one way.
    assert plan.region.width == 900 or plan.region.height == 700


def test_islands_far_apart_give_one_region_and_a_note_that_detail_drops() -> None:
    coverage = np.zeros((6000, 8000), np.uint8)
    coverage[100:150, 100:150] = 255
    coverage[5800:5850, 7800:7850] = 255
    plan = plan_for_coverage(coverage, rules("gpt-image-1"))
    assert plan is not None and plan.region.contains(Rect(100, 100, 7750, 5750))
    assert plan.scale < LOW_SCALE
    assert "detail drops" in plan.notes[-1] and "one area at a time" in plan.notes[-1]


def test_the_region_holds_the_soft_edge_that_paste_back_blends() -> None:
    coverage = np.zeros((3000, 4000), np.uint8)
    coverage[1400:1600, 1900:2100] = 255
    coverage[1000:2000, 1500:2500][coverage[1000:2000, 1500:2500] == 0] = 20  # a wide halo
    plan = plan_for_coverage(coverage, rules("gpt-image-2"), padding=0)
    assert plan is not None and plan.mask == Rect(1500, 1000, 1000, 1000)
    assert plan.region.contains(plan.mask)


def test_a_mask_with_nothing_to_edit_has_no_plan() -> None:
    coverage = np.zeros((400, 600), np.uint8)
    assert plan_for_coverage(coverage, rules("gpt-image-1")) is None
    coverage[10:20, 10:20] = EDIT_THRESHOLD - 1  # soft only: the API mask edits nothing
    assert plan_for_coverage(coverage, rules("gpt-image-1")) is None


@pytest.mark.parametrize(
    ("photo", "box"),
    [
        ((0, 100), Rect(0, 0, 1, 1)),
        ((100, 100), Rect(0, 0, 0, 5)),
        ((100, 100), Rect(90, 0, 20, 5)),
    ],
)
def test_a_box_that_makes_no_sense_is_refused(photo, box: Rect) -> None:
    with pytest.raises(ValueError):
        plan_region(photo, box, rules("gpt-image-1"))


def test_a_dragged_frame_replaces_the_padding_and_still_holds_the_mask() -> None:
    mask = Rect(3000, 2000, 100, 80)
    frame = Rect(2500, 1500, 2000, 1200)
    plan = plan_region((6000, 4000), mask, rules("gpt-image-2"), frame=frame)
    assert plan.padding is None and plan.region.contains(frame)
    off_mask = plan_region((6000, 4000), mask, rules("gpt-image-2"), frame=Rect(0, 0, 500, 500))
    assert off_mask.region.contains(Rect(0, 0, 3100, 2080))  # the frame grown to the mask
    outside = plan_region((6000, 4000), mask, rules("gpt-image-1"), frame=Rect(-900, 0, 50, 50))
    assert outside.region.contains(mask)


def test_the_panel_line_says_what_is_sent_from_what() -> None:
    plan = RegionPlan((6000, 4000), Rect(0, 0, 10, 10), Rect(0, 0, 2304, 1536), (1536, 1024), 32)
    assert plan.describe() == "sends 1536x1024 from a 2304x1536 region (0.67×)"
    assert plan.scales == (1536 / 2304, 1024 / 1536)


# --- pixels ------------------------------------------------------------------------------------


def waves(width: int, height: int, period: float) -> np.ndarray:
    """Smooth waves across and down: a shift or a stretch of a pixel shows."""
    x = np.arange(width, dtype=np.float32)[None, :]
    y = np.arange(height, dtype=np.float32)[:, None]
    r = 128 + 100 * np.sin(2 * np.pi * x / period) + 0 * y
    g = 128 + 100 * np.sin(2 * np.pi * y / period) + 0 * x
    b = np.full((height, width), 128, np.float32)
    return np.rint(np.dstack([r, g, b])).astype(np.uint8)


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-2"])
def test_a_result_placed_back_lines_up_with_the_photo(model: str) -> None:
    photo = waves(3000, 2000, period=400)
    plan = plan_region((3000, 2000), Rect(1000, 600, 900, 500), rules(model))
    back = place_back(crop(photo, plan.region, plan.output), plan.region)
    error = np.abs(back.astype(int) - photo[plan.region.slices]).mean()
    assert error < 2.5
    shifted = np.abs(back[:, 3:].astype(int) - photo[plan.region.slices][:, :-3]).mean()
    assert shifted > 2 * error  # the measure sees a 3 px misplacement


def test_a_crop_at_its_own_size_is_a_copy() -> None:
    photo = np.zeros((50, 60, 3), np.uint8)
    cut = crop(photo, Rect(10, 5, 20, 30), (20, 30))
    cut[:] = 9
    assert cut.shape == (30, 20, 3) and not photo.any()
    mask = np.zeros((50, 60), np.uint8)
    cut_mask = crop_mask(mask, Rect(10, 5, 20, 30), (20, 30))
    cut_mask[:] = 9
    assert not mask.any()


def test_a_thin_stroke_survives_a_reduced_mask() -> None:
    coverage = np.zeros((800, 1200), np.uint8)
    coverage[400, 100:1100] = 255  # one pixel high, reduced 4x
    small = crop_mask(coverage, Rect(0, 0, 1200, 800), (300, 200))
    assert small.shape == (200, 300) and (small[100] == 255).sum() >= 249
    assert set(np.unique(small)) <= {0, 255}


def test_a_transparent_result_is_placed_back_with_its_alpha() -> None:
    result = np.zeros((1024, 1536, 4), np.uint8)
    result[..., :3] = 200
    result[:, :768, 3] = 255
    back = place_back(result, Rect(10, 20, 768, 512))
    assert back.shape == (512, 768, 4)
    assert back[:, :380, 3].min() == 255 and back[:, 390:, 3].max() == 0


def test_a_region_outside_the_picture_is_refused() -> None:
    with pytest.raises(ValueError, match="not inside"):
        crop(np.zeros((50, 60, 3), np.uint8), Rect(50, 0, 20, 20), (10, 10))
    with pytest.raises(ValueError, match="not inside"):
        crop_mask(np.zeros((50, 60), np.uint8), Rect(0, 0, 61, 20), (10, 10))
    with pytest.raises(ValueError, match="positive"):
        crop(np.zeros((50, 60, 3), np.uint8), Rect(0, 0, 20, 20), (0, 10))
    with pytest.raises(ValueError, match="empty"):
        place_back(np.zeros((10, 10, 3), np.uint8), Rect(0, 0, 0, 5))
