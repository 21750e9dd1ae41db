"""The PatchMatch fill (app.engine.fills.patchmatch, refine, nnf) and the work behind it that
can be stopped (app.engine.cancel, app.engine.child)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import multiprocessing
import signal
import time

import cv2
import numpy as np
import pytest

from app.engine import child as child_module
from app.engine.cancel import Cancel, Cancelled, bind_to_current_task
from app.engine.child import ChildFailed, ChildWork
from app.engine.fills import nnf, refine
from app.engine.fills.patchmatch import QUICK_FACTOR, PatchMatchFill
from app.engine.variants import VARIANTS, variant
from tests.support.images import sample

FILL = PatchMatchFill("patchmatch")


def tiled(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A repeating texture (a 24 px tile of coloured noise) with a hole in the middle."""
    rng = np.random.default_rng(seed)
    tile = cv2.GaussianBlur(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8), (3, 3), 0)
    image = np.tile(tile, (12, 16, 1))
    hole = np.zeros(image.shape[:2], bool)
    hole[110:170, 150:230] = True
    return image, hole


def hole_error(result: np.ndarray, clean: np.ndarray, hole: np.ndarray) -> float:
    return float(np.abs(result.astype(np.int16) - clean.astype(np.int16))[hole].mean())


def test_the_default_variant_continues_a_texture_that_diffusion_smooths_over():
    image, hole = tiled()
    ours = variant(0).fill.apply(image, hole)
    telea = cv2.inpaint(image, hole.view(np.uint8), 3, cv2.INPAINT_TELEA)
    assert hole_error(telea, image, hole) > 15  # a smear
    assert hole_error(ours, image, hole) < 4  # the pattern, continued
    assert np.array_equal(ours[~hole], image[~hole])


def test_only_known_pixels_are_copied_into_the_hole():
    image, hole = tiled(5)
    dirty = image.copy()
    dirty[hole] = (255, 0, 255)  # what the hole held must never come back
    filled = FILL.apply(dirty, hole)
    magenta = (filled[hole].astype(int) - (255, 0, 255)) ** 2
    assert magenta.sum(axis=1).min() > 60**2


def test_grey_and_rgba_pictures_keep_their_channels():
    image, hole = tiled()
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([image, np.full(hole.shape, 200, np.uint8)])
    for picture in (grey, rgba):
        stages = list(FILL.stages(picture, hole, (8, 4, 2)))
        assert len(stages) == 4
        assert all(s.shape == picture.shape and s.dtype == np.uint8 for s in stages)
        assert hole_error(stages[-1], picture, hole) < 6


def test_the_first_partial_is_the_quick_fill_and_the_result_is_the_fill_alone():
    image = np.asarray(cv2.imread(str(sample("coffee.png")))[..., ::-1])
    hole = np.zeros(image.shape[:2], bool)
    hole[200:260, 100:300] = True
    stages = list(FILL.stages(image, hole, (8, 4, 2)))
    assert len(stages) == 4
    for a, b in itertools.pairwise(stages):
        assert not np.array_equal(a, b)
    assert np.array_equal(stages[-1], FILL.apply(image, hole))
    # The quick fill is smooth (OpenCV's Navier-Stokes at 1/8), the result is not.
    detail = [laplacian(stage)[hole].mean() for stage in stages]
    assert detail[0] < detail[-1] / 2


