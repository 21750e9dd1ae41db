"""Hole filling: the pixels of a hole are rebuilt from the pixels around it.

Three families of fill, all deterministic:

- ``direct``: one call of OpenCV's ``cv2.inpaint`` (Telea's fast marching method, or the
  Navier-Stokes method) at full resolution.
- ``pyramid``: the same OpenCV call at 1/8 resolution, then at each finer level (1/4, 1/2,
  1) the upsampled coarse fill is kept in the middle of the hole and only a ring along the
  hole's border is filled again, so large holes get a smooth, structure-level fill fast.
- ``membrane``: push-pull interpolation (a Gaussian pyramid of the known pixels, filled
  from the coarsest level down): the smoothest fill, like a soap film stretched over the
  hole's border, good for skies, walls and gradients.

Every fill is a generator of *stages*: the fill at a coarse scale (1/8, 1/4, 1/2, as asked)
and last the full-resolution fill. The coarse stages are real fills at that scale, and they
are what the engine streams as partial images. Work happens on a window around the hole
only, and the result is composited back through the hole, so pixels outside the hole are
never touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

HOLE_BELOW_ALPHA = 128
"""A mask pixel whose alpha is below this is part of the hole (OpenAI only says that alpha 0
is edited; soft brush edges below half opacity count as painted)."""

PARTIAL_SCALES = (8, 4, 2)
"""Downscale factors of the coarse stages, coarsest first."""

_MIN_CONTEXT = 64  # px of surroundings kept around the hole's bounding box


@dataclass(frozen=True)
class Fill:
    """One way to fill a hole. ``family`` is direct, pyramid or membrane; ``method`` is
    telea or navier-stokes (unused by membrane); ``radius`` is OpenCV's inpaint radius in
    pixels, or for membrane the weight gain of the push step (higher is crisper)."""

    family: str
    method: str = "telea"
    radius: int = 3

    @property
    def cv_flag(self) -> int:
        return cv2.INPAINT_NS if self.method == "navier-stokes" else cv2.INPAINT_TELEA


def hole_from_alpha(alpha: np.ndarray) -> np.ndarray:
    """The hole (True = fill) from a mask's alpha channel."""
    return alpha < HOLE_BELOW_ALPHA


def partial_scales(count: int) -> tuple[int, ...]:
    """The downscale factors of ``count`` partial images (0 to 3), coarsest first."""
    return PARTIAL_SCALES[: max(0, min(count, len(PARTIAL_SCALES)))]


def fill_stages(
    image: np.ndarray, hole: np.ndarray, fill: Fill, scales: Sequence[int] = ()
) -> Iterator[np.ndarray]:
    """Yield the image with its hole filled: first at each coarse scale in ``scales``
    (upsampled and composited), then at full resolution. ``image`` is HxW or HxWxC uint8
    (any channel count), ``hole`` HxW bool. Pixels outside the hole are returned unchanged,
    bit for bit. Each ``next()`` does one stage's work, so a caller can stop between them."""
    if not hole.any():
        for _ in (*scales, 1):
            yield image.copy()
        return
    if hole.all():
        raise ValueError("the hole covers the whole image: nothing to fill it from")
    window = _window(hole, max(_MIN_CONTEXT, 2 * fill.radius + 8))
    part, part_hole = image[window], hole[window]
    for factor, filled in _stages(part, part_hole, fill, tuple(scales)):
        yield _composite(image, hole, window, filled)
        if factor == 1:
            return


def fill_hole(image: np.ndarray, hole: np.ndarray, fill: Fill) -> np.ndarray:
    """The full-resolution fill alone (no coarse stages)."""
    *_, last = fill_stages(image, hole, fill)
    return last


