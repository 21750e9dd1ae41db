"""The outline of a shape being drawn (rectangle, ellipse, lasso, polygon), as marching
ants: a light line under a dark dashed one, both one screen pixel wide."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.ui.canvas.screen_item import ScreenScaledItem


class ShapePreviewItem(ScreenScaledItem):
    def __init__(self) -> None:
        super().__init__()
        self._path = QPainterPath()
        self._fill = QColor(0, 0, 0, 0)
        self.setZValue(50)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    @property
    def path(self) -> QPainterPath:
        return self._path

    def set_path(self, path: QPainterPath, *, subtract: bool = False) -> None:
        self.prepareGeometryChange()
        self._path = path
        # A faint wash tells adding (light) from subtracting (dark) before the release.
        self._fill = QColor(0, 0, 0, 60) if subtract else QColor(255, 255, 255, 40)
        self.update()

    def clear(self) -> None:
        self.set_path(QPainterPath())

    def boundingRect(self) -> QRectF:
        margin = 2.0 / self._scale
        return self._path.controlPointRect().adjusted(-margin, -margin, margin, margin)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._path.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillPath(self._path, self._fill)
        light = QPen(QColor(255, 255, 255, 235), 1.0)
        light.setCosmetic(True)
        dark = QPen(QColor(0, 0, 0, 235), 1.0, Qt.PenStyle.CustomDashLine)
        dark.setCosmetic(True)
        dark.setDashPattern([4.0, 4.0])
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(light)
        painter.drawPath(self._path)
        painter.setPen(dark)
        painter.drawPath(self._path)