def laplacian(picture: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.abs(cv2.Laplacian(grey, cv2.CV_32F))


def test_the_layout_runs_on_a_copy_of_at_most_the_pixel_budget():
    hole = np.zeros((2160, 3840), bool)
    hole[1000:1100, 500:3000] = True
    plan = FILL.plan(hole, 0)
    assert 3840 * 2160 >> (2 * plan.top) <= FILL.layout_pixels[1]
    assert 3840 * 2160 >> (2 * (plan.top - 1)) > FILL.layout_pixels[1]
    assert plan.wanted == ()
    small = np.zeros((120, 160), bool)
    small[50:60, 60:90] = True
    plan = FILL.plan(small, 3)  # a window that needs no halving: coarser layouts first
    assert plan.top == 0 and plan.extra == 2 and plan.wanted == (0, 1)


def test_fill_steps_send_the_wanted_pictures_then_the_result():
    image, hole = tiled()
    big = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    big_hole = cv2.resize(hole.view(np.uint8), None, fx=2, fy=2) > 0
    plan = PatchMatchFill("p", layout_pixels=(20000, 20000)).plan(big_hole, 3)
    assert plan.top >= 2
    steps = list(refine.fill_steps(big, big_hole, plan))
    assert len(steps) == 3
    (first, coarse), (second, _), (last, result) = steps
    assert first > second >= 1 and last == 1
    assert coarse.shape[0] * first == pytest.approx(big.shape[0], abs=first)
    assert result.shape == big[big_hole].shape


def test_a_field_finds_an_exact_copy_and_votes_it_back():
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur(rng.integers(0, 256, (80, 120, 3), dtype=np.uint8), (3, 3), 0)
    image[30:50, 70:100] = image[30:50, 10:40]  # the hole's content exists 60 px to the left
    hole = np.zeros(image.shape[:2], bool)
    hole[34:46, 76:94] = True
    scale = nnf.Scale(image, hole, overlap=20.0)
    features = nnf.describe(scale.rgb(nnf_values(image, scale)))
    start = scale.random_sources(scale.targets.size, rng)
    field = nnf.search(scale, features, start, iterations=6, reach=60, rng=rng)
    rows, cols = scale.coordinates(scale.targets)
    source_rows, source_cols = scale.coordinates(field)
    inside = hole[rows, cols]
    shifted = (source_rows == rows) & (source_cols == cols - 60)
    assert shifted[inside].mean() > 0.9
    values = nnf.vote(scale, field, nnf.RADIUS, np.zeros((scale.holes.size, 3), np.float32))
    assert np.abs(values - image[hole]).mean() < 2
    assert nnf.coherence(scale, field).mean() > 0.8


def nnf_values(image: np.ndarray, scale: nnf.Scale) -> np.ndarray:
    rows, cols = scale.coordinates(scale.holes)
    return image[rows, cols].astype(np.float32)


def test_a_field_is_doubled_into_the_next_scale():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    hole = np.zeros((64, 64), bool)
    hole[20:40, 20:40] = True
    fine = nnf.Scale(image, hole, 20.0)
    coarse = nnf.Scale(image[::2, ::2], hole[::2, ::2], 20.0)
    rows, cols = coarse.coordinates(coarse.targets)
    # every coarse target copies from 12 px to its left (a known place)
    field = coarse.flat(rows, cols - 12)
    doubled = nnf.upsample(coarse, field, fine, rng)
    fine_rows, fine_cols = fine.coordinates(fine.targets)
    source_rows, source_cols = fine.coordinates(doubled)
    ok = (fine_cols >= 24) & fine.source_ok[fine.flat(fine_rows, fine_cols - 24)]
    assert ok.mean() > 0.5
    assert np.array_equal(source_rows[ok], fine_rows[ok])
    assert np.array_equal(source_cols[ok], fine_cols[ok] - 24)


def test_results_do_not_depend_on_the_child_process(monkeypatch):
    image, hole = tiled()
    in_child = FILL.apply(image, hole)

    def no_child(*_args):
        raise OSError("no processes here")

    monkeypatch.setattr(child_module, "_context", no_child)
    assert np.array_equal(FILL.apply(image, hole), in_child)


def test_without_pypatchmatch_the_layout_is_opencvs(monkeypatch):
    image, hole = tiled()
    monkeypatch.setattr(refine, "layout_available", lambda: False)
    plan = dataclasses.replace(FILL.plan(hole, 0), top=0)  # the layout alone
    ((_, result),) = refine.fill_steps(image, hole, plan)
    telea = cv2.inpaint(image, hole.view(np.uint8), 3, cv2.INPAINT_TELEA)
    assert np.array_equal(result, telea[hole])


def slow_items(seconds: float):
    """A child's work for the tests: one item, then a long sleep, then another."""
    yield "first"
    time.sleep(seconds)
    yield "second"


def test_a_child_is_killed_as_soon_as_its_work_is_cancelled():
    cancel = Cancel()
    work = ChildWork(slow_items, (), (30.0,), ["tests.unit.test_patchmatch"])
    results = work.results(cancel)
    assert next(results) == "first"
    (process,) = [p for p in multiprocessing.active_children() if p.pid == work.pid]
    cancel.set()
    with pytest.raises(Cancelled):
        next(results)
    assert not process.is_alive() and process.exitcode == -signal.SIGKILL


def test_a_childs_failure_is_reported_not_hidden():
    work = ChildWork(slow_items, (), ("not a number",), ["tests.unit.test_patchmatch"])
    results = work.results(Cancel())
    assert next(results) == "first"
    with pytest.raises(ChildFailed, match="TypeError"):
        next(results)


def test_a_fill_stops_mid_layout_when_cancelled():
    rng = np.random.default_rng(4)
    image = cv2.GaussianBlur(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8), (5, 5), 0)
    hole = np.zeros(image.shape[:2], bool)
    hole[200:700, 300:900] = True  # a layout that takes seconds
    cancel = Cancel()
    stages = FILL.stages(image, hole, (8, 4, 2), cancel)
    quick = next(stages)  # the quick fill, while the child lays the hole out
    assert quick.shape == image.shape
    children = multiprocessing.active_children()
    assert children
    cancel.set()
    with pytest.raises(Cancelled):
        next(stages)
    assert all(not p.is_alive() and p.exitcode == -signal.SIGKILL for p in children)


def test_a_requests_token_is_set_when_the_task_that_asked_ends():
    cancel = Cancel()
    assert not bind_to_current_task(cancel)  # no task here: nothing to follow

    async def asks() -> None:
        assert bind_to_current_task(cancel)

    asyncio.run(asks())
    assert cancel.is_set()


def test_patchmatch_is_variant_zero_and_the_diffusion_fills_follow():
    assert isinstance(VARIANTS[0].fill, PatchMatchFill)
    assert VARIANTS[1].name == "pyramid-navier-stokes"
    assert QUICK_FACTOR == 8
