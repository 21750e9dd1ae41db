"""Painting with a brush: the ``Brush`` settings, one anti-aliased round dab
(``dab_box``, ``dab_coverage``), and the ``Stroke`` that lays dabs along a path in place,
remembering the 64x64 tiles it changed for undo or abort (``paint_stroke`` does a whole
stroke at once).

Accumulation (as in Photoshop and Krita): within one stroke, dabs combine by *max* into a
stroke layer, so overlapping dabs never exceed the brush opacity and the spacing of the
dabs does not show; the stroke layer is then composited *over* the pixels the stroke started
from (painting: b + (255 - b) * a, erasing: b * (1 - a), a = layer * opacity). Two strokes
at 50 % therefore build up to 75 %, like two passes of an airbrush.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.core.mask.geometry import Box, check_mask

_TILE = 64  # stroke undo granularity: a diagonal stroke keeps tiles, not its whole bbox


@dataclass(frozen=True)
class Brush:
    """A round brush. ``radius`` in image pixels; ``hardness`` 0..1 is the part of the radius
    painted at full strength (the rest fades out smoothly); ``opacity`` 0..1 caps what one
    stroke adds; ``spacing`` is the distance between dabs as a fraction of the diameter."""

    radius: float
    hardness: float = 0.8
    opacity: float = 1.0
    spacing: float = 0.1

    def __post_init__(self) -> None:
        if not self.radius > 0:
            raise ValueError(f"brush radius must be positive, got {self.radius}")
        if not 0.0 <= self.hardness <= 1.0:
            raise ValueError(f"brush hardness must be within 0..1, got {self.hardness}")
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"brush opacity must be within 0..1, got {self.opacity}")
        if not 0.0 < self.spacing <= 1.0:
            raise ValueError(f"brush spacing must be within (0, 1], got {self.spacing}")


def dab_box(x: float, y: float, radius: float, width: int, height: int) -> Box:
    reach = radius + 0.5
    box = Box(
        math.floor(x - reach), math.floor(y - reach), math.ceil(x + reach), math.ceil(y + reach)
    )
    return box.clipped(width, height)


def dab_coverage(
    x: float, y: float, radius: float, hardness: float, width: int, height: int
) -> tuple[Box, np.ndarray]:
    """One round dab centred on (x, y): its box in the image and its coverage there (float32,
    0..1). Full strength inside ``radius * hardness``, then a smoothstep down to 0 at
    ``radius``; a hard brush still gets a one-pixel anti-aliased rim centred on ``radius``."""
    box = dab_box(x, y, radius, width, height)
    if box.is_empty:
        return box, np.zeros((0, 0), np.float32)
    inner, outer = radius * hardness, radius
    if outer - inner < 1.0:
        inner, outer = radius - 0.5, radius + 0.5
    xs = np.arange(box.x0, box.x1, dtype=np.float32) + np.float32(0.5 - x)
    ys = np.arange(box.y0, box.y1, dtype=np.float32) + np.float32(0.5 - y)
    distance = np.sqrt(xs[np.newaxis, :] ** 2 + ys[:, np.newaxis] ** 2)
    t = np.clip((outer - distance) / np.float32(outer - inner), 0.0, 1.0)
    return box, t * t * (3.0 - 2.0 * t)


@dataclass
class _Point:
    x: float
    y: float
    pressure: float


@dataclass(eq=False)
class Stroke:
    """A brush stroke in progress on ``mask``, modified in place as points are added.

    The stroke remembers, per 64x64 tile it touched, the tile's pixels before the stroke and
    its own max-accumulated coverage; ``restore`` puts the old pixels back (abort) and
    ``changed_tiles`` hands them to the undo history on commit. ``pressure`` (0..1, from a
    tablet) scales the radius."""

    mask: np.ndarray
    brush: Brush
    erase: bool = False
    box: Box = field(default_factory=Box.empty)
    _before: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _layer: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _last: _Point | None = field(default=None, repr=False)
    _to_next: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        check_mask(self.mask)

    def radius_at(self, pressure: float) -> float:
        return max(0.5, self.brush.radius * min(1.0, max(0.0, pressure)))

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> Box:
        """Extend the stroke to (x, y), laying dabs every ``spacing`` along the way; returns
        the box repainted."""
        point = _Point(x, y, pressure)
        last, self._last = self._last, point
        if last is None:
            self._to_next = self._spacing(pressure)
            return self._dab(point)
        dx, dy = x - last.x, y - last.y
        distance = math.hypot(dx, dy)
        touched = Box.empty()
        travelled = self._to_next
        while travelled <= distance:
            f = travelled / distance
            p = last.pressure + (pressure - last.pressure) * f
            touched = touched.union(self._dab(_Point(last.x + dx * f, last.y + dy * f, p)))
            travelled += self._spacing(p)
        self._to_next = travelled - distance
        return touched

    def add_points(self, points: Iterable[tuple[float, float]]) -> Box:
        touched = Box.empty()
        for x, y in points:
            touched = touched.union(self.add_point(x, y))
        return touched

    def restore(self) -> Box:
        """Put back every pixel the stroke changed (abort); returns the box to repaint."""
        for key, before in self._before.items():
            self.mask[self._tile_box(key).slices] = before
        touched, self.box = self.box, Box.empty()
        self._before.clear()
        self._layer.clear()
        return touched

    def changed_tiles(self) -> list[tuple[Box, np.ndarray]]:
        """The tiles whose pixels the stroke changed, each with its pixels before the stroke."""
        tiles = []
        for key, before in self._before.items():
            box = self._tile_box(key)
            if not np.array_equal(before, self.mask[box.slices]):
                tiles.append((box, before))
        return tiles

    def _spacing(self, pressure: float) -> float:
        return max(0.5, 2.0 * self.radius_at(pressure) * self.brush.spacing)

    def _tile_box(self, key: tuple[int, int]) -> Box:
        ty, tx = key
        height, width = self.mask.shape
        return Box(
            tx * _TILE, ty * _TILE, min(width, (tx + 1) * _TILE), min(height, (ty + 1) * _TILE)
        )

    def _dab(self, point: _Point) -> Box:
        height, width = self.mask.shape
        box, coverage = dab_coverage(
            point.x, point.y, self.radius_at(point.pressure), self.brush.hardness, width, height
        )
        if box.is_empty:
            return box
        dab = np.rint(coverage * 255.0).astype(np.uint8)
        strength = np.float32(self.brush.opacity / 255.0)
        for ty in range(box.y0 // _TILE, (box.y1 - 1) // _TILE + 1):
            for tx in range(box.x0 // _TILE, (box.x1 - 1) // _TILE + 1):
                key = (ty, tx)
                tile = self._tile_box(key)
                part = tile.intersect(box)
                if key not in self._before:
                    self._before[key] = self.mask[tile.slices].copy()
                    self._layer[key] = np.zeros((tile.height, tile.width), np.uint8)
                in_tile = part.translated(-tile.x0, -tile.y0).slices
                in_dab = part.translated(-box.x0, -box.y0).slices
                layer = self._layer[key][in_tile]
                np.maximum(layer, dab[in_dab], out=layer)
                alpha = layer * strength
                before = self._before[key][in_tile].astype(np.float32)
                if self.erase:
                    before *= 1.0 - alpha
                else:
                    before += (255.0 - before) * alpha
                self.mask[part.slices] = np.rint(before)
        self.box = self.box.union(box)
        return box


def paint_stroke(
    mask: np.ndarray,
    points: Sequence[tuple[float, float]],
    brush: Brush,
    *,
    erase: bool = False,
) -> Box:
    """Paint a whole stroke through ``points`` in place; returns the box it touched."""
    return Stroke(mask, brush, erase=erase).add_points(points)
