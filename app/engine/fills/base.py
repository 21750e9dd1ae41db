"""The contract every fill keeps: the hole it is given, the coarse scales it streams, and the
stage loop that runs it on a window around the hole and composites the result back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from app.engine.cancel import Cancel
from app.engine.fills.levels import resize

HOLE_BELOW_ALPHA = 128
"""A mask pixel whose alpha is below this is part of the hole (OpenAI only says that alpha 0
is edited; soft brush edges below half opacity count as painted)."""

PARTIAL_SCALES = (8, 4, 2)
"""Downscale factors of the coarse stages, coarsest first."""

MIN_CONTEXT = 64
"""Pixels of surroundings every fill sees around the hole's bounding box."""


def hole_from_alpha(alpha: np.ndarray) -> np.ndarray:
    """The hole (True = fill) from a mask's alpha channel."""
    return alpha < HOLE_BELOW_ALPHA


def partial_scales(count: int) -> tuple[int, ...]:
    """The downscale factors of ``count`` partial images (0 to 3), coarsest first."""
    return PARTIAL_SCALES[: max(0, min(count, len(PARTIAL_SCALES)))]


@dataclass(frozen=True)
class Fill(ABC):
    """One way to fill a hole. ``name`` is the name of the variant that uses it (the README
    lists them); a subclass adds its parameters as fields and implements ``window_stages``."""

    name: str

    @property
    def context(self) -> int:
        """Pixels of surroundings the fill needs around the hole's bounding box."""
        return MIN_CONTEXT

    def margin(self, hole: np.ndarray) -> int:
        """The surroundings this hole gets (by default ``context``; a fill that copies
        texture from around a large hole asks for more)."""
        return self.context

    @abstractmethod
    def window_stages(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...]
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(factor, filled)`` for each factor of ``scales`` in order, ``filled`` being the
        fill at 1/factor, then ``(1, full-resolution fill)``. ``image`` (HxW or HxWxC uint8)
        and ``hole`` (HxW bool, neither empty nor full) are a window around the hole; only
        the hole's pixels of a result are used."""

    def window_stages_until(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...], cancel: Cancel
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``window_stages``, stopped by raising Cancelled when ``cancel`` is set. By default
        between stages; a fill whose stages are long overrides this and checks within them."""
        for stage in self.window_stages(image, hole, scales):
            yield stage
            cancel.check()

    def stages(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        scales: Sequence[int] = (),
        cancel: Cancel | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield the image with its hole filled: first at each coarse scale in ``scales``
        (upsampled and composited), then at full resolution. ``image`` is HxW or HxWxC uint8
        (any channel count), ``hole`` HxW bool. Pixels outside the hole are returned
        unchanged, bit for bit. Each ``next()`` does one stage's work, so a caller can stop
        between them; once ``cancel`` is set the work stops soon (raising Cancelled)."""
        if not hole.any():
            for _ in (*scales, 1):
                yield image.copy()
            return
        if hole.all():
            raise ValueError("the hole covers the whole image: nothing to fill it from")
        window = _window(hole, self.margin(hole))
        stages = self.window_stages_until(
            image[window], hole[window], tuple(scales), cancel or Cancel()
        )
        for _, filled in stages:
            yield _composite(image, hole, window, filled)

    def apply(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """The full-resolution fill alone (no coarse stages)."""
        *_, last = self.stages(image, hole)
        return last


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
        filled = resize(filled, part.shape[1], part.shape[0])
    inside = hole[window]
    part[inside] = filled[inside]
    return out
