"""An image at coarser scales, for fills that work from coarse to fine: downscaling that
ignores the hole, resizing, and the colour of the known pixels."""

from __future__ import annotations

import cv2
import numpy as np


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    out = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return out.reshape(height, width, *image.shape[2:])


def downscale(image: np.ndarray, hole: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """The image at 1/factor, averaged over known pixels only (the object being removed
    must not bleed into its surroundings), and the hole at that scale (coarse pixels that
    are less than half known)."""
    if factor == 1:
        return image, hole
    height, width = hole.shape
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    known = (~hole).astype(np.float32)
    weight = cv2.resize(known, size, interpolation=cv2.INTER_AREA)
    values = image.astype(np.float32) * (known if image.ndim == 2 else known[..., None])
    summed = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    summed = summed.reshape(size[1], size[0], *image.shape[2:])
    divisor = np.maximum(weight, 1e-6)
    coarse = summed / (divisor if image.ndim == 2 else divisor[..., None])
    return np.rint(coarse).clip(0, 255).astype(np.uint8), weight < 0.5


def known_mean(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The mean colour of the pixels outside the hole, rounded to uint8."""
    return np.rint(image[~hole].mean(axis=0)).astype(np.uint8)
