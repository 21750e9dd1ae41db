"""The PatchMatch fill's work, as a child process does it (``patchmatch.py`` starts it and
``app.engine.child`` runs it): layout, refinement and detail, coarse to fine.

1. *Layout.* The window, halved ``Plan.top`` times, is filled by ``pypatchmatch`` (MIT; its
   wheel links its own OpenCV statically and exports none of it, so it does not clash with
   opencv-python-headless): where structure and texture go. Without pypatchmatch, OpenCV's
   Telea fill lays the hole out instead.
2. *Refinement.* At each finer scale a nearest-neighbour field (``nnf.py``) says where in
   the window each patch of the hole comes from: found at the layout's scale by matching
   the layout, then doubled and improved at each finer scale by matching the scale above.
3. *Detail.* At full resolution the field is doubled once more and the hole takes the real
   pixels it points at (a 3x3 vote, the centre weighing ``centre``); its frequencies below
   ``detail_sigma`` come from the scale above, so the layout's colour and shading stay and
   only the fine texture is copied. Where the field is not coherent (a pixel's neighbours
   copy from elsewhere than next to its source) the copied detail is a patchwork rather
   than texture, and only ``incoherent_detail`` of it is kept.

Everything here runs in the child, whose memory goes back to the system when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from app.engine.fills import nnf
from app.engine.fills.direct import Method, inpaint
from app.engine.fills.levels import downscale, known_mean

PRELOAD = ["numpy", "cv2", "patchmatch", "app.engine.child", __name__]
"""What the fork server imports once, so that each child starts in a few milliseconds."""

LAYOUT_PATCH_RADIUS = 3
"""pypatchmatch's ``patch_size`` (7x7 patches; below 5 it also tries radius 5 on its own
coarse levels, so repeating patterns continue across large holes)."""
MIN_SIDE = 2 * nnf.SIDE
"""No scale is made whose shorter side is below this."""


@dataclass(frozen=True)
class Plan:
    """``top``: how many times the window is halved for the layout; ``extra``: coarser
    layouts made first (partial images for a small window); ``wanted``: which of the
    pictures made before the result are sent (numbered from 0, coarsest first)."""

    top: int
    extra: int
    wanted: tuple[int, ...]
    overlap: float
    centre: float
    detail_sigma: float
    incoherent_detail: float
    seed: int


def snapshots(top: int, extra: int) -> int:
    """How many pictures are made before the result."""
    return extra + (top + 1 if top else 0)


def layout_available() -> bool:
    try:
        import patchmatch
    except ImportError:
        return False
    return bool(patchmatch.patchmatch_available)


def fill_steps(
    picture: np.ndarray, hole: np.ndarray, plan: Plan
) -> Iterator[tuple[int, np.ndarray]]:
    """``(factor, made)`` for each wanted picture, coarse to fine, then for the result:
    always ``len(plan.wanted)`` pictures (the last one sent is repeated if a small window
    made fewer) and the result. ``picture`` is the window, HxWxC uint8; ``made`` is a
    picture at 1/factor, or at factor 1 the hole's pixels (``picture[hole]``'s shape)."""
    pyramid = _pyramid(picture, hole, plan.top + plan.extra)
    sent = 0
    last: tuple[int, np.ndarray] | None = None
    steps = _steps(pyramid, min(plan.top, len(pyramid) - 1), plan)
    for index, (final, factor, make) in enumerate(steps):
        if final:
            made = make()
            while sent < len(plan.wanted):
                yield last or (factor, made)
                sent += 1
            yield factor, made
            return
        if index in plan.wanted:
            last = factor, make()
            yield last
            sent += 1


def _steps(
    pyramid: list[tuple[np.ndarray, np.ndarray]], top: int, plan: Plan
) -> Iterator[tuple[bool, int, Callable[[], np.ndarray]]]:
    """Every picture the fill goes through, coarse to fine: whether it is the result, its
    factor, and how to make it (only pictures that are sent are made)."""
    hole = pyramid[0][1]
    laid_out = pyramid[-1][0]
    for level in range(len(pyramid) - 1, top - 1, -1):
        laid_out = _laid_out(*pyramid[level], plan.seed)
        yield (level == 0), 2**level, partial(_picked, laid_out, None if level else hole)
    if top == 0:
        return
    rng = np.random.default_rng(plan.seed)
    scale = nnf.Scale(laid_out, pyramid[top][1], plan.overlap)
    if scale.sources.size == 0:  # nothing known at the layout's scale: keep the layout
        yield True, 1, partial(_picked, _upsampled(laid_out, pyramid[0][0]), hole)
        return
    values = _hole_values(scale, laid_out)
    field = nnf.search(
        scale,
        nnf.describe(scale.rgb(values)),
        scale.random_sources(scale.targets.size, rng),
        iterations=4,
        reach=max(scale.height, scale.width) // 2,
        rng=rng,
    )
    for level in range(top - 1, -1, -1):
        picture, hole = pyramid[level]
        fine = nnf.Scale(picture, hole, plan.overlap)
        field = nnf.upsample(scale, field, fine, rng)
        above = _upsampled(scale.picture(values), picture)
        guide = _hole_values(fine, above)
        if level == 0:
            copied = nnf.vote(fine, field, 1, guide, plan.centre)
            yield False, 1, partial(_to_uint8, copied)
            share = plan.incoherent_detail
            weight = share + (1 - share) * nnf.coherence(fine, field)
            yield True, 1, partial(_detail, fine, copied, above, plan.detail_sigma, weight)
            return
        values = nnf.vote(fine, field, nnf.RADIUS, guide)
        field = nnf.search(
            fine,
            nnf.describe(fine.rgb(values)),
            field,
            iterations=2,
            reach=max(8, max(fine.height, fine.width) // 8),
            rng=rng,
        )
        values = nnf.vote(fine, field, nnf.RADIUS, values)
        scale = fine
        yield False, 2**level, partial(fine.picture, values)


def _picked(picture: np.ndarray, hole: np.ndarray | None) -> np.ndarray:
    return picture if hole is None else picture[hole]


def _laid_out(picture: np.ndarray, hole: np.ndarray, seed: int) -> np.ndarray:
    """``picture`` with its hole filled by PatchMatch (its colour; a grey picture takes the
    mean, other channels such as alpha are filled by OpenCV)."""
    channels = picture.shape[2]
    rgb = picture[..., :3] if channels >= 3 else np.repeat(picture[..., :1], 3, axis=2)
    filled = _layout(np.ascontiguousarray(rgb), hole, seed)
    out = picture.copy()
    if channels >= 3:
        out[hole, :3] = filled[hole]
    else:
        out[hole, 0] = np.rint(filled[hole].mean(axis=1)).astype(np.uint8)
    for extra in range(min(3, channels), channels):
        plane = np.ascontiguousarray(picture[..., extra])
        out[hole, extra] = inpaint(plane, hole, Method.TELEA, 3, known_mean(plane, hole))[hole]
    return out


def _layout(rgb: np.ndarray, hole: np.ndarray, seed: int) -> np.ndarray:
    if not layout_available():
        return inpaint(rgb, hole, Method.TELEA, 3, known_mean(rgb, hole))
    import patchmatch

    patchmatch.set_random_seed(seed)
    return patchmatch.inpaint(rgb, hole, patch_size=LAYOUT_PATCH_RADIUS)


def _pyramid(
    picture: np.ndarray, hole: np.ndarray, levels: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The window and its hole halved ``levels`` times (fewer if a side gets too short or no
    known pixel is left): uint8 HxWxC pictures averaged over known pixels only."""
    out = [(picture, hole)]
    while len(out) <= levels and min(out[-1][1].shape) // 2 >= MIN_SIDE:
        smaller, smaller_hole = downscale(*out[-1], 2)
        if smaller_hole.all():
            break
        out.append((smaller.reshape(*smaller_hole.shape, -1), smaller_hole))
    return out


def _detail(
    scale: nnf.Scale, copied: np.ndarray, above: np.ndarray, sigma: float, weight: np.ndarray
) -> np.ndarray:
    """The hole's pixels: the copied pixels' fine detail, times ``weight``, on the scale
    above's low frequencies."""
    rows, cols = scale.coordinates(scale.holes)
    low = cv2.GaussianBlur(above, (0, 0), sigma).reshape(above.shape)[rows, cols]
    copy = cv2.GaussianBlur(scale.picture(copied), (0, 0), sigma).reshape(above.shape)
    detail = copied - copy[rows, cols]
    return _to_uint8(low + weight[:, None] * detail)


def _hole_values(scale: nnf.Scale, picture: np.ndarray) -> np.ndarray:
    rows, cols = scale.coordinates(scale.holes)
    return picture[rows, cols].astype(np.float32)


def _upsampled(picture: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``picture`` (uint8) resized to the size of ``like``, bilinear."""
    height, width = like.shape[:2]
    out = cv2.resize(picture, (width, height), interpolation=cv2.INTER_LINEAR)
    return out.reshape(height, width, -1)


def _to_uint8(picture: np.ndarray) -> np.ndarray:
    return np.rint(picture).clip(0, 255).astype(np.uint8)