def _stages(
    image: np.ndarray, hole: np.ndarray, fill: Fill, scales: tuple[int, ...]
) -> Iterator[tuple[int, np.ndarray]]:
    """(factor, filled window) for each wanted scale, then (1, full-resolution fill)."""
    if fill.family == "direct":
        for factor in scales:
            level, level_hole = _downscale(image, hole, factor)
            yield factor, _inpaint(level, level_hole, fill, _mean(image, hole))
        yield 1, _inpaint(image, hole, fill, _mean(image, hole))
    elif fill.family == "pyramid":
        yield from _pyramid(image, hole, fill, scales)
    elif fill.family == "membrane":
        yield from _membrane(image, hole, fill, scales)
    else:
        raise ValueError(f"unknown fill family {fill.family!r}")


def _window(hole: np.ndarray, margin: int) -> tuple[slice, slice]:
    ys, xs = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
    height, width = hole.shape
    return (
        slice(max(0, ys[0] - margin), min(height, ys[-1] + 1 + margin)),
        slice(max(0, xs[0] - margin), min(width, xs[-1] + 1 + margin)),
    )


def _composite(
    image: np.ndarray, hole: np.ndarray, window: tuple[slice, slice], filled: np.ndarray
) -> np.ndarray:
    out = image.copy()
    part = out[window]
    if filled.shape[:2] != part.shape[:2]:
        filled = _resize(filled, part.shape[1], part.shape[0])
    inside = hole[window]
    part[inside] = filled[inside]
    return out


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    out = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return out.reshape(height, width, *image.shape[2:])


def _downscale(image: np.ndarray, hole: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
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


def _mean(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    return np.rint(image[~hole].mean(axis=0)).astype(np.uint8)


def _inpaint(image: np.ndarray, hole: np.ndarray, fill: Fill, fallback: np.ndarray) -> np.ndarray:
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
        return cv2.inpaint(image, mask, fill.radius, fill.cv_flag).reshape(image.shape)
    # RGBA: colour in one call, alpha in another (OpenCV takes 1 or 3 channels).
    groups = (
        [slice(0, 3), slice(3, channels)]
        if channels == 4
        else [slice(c, c + 1) for c in range(channels)]
    )
    planes = [
        cv2.inpaint(np.ascontiguousarray(image[..., group]), mask, fill.radius, fill.cv_flag)
        for group in groups
    ]
    return np.dstack(planes)


def _pyramid(
    image: np.ndarray, hole: np.ndarray, fill: Fill, scales: tuple[int, ...]
) -> Iterator[tuple[int, np.ndarray]]:
    fallback = _mean(image, hole)
    previous: np.ndarray | None = None
    for factor in (*PARTIAL_SCALES, 1):
        level, level_hole = _downscale(image, hole, factor)
        if previous is None:
            filled = _inpaint(level, level_hole, fill, fallback)
        else:
            guess = level.copy()
            up = _resize(previous, level.shape[1], level.shape[0])
            guess[level_hole] = up[level_hole]
            distance = cv2.distanceTransform(level_hole.view(np.uint8), cv2.DIST_L2, 3)
            ring = level_hole & (distance <= 2 * fill.radius + 2)
            filled = _inpaint(guess, ring, fill, fallback)
        previous = filled
        if factor in scales or factor == 1:
            yield factor, filled


def _membrane(
    image: np.ndarray, hole: np.ndarray, fill: Fill, scales: tuple[int, ...]
) -> Iterator[tuple[int, np.ndarray]]:
    known = (~hole).astype(np.float32)
    shape = image.shape
    colour = image.astype(np.float32).reshape(shape[0], shape[1], -1)
    weights, values = [known], [colour * known[..., None]]
    # Pull: premultiplied colour and weight, halved until every pixel sees something known
    # (and at least down to the coarsest partial scale).
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
        alpha = np.clip(weights[level] * fill.radius, 0.0, 1.0)[..., None]
        current = alpha * own + (1.0 - alpha) * up
        factor = 2**level
        if factor in scales:
            yield factor, _to_image(current, shape)
    yield 1, _to_image(current, shape) if len(weights) > 1 else image.copy()


def _to_image(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    height, width = values.shape[:2]
    return np.rint(values).clip(0, 255).astype(np.uint8).reshape(height, width, *shape[2:])
