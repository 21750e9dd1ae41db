"""The wipe: two pictures split by a vertical divider, and the handle drawn on it.

Both pictures are PhotoItems (app.ui.canvas.layers: pre-scaled levels, crisp pixels at high
zoom) that draw only their own side of the divider. The edge is clipped on a whole viewport
pixel, so A and B meet on one column with no seam and no overlap, and the handle is drawn on
that same column. Moving the divider repaints only the strip between the old and the new
edge (``strip``); nothing is converted or rescaled per move.
"""

from __future__ import annotations

import math
from typing import Literal

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.ui.canvas.layers import PhotoItem

Side = Literal["all", "left", "right"]

HANDLE_RADIUS = 13
"""The knob in the middle of the divider, in logical pixels."""
HANDLE_REACH = HANDLE_RADIUS + 5
"""How far the handle (knob and shadow) reaches either side of the edge."""
_FAR = 1 << 20  # past any viewport edge


def divider_edge(transform: QTransform, divider: float) -> int:
    """The viewport column where the divider at image x ``divider`` cuts: B starts there.
    Rounded half up, the same way for the items and the handle."""
    return math.floor(transform.map(QPointF(divider, 0.0)).x() + 0.5)


def strip(old_edge: int, new_edge: int, height: int) -> QRect:
    """What changes when the divider moves: the pixels that switch picture, and the handle
    at both ends."""
    left = min(old_edge, new_edge) - HANDLE_REACH
    right = max(old_edge, new_edge) + HANDLE_REACH
    return QRect(left, 0, right - left + 1, height)


class SidedPhotoItem(PhotoItem):
    """A PhotoItem that draws everywhere, or only left or right of the divider (image x).
    An ``overlay`` (a drift or heat map) is see-through: no checkerboard under its
    transparent pixels, which a photo with alpha gets."""

    def __init__(self, *, overlay: bool = False) -> None:
        super().__init__(checker=not overlay)
        self.side: Side = "all"
        self.divider = 0.0

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.side == "all":
            super().paint(painter, option, widget)
            return
        exposed = QRectF(option.exposedRect)
        # One image pixel of slack: the clip below makes the cut exact.
        if self.side == "left":
            exposed.setRight(min(exposed.right(), self.divider + 1.0))
        else:
            exposed.setLeft(max(exposed.left(), self.divider - 1.0))
        if exposed.isEmpty():
            return
        transform = painter.worldTransform()
        edge = divider_edge(transform, self.divider)
        narrowed = QStyleOptionGraphicsItem(option)
        narrowed.exposedRect = exposed
        painter.save()
        # Clipped in viewport pixels, not image units: a rectangle on whole device pixels
        # keeps the raster engine's fast rectangular clip at any zoom.
        painter.resetTransform()
        if self.side == "left":
            painter.setClipRect(QRect(-_FAR, -_FAR, _FAR + edge, 2 * _FAR),
                                Qt.ClipOperation.IntersectClip)  # fmt: skip
        else:
            painter.setClipRect(QRect(edge, -_FAR, _FAR, 2 * _FAR),
                                Qt.ClipOperation.IntersectClip)  # fmt: skip
        painter.setWorldTransform(transform)
        super().paint(painter, narrowed, widget)
        painter.restore()


class DimItem(QGraphicsItem):
    """A translucent black veil over the picture, so that a heat map over it stands out."""

    def __init__(self, opacity: float = 0.6) -> None:
        super().__init__()
        self._color = QColor(0, 0, 0, round(255 * opacity))
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, width, height)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.fillRect(option.exposedRect.intersected(self._rect), self._color)


def paint_handle(painter: QPainter, edge: int, top: float, bottom: float) -> None:
    """The divider at viewport column ``edge`` from ``top`` to ``bottom``, with a round knob
    in the middle. The painter is in viewport coordinates."""
    if bottom <= top:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    # A light line with dark edges reads on any photo, light or dark.
    painter.fillRect(QRectF(edge - 2, top, 4, bottom - top), QColor(0, 0, 0, 110))
    painter.fillRect(QRectF(edge - 1, top, 2, bottom - top), QColor(250, 250, 252))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    middle = QPointF(edge, (top + bottom) / 2)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 70))
    painter.drawEllipse(middle + QPointF(0, 1.5), HANDLE_RADIUS + 2, HANDLE_RADIUS + 2)
    painter.setBrush(QColor(250, 250, 252))
    painter.setPen(QPen(QColor(0, 0, 0, 120), 1.0))
    painter.drawEllipse(middle, HANDLE_RADIUS, HANDLE_RADIUS)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(60, 60, 66))
    for direction in (-1, 1):
        tip = middle + QPointF(direction * 8.5, 0)
        back = middle + QPointF(direction * 3.5, 0)
        arrow = QPainterPath(tip)
        arrow.lineTo(back + QPointF(0, -4.5))
        arrow.lineTo(back + QPointF(0, 4.5))
        arrow.closeSubpath()
        painter.drawPath(arrow)
    painter.restore()
