"""The direct fill: OpenCV's own inpainting, one ``cv2.inpaint`` call at full resolution
(coarse stages make the same call on the image at 1/factor). Also the OpenCV call itself,
for any channel count, which the pyramid fill builds on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

import cv2
import numpy as np

from app.engine.fills.base import MIN_CONTEXT, Fill
from app.engine.fills.levels import downscale, known_mean


class Method(IntEnum):
    """OpenCV's inpainting methods: Telea's fast marching, or Navier-Stokes."""

    TELEA = cv2.INPAINT_TELEA
    NS = cv2.INPAINT_NS


def inpaint_context(radius: int) -> int:
    """The surroundings an inpainting of this radius reads around the hole."""
    return max(MIN_CONTEXT, 2 * radius + 8)


def inpaint(
    image: np.ndarray, hole: np.ndarray, method: Method, radius: int, fallback: np.ndarray
) -> np.ndarray:
    """cv2.inpaint for any channel count (it takes 1 or 3). A hole that covers everything
    (a coarse scale of a huge hole) gets ``fallback``, the mean colour of the surroundings."""
    if not hole.any():
        return image.copy()
    if hole.all():
        out = image.copy()
        out[...] = fallback
        return out
    mask = hole.view(np.uint8)
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels in (1, 3):
        return cv2.inpaint(image, mask, radius, method).reshape(image.shape)
    # RGBA: colour in one call, alpha in another (OpenCV takes 1 or 3 channels).
    groups = (
        [slice(0, 3), slice(3, channels)]
        if channels == 4
        else [slice(c, c + 1) for c in range(channels)]
    )
    planes = [
        cv2.inpaint(np.ascontiguousarray(image[..., group]), mask, radius, method)
        for group in groups
    ]
    return np.dstack(planes)


@dataclass(frozen=True)
class OpenCVFill(Fill):
    """A fill built on ``cv2.inpaint`` of ``method`` and ``radius`` (pixels), which needs
    ``inpaint_context(radius)`` pixels of surroundings."""

    method: Method
    radius: int

    @property
    def context(self) -> int:
        return inpaint_context(self.radius)


@dataclass(frozen=True)
class DirectFill(OpenCVFill):
    """``cv2.inpaint`` on the whole hole at once."""

    def window_stages(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...]
    ) -> Iterator[tuple[int, np.ndarray]]:
        fallback = known_mean(image, hole)
        for factor in scales:
            level, level_hole = downscale(image, hole, factor)
            yield factor, inpaint(level, level_hole, self.method, self.radius, fallback)
        yield 1, inpaint(image, hole, self.method, self.radius, fallback)
