"""The mask's outline (the 50 % line, exactly what the exported API mask edits) as vector
paths, cached per 256x256 tile so a brush stroke only re-traces the tiles it touched.

Each tile is traced (``app.core.mask.outline_polygons``) with a one-pixel border taken from
its neighbours, and drawn clipped to the tile: the border makes contours cross tile edges
where the mask does, and the clip hides the tracing along the border itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF

from app.core.mask import Box, outline_polygons

TILE = 256


class MaskOutline:
    def __init__(self) -> None:
        self._mask: np.ndarray | None = None
        self._paths: dict[tuple[int, int], QPainterPath] = {}

    def attach(self, mask: np.ndarray) -> None:
        self._mask = mask
        self._paths.clear()

    def invalidate(self, box: Box) -> None:
        if self._mask is None or box.is_empty:
            return
        # A pixel's change moves the traced line in the neighbouring tiles' borders too.
        grown = box.expanded(1)
        for key in list(self._paths):
            if not self._tile_box(key).intersect(grown).is_empty:
                del self._paths[key]

    def paths(self, area: Box) -> Iterator[tuple[QRectF, QPainterPath]]:
        """(tile rectangle, outline path) for every tile in ``area`` that has an outline."""
        if self._mask is None or area.is_empty:
            return
        height, width = self._mask.shape
        area = area.clipped(width, height)
        if area.is_empty:
            return
        for ty in range(area.y0 // TILE, (area.y1 - 1) // TILE + 1):
            for tx in range(area.x0 // TILE, (area.x1 - 1) // TILE + 1):
                key = (ty, tx)
                path = self._paths.get(key)
                if path is None:
                    path = self._paths[key] = self._trace(key)
                if not path.isEmpty():
                    box = self._tile_box(key)
                    yield QRectF(box.x0, box.y0, box.width, box.height), path

    def _tile_box(self, key: tuple[int, int]) -> Box:
        assert self._mask is not None
        ty, tx = key
        height, width = self._mask.shape
        return Box(tx * TILE, ty * TILE, min(width, (tx + 1) * TILE), min(height, (ty + 1) * TILE))

    def _trace(self, key: tuple[int, int]) -> QPainterPath:
        assert self._mask is not None
        height, width = self._mask.shape
        region = self._tile_box(key).expanded(1).clipped(width, height)
        path = QPainterPath()
        # The tracer gives pixel centres; ours sit at +0.5 in image coordinates.
        for points in outline_polygons(self._mask, region):
            if len(points) == 1:
                # A lone pixel: draw a dot's worth of outline around its centre.
                path.addRect(QRectF(points[0][0], points[0][1], 1, 1))
                continue
            path.addPolygon(QPolygonF([QPointF(x + 0.5, y + 0.5) for x, y in points.tolist()]))
            path.closeSubpath()
        return path
