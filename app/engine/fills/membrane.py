"""The membrane fill: push-pull interpolation. A Gaussian pyramid of the known pixels is
built (pull) and filled from the coarsest level down (push): the smoothest fill, like a soap
film stretched over the hole's border, good for skies, walls and gradients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from app.engine.fills.base import PARTIAL_SCALES, Fill


@dataclass(frozen=True)
class MembraneFill(Fill):
    """``gain`` weighs each level's own pixels against the level above during the push:
    higher is crisper, lower a softer blend between levels."""

    gain: float

    def window_stages(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...]
    ) -> Iterator[tuple[int, np.ndarray]]:
        known = (~hole).astype(np.float32)
        shape = image.shape
        colour = image.astype(np.float32).reshape(shape[0], shape[1], -1)
        weights, values = [known], [colour * known[..., None]]
        # Pull: premultiplied colour and weight, halved until every pixel sees something
        # known (and at least down to the coarsest partial scale).
        while min(weights[-1].shape) > 1 and (
            weights[-1].min() <= 1e-3 or 2 ** (len(weights) - 1) < PARTIAL_SCALES[0]
        ):
            weights.append(cv2.pyrDown(weights[-1]))
            values.append(cv2.pyrDown(values[-1]).reshape(*weights[-1].shape, -1))
        top = values[-1] / np.maximum(weights[-1], 1e-6)[..., None]
        if weights[-1].min() <= 1e-6:
            top[:] = colour[~hole].mean(axis=0)
        if 2 ** (len(weights) - 1) in scales:
            yield 2 ** (len(weights) - 1), _to_image(top, shape)
        # Push: each level keeps what it knows and takes the rest from the level above.
        current = top
        for level in range(len(weights) - 2, -1, -1):
            height, width = weights[level].shape
            up = cv2.pyrUp(current, dstsize=(width, height)).reshape(height, width, -1)
            own = values[level] / np.maximum(weights[level], 1e-6)[..., None]
            alpha = np.clip(weights[level] * self.gain, 0.0, 1.0)[..., None]
            current = alpha * own + (1.0 - alpha) * up
            factor = 2**level
            if factor in scales:
                yield factor, _to_image(current, shape)
        yield 1, _to_image(current, shape) if len(weights) > 1 else image.copy()


def _to_image(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    height, width = values.shape[:2]
    return np.rint(values).clip(0, 255).astype(np.uint8).reshape(height, width, *shape[2:])
