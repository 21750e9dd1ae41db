"""Difference maps of picture pairs for the compare view, computed off the UI thread.

The math is app.core.composite (``difference_heat`` then ``heat_to_rgba``); here the pair's
QImages become arrays, the heat becomes zoom levels ready to draw, and the last few pairs
are kept. A 3840x2160 pair takes about 200 ms, so large pairs run on the editor's worker
pool (app.qt.background) and report back on the UI thread; small ones are computed inline,
which keeps their result synchronous.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QImage

from app.core.composite import difference_heat, heat_to_rgba
from app.models.levels import build_levels
from app.qt.background import Background

PairKey = tuple[int, int]

INLINE_PIXELS = 1_000_000
"""Pairs up to this many pixels are computed on the spot (a few milliseconds)."""
_KEEP = 4  # pairs kept; a 3840x2160 map and its levels hold about 45 MB


def pair_key(a: QImage, b: QImage) -> PairKey:
    # The heat is symmetric (|a - b|), so a flipped pair reuses its map.
    first, second = sorted((a.cacheKey(), b.cacheKey()))
    return first, second


def image_array(image: QImage) -> np.ndarray:
    """(H, W, 3) RGB or, for pictures with alpha, (H, W, 4) RGBA uint8, a copy."""
    alpha = image.hasAlphaChannel()
    fmt = QImage.Format.Format_RGBA8888 if alpha else QImage.Format.Format_RGB888
    channels = 4 if alpha else 3
    converted = image.convertToFormat(fmt)
    width, height = converted.width(), converted.height()
    rows = np.frombuffer(converted.constBits(), np.uint8).reshape(height, -1)
    # Copied: the bytes belong to ``converted``, which goes away with this function.
    return rows[:, : width * channels].reshape(height, width, channels).copy()


def heat_levels(a: QImage, b: QImage) -> list[QImage]:
    """The difference of a and b as an RGBA heat map (transparent where equal), in levels.
    Safe in a worker thread."""
    rgba = np.ascontiguousarray(heat_to_rgba(difference_heat(image_array(a), image_array(b))))
    height, width = rgba.shape[:2]
    image = QImage(rgba.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
    return build_levels(image)  # converts, so the array may go


class DifferenceMaps(QObject):
    """Heat maps of picture pairs: ``get`` answers at once from the cache or for a small
    pair, otherwise starts the work and answers None; ``computed`` tells when it is ready."""

    computed = Signal(object)
    """The PairKey whose map is now cached."""
    failed = Signal(object, str)
    """The PairKey and why its map could not be computed."""

    def __init__(
        self, parent: QObject | None = None, *, inline_pixels: int = INLINE_PIXELS
    ) -> None:
        super().__init__(parent)
        self.inline_pixels = inline_pixels
        self._background = Background(self)
        self._maps: OrderedDict[PairKey, list[QImage]] = OrderedDict()
        self._pending: set[PairKey] = set()

    def get(self, a: QImage, b: QImage) -> list[QImage] | None:
        key = pair_key(a, b)
        if key in self._maps:
            self._maps.move_to_end(key)
            return self._maps[key]
        if a.width() * a.height() <= self.inline_pixels:
            self._store(key, heat_levels(a, b))
            return self._maps[key]
        if key not in self._pending:
            self._pending.add(key)
            self._background.run(
                lambda: heat_levels(a, b),
                lambda levels: self._on_done(key, levels),
                lambda exc: self._on_failed(key, str(exc)),
            )
        return None

    def pending(self, a: QImage, b: QImage) -> bool:
        return pair_key(a, b) in self._pending

    def wait(self, msecs: int = -1) -> bool:
        """Block until running jobs end (tests, benchmarks, shutdown)."""
        done = self._background.wait(None if msecs < 0 else msecs / 1000)
        QCoreApplication.processEvents()  # deliver the answers
        return done

    def _store(self, key: PairKey, levels: list[QImage]) -> None:
        self._maps[key] = levels
        self._maps.move_to_end(key)
        while len(self._maps) > _KEEP:
            self._maps.popitem(last=False)

    def _on_done(self, key: Any, levels: Any) -> None:
        self._pending.discard(key)
        self._store(key, levels)
        self.computed.emit(key)

    def _on_failed(self, key: Any, message: str) -> None:
        self._pending.discard(key)
        self.failed.emit(key, message)
