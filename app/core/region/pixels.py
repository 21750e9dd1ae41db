"""Cutting the region out at the size sent, and scaling a result back to the region.

Pictures are (H, W, 3|4) uint8 sRGB arrays (the working copy sent to the API); they are
resampled as ``composite.fit_to`` does for whole results: area averaging on an axis that
shrinks, bicubic on one that grows, premultiplied when there is transparency. The mask is
scaled with ``sending.scaled_mask``'s rule: a pixel of the scaled mask is painted wherever
any pixel under it was, so a thin stroke is never lost on the way.
"""

from __future__ import annotations

import numpy as np

from app.core.composite import fit_to
from app.core.mask import check_mask
from app.core.region.bounds import Rect
from app.core.sending import scaled_mask


def _region_in(region: Rect | tuple[int, int, int, int], shape: tuple[int, ...]) -> Rect:
    rect = Rect(*(int(v) for v in region))
    height, width = shape[:2]
    if rect.is_empty or not Rect(0, 0, width, height).contains(rect):
        raise ValueError(f"the region {rect} is not inside the {width}x{height} picture")
    return rect


def _size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(side) for side in size)
    if width <= 0 or height <= 0:
        raise ValueError(f"the size must be positive, got {width}x{height}")
    return width, height


def crop(
    pixels: np.ndarray, region: Rect | tuple[int, int, int, int], size: tuple[int, int]
) -> np.ndarray:
    """The ``region`` of ``pixels`` scaled to ``size`` (width, height), as a new array."""
    rect = _region_in(region, pixels.shape)
    part = pixels[rect.slices]
    fitted = fit_to(part, *_size(size))
    return fitted.pixels if fitted.scaled else part.copy()


def crop_mask(
    coverage: np.ndarray, region: Rect | tuple[int, int, int, int], size: tuple[int, int]
) -> np.ndarray:
    """The ``region`` of the coverage layer ((H, W) uint8) at ``size`` (width, height), as
    a new array: as it is at the region's own size, else 255 wherever any coverage lay
    under a pixel and 0 elsewhere (``sending.scaled_mask``)."""
    check_mask(coverage)
    rect = _region_in(region, coverage.shape)
    return scaled_mask(coverage[rect.slices].copy(), _size(size))


def place_back(result: np.ndarray, region: Rect | tuple[int, int, int, int]) -> np.ndarray:
    """A result ((h, w, 3|4) uint8 at the size sent) scaled to the region's size, ready to
    be pasted at the region's place in the photo (``photo[region.slices]``)."""
    rect = Rect(*(int(v) for v in region))
    if rect.is_empty:
        raise ValueError(f"the region {rect} is empty")
    return fit_to(result, rect.width, rect.height).pixels
