"""The pyramid fill: OpenCV's inpainting at 1/8 resolution, then at each finer level (1/4,
1/2, 1) the upsampled coarser fill is kept in the middle of the hole and only a ring along
the hole's border is inpainted again, so large holes get a smooth, structure-level fill
fast."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from app.engine.fills.base import PARTIAL_SCALES
from app.engine.fills.direct import OpenCVFill, inpaint
from app.engine.fills.levels import downscale, known_mean, resize


@dataclass(frozen=True)
class PyramidFill(OpenCVFill):
    """Coarse to fine with ``cv2.inpaint`` at every level; the ring refilled at each finer
    level is ``2 * radius + 2`` pixels wide."""

    def window_stages(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...]
    ) -> Iterator[tuple[int, np.ndarray]]:
        fallback = known_mean(image, hole)
        previous: np.ndarray | None = None
        for factor in (*PARTIAL_SCALES, 1):
            level, level_hole = downscale(image, hole, factor)
            if previous is None:
                filled = inpaint(level, level_hole, self.method, self.radius, fallback)
            else:
                guess = level.copy()
                up = resize(previous, level.shape[1], level.shape[0])
                guess[level_hole] = up[level_hole]
                distance = cv2.distanceTransform(level_hole.view(np.uint8), cv2.DIST_L2, 3)
                ring = level_hole & (distance <= 2 * self.radius + 2)
                filled = inpaint(guess, ring, self.method, self.radius, fallback)
            previous = filled
            if factor in scales or factor == 1:
                yield factor, filled
