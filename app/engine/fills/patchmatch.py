"""The PatchMatch fill: the hole is rebuilt from patches of its surroundings, so wood grain,
gravel, fabric and foliage continue into it instead of being smoothed over.

PatchMatch on a whole window at full resolution takes 30 to 70 times as long as OpenCV's
inpainting (its cost grows with the window's area), so the work is split by scale
(``refine.py``): PatchMatch lays the hole out on a copy of the window halved until it has at
most ``layout_pixels`` pixels, and a nearest-neighbour field carries that layout back to
full resolution, copying real pixels, so the fine texture arrives too.

That work runs in a child process (``app.engine.child``): a request that is given up kills
it at once, and meanwhile this thread makes the first partial image, OpenCV's Navier-Stokes
fill at 1/8 scale (the quick fill that was the default before). The partial images after it
are the layout and the finer scales as they are done (for a small window with fewer scales
than partial images asked for, coarser layouts are made first).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from app.engine.cancel import Cancel
from app.engine.child import ChildFailed, ChildWork
from app.engine.fills import refine
from app.engine.fills.base import MIN_CONTEXT, Fill
from app.engine.fills.direct import Method, inpaint
from app.engine.fills.levels import known_mean

log = logging.getLogger(__name__)
QUICK_FACTOR = 8
"""The first partial image is the quick fill at 1/QUICK_FACTOR."""


@dataclass(frozen=True)
class PatchMatchFill(Fill):
    """``layout_pixels``: the size range (pixels) of the layout's copy of the window; within
    it, about ``layout_per_hole`` times the hole's pixel count. ``overlap``: the price, in
    grey levels per channel, of each hole pixel inside a patch used as a source. ``centre``,
    ``detail_sigma`` and ``incoherent_detail``: how the full-resolution detail is copied
    (``refine.py``). ``seed`` makes the random search repeatable."""

    layout_pixels: tuple[int, int] = (65536, 262144)
    layout_per_hole: float = 1.25
    overlap: float = 20.0
    centre: float = 2.0
    detail_sigma: float = 2.0
    incoherent_detail: float = 0.75
    seed: int = 0

    def margin(self, hole: np.ndarray) -> int:
        rows, cols = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
        return max(MIN_CONTEXT, max(rows[-1] - rows[0], cols[-1] - cols[0]) // 2)

    def window_stages(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...]
    ) -> Iterator[tuple[int, np.ndarray]]:
        return self.window_stages_until(image, hole, scales, Cancel())

    def window_stages_until(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...], cancel: Cancel
    ) -> Iterator[tuple[int, np.ndarray]]:
        picture = np.ascontiguousarray(image.reshape(*hole.shape, -1))
        hole = np.ascontiguousarray(hole)
        work = _Work(picture, hole, self.plan(hole, len(scales)))
        try:
            if scales:
                quick = _quick_fill(picture, hole)
                yield QUICK_FACTOR, quick.reshape(*quick.shape[:2], *image.shape[2:])
            for factor, made in work.results(cancel):
                if factor == 1:  # the hole's pixels
                    whole = picture.copy()
                    whole[hole] = made
                    made = whole
                yield factor, made.reshape(*made.shape[:2], *image.shape[2:])
        finally:
            work.close()

    def plan(self, hole: np.ndarray, partials: int) -> refine.Plan:
        """The layout's scale, and the pictures sent as partial images after the quick
        fill: the coarsest first."""
        smallest, largest = self.layout_pixels
        budget = min(largest, max(smallest, int(self.layout_per_hole * hole.sum())))
        top = 0
        while hole.size >> (2 * top) > budget and min(hole.shape) >> (top + 1) >= refine.MIN_SIDE:
            top += 1
        wanted = max(0, partials - 1)
        extra = max(0, wanted - refine.snapshots(top, 0))
        return refine.Plan(
            top=top,
            extra=extra,
            wanted=tuple(range(wanted)),
            overlap=self.overlap,
            centre=self.centre,
            detail_sigma=self.detail_sigma,
            incoherent_detail=self.incoherent_detail,
            seed=self.seed,
        )


def _quick_fill(picture: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """OpenCV's Navier-Stokes fill at 1/QUICK_FACTOR, on a copy averaged over the known
    pixels only (in 8 bits: within a grey level of ``levels.downscale``, in half the time
    at 4K, while the child process is being started beside it)."""
    height, width = hole.shape
    size = (max(1, round(width / QUICK_FACTOR)), max(1, round(height / QUICK_FACTOR)))
    known = cv2.resize((~hole).view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA)
    masked = picture.copy()
    masked[hole] = 0
    summed = cv2.resize(masked, size, interpolation=cv2.INTER_AREA).reshape(*known.shape, -1)
    weight = known.astype(np.float32) / 255
    small = summed.astype(np.float32) / np.maximum(weight, 1e-3)[..., None]
    small_hole = weight < 0.5
    small = np.rint(small).clip(0, 255).astype(np.uint8)
    if small_hole.all():  # a coarse copy with nothing known: the colour around the hole
        return np.broadcast_to(known_mean(picture, hole), small.shape).copy()
    return inpaint(small, small_hole, Method.NS, 3, known_mean(small, small_hole))


class _Work:
    """``refine.fill_steps`` in a child process (started at once), or in this thread if no
    child can be started or it fails before its first picture."""

    def __init__(self, picture: np.ndarray, hole: np.ndarray, plan: refine.Plan) -> None:
        self.args = (picture, hole, plan)
        self.child = ChildWork(refine.fill_steps, (picture, hole), (plan,), refine.PRELOAD)

    def results(self, cancel: Cancel) -> Iterator[tuple[int, np.ndarray]]:
        sent = False
        try:
            for step in self.child.results(cancel):
                yield step
                sent = True
            return
        except ChildFailed as exc:
            if sent:
                raise
            log.warning("the PatchMatch fill runs in the engine's thread: %s", exc)
        for step in refine.fill_steps(*self.args):
            yield step
            cancel.check()

    def close(self) -> None:
        self.child.kill()
