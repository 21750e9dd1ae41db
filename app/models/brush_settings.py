"""The brush the designer paints the mask with: size, hardness, opacity."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from app.core.mask import Brush

MIN_SIZE = 1.0
MAX_SIZE = 2000.0


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, float(value)))


class BrushSettings(QObject):
    """Brush state shared by the canvas (which paints with it) and the tool options bar
    (which edits it). ``size`` is the diameter in image pixels, as in Photoshop and Krita;
    ``hardness`` and ``opacity`` are 0..1. With ``pressure_size`` a tablet's pressure scales
    the size of each dab."""

    changed = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        size: float = 60.0,
        hardness: float = 0.7,
        opacity: float = 1.0,
        pressure_size: bool = True,
    ) -> None:
        super().__init__(parent)
        self._size = _clamp(size, MIN_SIZE, MAX_SIZE)
        self._hardness = _clamp(hardness, 0.0, 1.0)
        self._opacity = _clamp(opacity, 0.01, 1.0)
        self._pressure_size = pressure_size

    @property
    def size(self) -> float:
        return self._size

    @property
    def radius(self) -> float:
        return self._size / 2.0

    @property
    def hardness(self) -> float:
        return self._hardness

    @property
    def opacity(self) -> float:
        return self._opacity

    @property
    def pressure_size(self) -> bool:
        return self._pressure_size

    def set_size(self, size: float) -> None:
        self._update("_size", _clamp(size, MIN_SIZE, MAX_SIZE))

    def set_hardness(self, hardness: float) -> None:
        self._update("_hardness", _clamp(hardness, 0.0, 1.0))

    def set_opacity(self, opacity: float) -> None:
        self._update("_opacity", _clamp(opacity, 0.01, 1.0))

    def set_pressure_size(self, enabled: bool) -> None:
        self._update("_pressure_size", bool(enabled))

    def grow(self) -> None:
        """One step up, as the ``]`` key: about 15 %, at least one pixel."""
        self.set_size(max(self._size + 1, math.floor(self._size * 1.15 + 0.5)))

    def shrink(self) -> None:
        self.set_size(min(self._size - 1, math.ceil(self._size / 1.15 - 0.5)))

    def to_brush(self) -> Brush:
        return Brush(radius=self.radius, hardness=self._hardness, opacity=self._opacity)

    def _update(self, name: str, value: float | bool) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.changed.emit()
