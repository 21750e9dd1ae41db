"""Operations on the whole mask, each returned as an ``Edit``: clear, fill and invert, and
grow, shrink and feather the painted area; plus ``outline_polygons``, the 50 % line that
the exported API mask edits, traced as polygons for the canvas to draw.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from app.core.mask.geometry import EDIT_THRESHOLD, FULL, Box, Edit, nonzero_box


def cleared(mask: np.ndarray) -> Edit:
    box = nonzero_box(mask)
    return Edit(box, np.zeros((box.height, box.width), np.uint8))


def filled(mask: np.ndarray) -> Edit:
    height, width = mask.shape
    return Edit(Box.of_size(width, height), np.full((height, width), FULL, np.uint8))


def inverted(mask: np.ndarray) -> Edit:
    height, width = mask.shape
    return Edit(Box.of_size(width, height), FULL - mask)


def _distance_to(region: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest pixel where ``region`` is False."""
    return cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def grown(mask: np.ndarray, pixels: int) -> Edit:
    """Grow the painted area (coverage >= 128) by ``pixels``, with an anti-aliased rim. A
    distance transform costs the same for any radius, unlike a dilation by a large disc."""
    if pixels <= 0:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    height, width = mask.shape
    box = nonzero_box(mask >= EDIT_THRESHOLD).expanded(pixels + 1).clipped(width, height)
    if box.is_empty:
        return Edit(box, np.zeros((0, 0), np.uint8))
    current = mask[box.slices]
    distance = _distance_to(current < EDIT_THRESHOLD)
    # Pixels already inside (distance 0) keep their coverage; the rim is anti-aliased.
    ring = np.where(distance > 0, np.clip(pixels + 1.0 - distance, 0.0, 1.0), 0.0)
    return Edit(box, np.maximum(current, np.rint(ring * FULL).astype(np.uint8)))


def shrunk(mask: np.ndarray, pixels: int) -> Edit:
    """Shrink the painted area by ``pixels``. The image border does not count as unpainted,
    so a mask touching the edge of the picture stays there (as Photoshop's default)."""
    if pixels <= 0:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    height, width = mask.shape
    box = nonzero_box(mask).expanded(1).clipped(width, height)
    if box.is_empty:
        return Edit(box, np.zeros((0, 0), np.uint8))
    current = mask[box.slices]
    distance = _distance_to(current >= EDIT_THRESHOLD)
    keep = np.clip(distance - pixels, 0.0, 1.0)
    return Edit(box, np.minimum(current, np.rint(keep * FULL).astype(np.uint8)))


def feathered(mask: np.ndarray, pixels: int) -> Edit:
    """Soften the mask's edge with a Gaussian blur of sigma ``pixels / 2`` (the edge fades
    over about ``2 * pixels``). The 50 % line, hence the exported API mask, barely moves."""
    if pixels <= 0:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    height, width = mask.shape
    sigma = pixels / 2.0
    reach = math.ceil(3 * sigma) + 1
    box = nonzero_box(mask).expanded(reach).clipped(width, height)
    if box.is_empty:
        return Edit(box, np.zeros((0, 0), np.uint8))
    blurred = cv2.GaussianBlur(
        mask[box.slices], (2 * reach + 1, 2 * reach + 1), sigma, borderType=cv2.BORDER_REPLICATE
    )
    return Edit(box, blurred)


def outline_polygons(mask: np.ndarray, box: Box) -> list[np.ndarray]:
    """The 50 % line (what the API mask edits) of ``mask[box]`` as closed polygons of
    (x, y) pixel-centre points in the mask's coordinates, one (N, 2) int array each."""
    inside = (mask[box.slices] >= EDIT_THRESHOLD).astype(np.uint8)
    if not inside.any():
        return []
    contours, _ = cv2.findContours(inside, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    offset = np.array([box.x0, box.y0])
    return [contour.reshape(-1, 2) + offset for contour in contours]
