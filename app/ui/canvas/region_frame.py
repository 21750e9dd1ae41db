"""Crop to mask on the canvas: the region that will be sent, drawn as a dashed frame over
the picture, and the Region tool (C) that moves it (drag inside) or resizes it (drag a
corner or an edge). The frame shows what app.models.crop planned; a finished drag is
announced by the canvas (``region_dragged``) and the model plans again from it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.ui.canvas.screen_item import ScreenScaledItem
from app.ui.canvas.tools import PointerInput, Tool, ToolKind

GRAB_PX = 10.0
"""How near (in screen pixels) a corner or an edge must be pressed to resize by it."""
_CURSORS = {
    "move": Qt.CursorShape.SizeAllCursor,
    "l": Qt.CursorShape.SizeHorCursor,
    "r": Qt.CursorShape.SizeHorCursor,
    "t": Qt.CursorShape.SizeVerCursor,
    "b": Qt.CursorShape.SizeVerCursor,
    "lt": Qt.CursorShape.SizeFDiagCursor,
    "rb": Qt.CursorShape.SizeFDiagCursor,
    "rt": Qt.CursorShape.SizeBDiagCursor,
    "lb": Qt.CursorShape.SizeBDiagCursor,
}


class RegionFrameItem(ScreenScaledItem):
    """The region as a frame: a light line under an amber dashed one, one screen pixel
    wide; with the Region tool, the picture outside it is dimmed and its corners have
    handles."""

    def __init__(self) -> None:
        super().__init__()
        self.rect = QRectF()
        self.bounds = QRectF()  # the picture's
        self.editing = False
        self.setZValue(40)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setVisible(False)

    def set_rect(self, rect: QRectF | None, bounds: QRectF) -> None:
        self.prepareGeometryChange()
        self.rect = QRectF(rect) if rect is not None else QRectF()
        self.bounds = QRectF(bounds)
        self.setVisible(rect is not None and not rect.isEmpty())
        self.update()

    def set_editing(self, on: bool) -> None:
        self.editing = on
        self.update()

    def boundingRect(self) -> QRectF:
        margin = 6.0 / self._scale
        return self.bounds.united(self.rect).adjusted(-margin, -margin, margin, margin)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.rect.isEmpty():
            return
        if self.editing:
            outside = QPainterPath()
            outside.addRect(self.bounds)
            inside = QPainterPath()
            inside.addRect(self.rect)
            painter.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 90))
        light = QPen(QColor(255, 255, 255, 230), 1.0)
        light.setCosmetic(True)
        amber = QPen(QColor(240, 170, 40), 1.0, Qt.PenStyle.CustomDashLine)
        amber.setCosmetic(True)
        amber.setDashPattern([6.0, 4.0])
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for pen in (light, amber):
            painter.setPen(pen)
            painter.drawRect(self.rect)
        if self.editing:
            half = 4.0 / self._scale
            painter.setPen(light)
            painter.setBrush(QColor(240, 170, 40))
            for corner in (self.rect.topLeft(), self.rect.topRight(),
                           self.rect.bottomLeft(), self.rect.bottomRight()):  # fmt: skip
                painter.drawRect(QRectF(corner.x() - half, corner.y() - half, 2 * half, 2 * half))


class RegionTool(Tool):
    """Drag inside the frame to move it, a corner or an edge to resize it; Esc puts it
    back. The frame stays inside the picture."""

    kind = ToolKind.REGION

    def __init__(self, host, frame: RegionFrameItem) -> None:
        super().__init__(host)
        self.frame = frame
        self._grab: str | None = None
        self._hover: str | None = None
        self._start: QPointF | None = None
        self._before = QRectF()

    @property
    def cursor(self) -> QCursor:
        return QCursor(_CURSORS.get(self._grab or self._hover or "", Qt.CursorShape.ArrowCursor))

    @property
    def busy(self) -> bool:
        return self._grab is not None

    def activate(self) -> None:
        self.frame.set_editing(True)
        if self.frame.rect.isEmpty():
            self.host.show_hud("Turn on Crop to mask and paint: the region follows the mask")

    def deactivate(self) -> None:
        self.cancel()
        self.frame.set_editing(False)

    def hit(self, scene: QPointF) -> str | None:
        """What a press at ``scene`` would grab: a corner or edge ("lt", "r"...), "move"
        inside, None outside."""
        rect = self.frame.rect
        if rect.isEmpty():
            return None
        reach = GRAB_PX / max(self.host.view_scale(), 1e-6)
        x, y = scene.x(), scene.y()
        if not rect.adjusted(-reach, -reach, reach, reach).contains(scene):
            return None
        near = {
            "l": abs(x - rect.left()) <= reach,
            "r": abs(x - rect.right()) <= reach,
            "t": abs(y - rect.top()) <= reach,
            "b": abs(y - rect.bottom()) <= reach,
        }
        side = next((k for k in "lr" if near[k]), "") + next((k for k in "tb" if near[k]), "")
        return side or ("move" if rect.contains(scene) else None)

    def hover(self, event: PointerInput) -> None:
        self._hover = self.hit(event.scene)

    def press(self, event: PointerInput) -> None:
        if event.button != Qt.MouseButton.LeftButton:
            return
        self._grab = self.hit(event.scene)
        self._start, self._before = event.scene, QRectF(self.frame.rect)

    def move(self, event: PointerInput) -> None:
        if self._grab is None or self._start is None:
            self._hover = self.hit(event.scene)
            return
        delta = event.scene - self._start
        rect, bounds = QRectF(self._before), self.frame.bounds
        if self._grab == "move":
            rect.translate(delta)
            dx = max(bounds.left() - rect.left(), 0) + min(bounds.right() - rect.right(), 0)
            dy = max(bounds.top() - rect.top(), 0) + min(bounds.bottom() - rect.bottom(), 0)
            rect.translate(dx, dy)
        else:
            rect = _resized(rect, bounds, self._grab, delta)
        self.frame.set_rect(rect, bounds)
        self.host.show_hud(f"Region {round(rect.width())}×{round(rect.height())}")

    def release(self, event: PointerInput) -> None:
        if self._grab is None:
            return
        self._grab = None
        rect = self.frame.rect
        if rect != self._before:
            self.host.region_dragged.emit(
                (round(rect.x()), round(rect.y()), round(rect.width()), round(rect.height()))
            )

    def cancel(self) -> bool:
        if self._grab is None:
            return False
        self._grab = None
        self.frame.set_rect(self._before, self.frame.bounds)
        return True


def _resized(rect: QRectF, bounds: QRectF, grab: str, delta: QPointF, least: float = 16) -> QRectF:
    """``rect`` with the sides named in ``grab`` moved by ``delta``, inside ``bounds``,
    at least ``least`` pixels on a side."""
    if "l" in grab:
        rect.setLeft(min(max(rect.left() + delta.x(), bounds.left()), rect.right() - least))
    if "r" in grab:
        rect.setRight(max(min(rect.right() + delta.x(), bounds.right()), rect.left() + least))
    if "t" in grab:
        rect.setTop(min(max(rect.top() + delta.y(), bounds.top()), rect.bottom() - least))
    if "b" in grab:
        rect.setBottom(max(min(rect.bottom() + delta.y(), bounds.bottom()), rect.top() + least))
    return rect
