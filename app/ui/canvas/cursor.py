"""The brush cursor drawn on the image: its true size, its hardness, and its centre."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.ui.canvas.screen_item import ScreenScaledItem

_CROSS = 4.0  # half-length of the centre cross, in screen pixels


def _pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)
    return pen


class BrushCursorItem(ScreenScaledItem):
    """Outer circle = the brush's reach; inner dashed circle = where it paints at full
    strength (the hardness); a small cross marks the centre. Lines are one screen pixel
    wide, dark under light, so the cursor reads on any photo."""

    def __init__(self) -> None:
        super().__init__()
        self._radius = 10.0
        self._hardness = 1.0
        self._erase = False
        self.setZValue(100)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_brush(self, radius: float, hardness: float, *, erase: bool = False) -> None:
        if (radius, hardness, erase) != (self._radius, self._hardness, self._erase):
            self.prepareGeometryChange()
            self._radius, self._hardness, self._erase = radius, hardness, erase
            self.update()

    def boundingRect(self) -> QRectF:
        reach = max(self._radius, (_CROSS + 1) / self._scale) + 3.0 / self._scale
        return QRectF(-reach, -reach, 2 * reach, 2 * reach)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        radius = self._radius
        on_screen = radius * self._scale
        shade = _pen(QColor(0, 0, 0, 150), 3.0)
        light = _pen(QColor(255, 255, 255, 235), 1.0)
        if on_screen >= 3.0:
            painter.setPen(shade)
            painter.drawEllipse(QPointF(0, 0), radius, radius)
            painter.setPen(light)
            painter.drawEllipse(QPointF(0, 0), radius, radius)
            inner = radius * self._hardness
            if self._hardness < 0.98 and inner * self._scale >= 2.0:
                painter.setPen(_pen(QColor(255, 255, 255, 170), 1.0, Qt.PenStyle.DashLine))
                painter.drawEllipse(QPointF(0, 0), inner, inner)
        cross = _CROSS / self._scale
        for pen in (shade, light):
            painter.setPen(pen)
            painter.drawLine(QPointF(-cross, 0), QPointF(cross, 0))
            if not self._erase:
                # The eraser's centre is a minus sign, the brush's a plus.
                painter.drawLine(QPointF(0, -cross), QPointF(0, cross))
