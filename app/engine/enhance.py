"""The whole-image operation the engine applies when a request has no mask.

Without a mask there is no hole to fill, and the engine does not understand prompts, so it
does one documented, deterministic thing: an edge-preserving smoothing with a self-guided
filter (He, Sun and Tang, "Guided Image Filtering", 2010). The filtered *base* keeps edges
whose contrast is well above ``sqrt(epsilon)`` and flattens texture and noise below it;
``detail`` then mixes the input back in: 0 is the smoothed base, 1 the unchanged input, above
1 the input's fine detail is boosted (a "clarity" effect).

Like the hole fills, it is a generator of stages: the same filter at 1/8, 1/4 and 1/2
resolution (upsampled), then at full resolution.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Retouch:
    """``radius``: filter window radius in pixels at full resolution; ``epsilon``: the
    smoothing strength on 0..1 intensities; ``detail``: how much of the input's detail to
    keep (0) or boost (above 1)."""

    radius: int
    epsilon: float
    detail: float

    def stages(self, image: np.ndarray, scales: Sequence[int] = ()) -> Iterator[np.ndarray]:
        """Yield the retouched image at each coarse scale in ``scales`` (upsampled to full
        size), then at full resolution. ``image`` is HxWx3 or HxWx4 uint8; a fourth (alpha)
        channel is passed through unchanged."""
        height, width = image.shape[:2]
        colour = image[..., :3]
        for factor in (*scales, 1):
            if factor == 1:
                result = _retouch(colour, self, 1)
            else:
                size = (max(1, round(width / factor)), max(1, round(height / factor)))
                small = cv2.resize(colour, size, interpolation=cv2.INTER_AREA)
                result = cv2.resize(
                    _retouch(small, self, factor), (width, height), interpolation=cv2.INTER_LINEAR
                )
            if image.shape[2] == 4:
                result = np.dstack([result, image[..., 3]])
            yield result


def _retouch(colour: np.ndarray, retouch: Retouch, factor: int) -> np.ndarray:
    values = colour.astype(np.float32) * (1.0 / 255.0)
    base = _guided_self(values, max(1, round(retouch.radius / factor)), retouch.epsilon)
    out = base + retouch.detail * (values - base)
    return np.rint(out * 255.0).clip(0, 255).astype(np.uint8)


def _guided_self(values: np.ndarray, radius: int, epsilon: float) -> np.ndarray:
    """The guided filter with each channel as its own guide: O(1) per pixel (box filters)."""
    window = (2 * radius + 1, 2 * radius + 1)

    def box(plane: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(plane, -1, window, borderType=cv2.BORDER_REFLECT)

    mean = box(values)
    variance = np.maximum(box(values * values) - mean * mean, 0.0)
    gain = variance / (variance + epsilon)
    offset = mean - gain * mean
    return box(gain) * values + box(offset)
