"""Shape tools: rectangle and ellipse (drag), lasso (freehand drag) and polygon (click the
corners; double-click, Enter or a click on the first corner closes it). Each shape adds
to the mask; the right button or Alt subtracts from it. Shift keeps a square or a circle."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPolygonF

from app.core.mask import rect_box
from app.ui.canvas.tools import PointerInput, Tool, ToolHost, ToolKind

_CLOSE_DISTANCE = 8.0  # screen pixels from the first corner that close a polygon
_LASSO_STEP = 1.5  # screen pixels between lasso points
_SAME_CORNER = 3.0  # screen pixels within which a double-click repeats the last corner


def _subtracts(event: PointerInput) -> bool:
    return event.button == Qt.MouseButton.RightButton or event.has(Qt.KeyboardModifier.AltModifier)


def _is_paint_button(event: PointerInput) -> bool:
    return event.button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton)


class _DragShapeTool(Tool):
    """Press at one corner, release at the other."""

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._anchor: QPointF | None = None
        self._corner: QPointF | None = None
        self._button = Qt.MouseButton.NoButton
        self._subtract = False

    @property
    def busy(self) -> bool:
        return self._anchor is not None

    def press(self, event: PointerInput) -> None:
        if self._anchor is not None or not _is_paint_button(event):
            return
        self._anchor = self._corner = event.scene
        self._button = event.button
        self._subtract = _subtracts(event)

    def move(self, event: PointerInput) -> None:
        if self._anchor is None:
            return
        self._corner = self._constrained(event)
        self.host.preview.set_path(self._path(self._rect()), subtract=self._subtract)

    def release(self, event: PointerInput) -> None:
        if self._anchor is None or event.button != self._button:
            return
        self._corner = self._constrained(event)
        rect = self._rect()
        self.cancel()
        if (
            rect.width() * self.host.view_scale() >= 1
            and rect.height() * self.host.view_scale() >= 1
        ):
            self._commit(rect, self._subtract)

    def cancel(self) -> bool:
        active, self._anchor = self._anchor is not None, None
        self._button = Qt.MouseButton.NoButton
        self.host.preview.clear()
        return active

    def _constrained(self, event: PointerInput) -> QPointF:
        assert self._anchor is not None
        point = event.scene
        if not event.has(Qt.KeyboardModifier.ShiftModifier):
            return point
        dx, dy = point.x() - self._anchor.x(), point.y() - self._anchor.y()
        side = max(abs(dx), abs(dy))
        return QPointF(
            self._anchor.x() + math.copysign(side, dx), self._anchor.y() + math.copysign(side, dy)
        )

    def _rect(self) -> QRectF:
        assert self._anchor is not None and self._corner is not None
        return QRectF(self._anchor, self._corner).normalized()

    def _path(self, rect: QRectF) -> QPainterPath:
        raise NotImplementedError

    def _commit(self, rect: QRectF, subtract: bool) -> None:
        raise NotImplementedError


class RectangleTool(_DragShapeTool):
    kind = ToolKind.RECTANGLE

    def _snapped(self, rect: QRectF) -> QRectF:
        document = self.host.document
        box = rect_box(
            rect.left(), rect.top(), rect.right(), rect.bottom(), document.width, document.height
        )
        return QRectF(box.x0, box.y0, box.width, box.height)

    def _path(self, rect: QRectF) -> QPainterPath:
        # Show the pixels that will be filled: the rectangle snaps to the pixel grid.
        path = QPainterPath()
        path.addRect(self._snapped(rect))
        return path

    def _commit(self, rect: QRectF, subtract: bool) -> None:
        self.host.document.fill_rect(
            rect.left(), rect.top(), rect.right(), rect.bottom(), subtract=subtract
        )


class EllipseTool(_DragShapeTool):
    kind = ToolKind.ELLIPSE

    def _path(self, rect: QRectF) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(rect)
        return path

    def _commit(self, rect: QRectF, subtract: bool) -> None:
        self.host.document.fill_ellipse(
            rect.left(), rect.top(), rect.right(), rect.bottom(), subtract=subtract
        )


def _polygon_path(points: list[QPointF]) -> QPainterPath:
    path = QPainterPath()
    if points:
        path.addPolygon(QPolygonF(points))
        path.closeSubpath()
    return path


class LassoTool(Tool):
    kind = ToolKind.LASSO

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._points: list[QPointF] = []
        self._button = Qt.MouseButton.NoButton
        self._subtract = False

    @property
    def busy(self) -> bool:
        return bool(self._points)

    def press(self, event: PointerInput) -> None:
        if self._points or not _is_paint_button(event):
            return
        self._points = [event.scene]
        self._button = event.button
        self._subtract = _subtracts(event)

    def move(self, event: PointerInput) -> None:
        if not self._points:
            return
        step = _LASSO_STEP / self.host.view_scale()
        last = self._points[-1]
        if math.hypot(event.scene.x() - last.x(), event.scene.y() - last.y()) >= step:
            self._points.append(event.scene)
            self.host.preview.set_path(_polygon_path(self._points), subtract=self._subtract)

    def release(self, event: PointerInput) -> None:
        if not self._points or event.button != self._button:
            return
        self._points.append(event.scene)
        points = [(p.x(), p.y()) for p in self._points]
        subtract = self._subtract
        self.cancel()
        if len(points) >= 3:
            self.host.document.fill_polygon(points, subtract=subtract, text="Lasso")

    def cancel(self) -> bool:
        active, self._points = bool(self._points), []
        self.host.preview.clear()
        return active


class PolygonTool(Tool):
    kind = ToolKind.POLYGON

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._points: list[QPointF] = []
        self._subtract = False
        self._hover: QPointF | None = None

    @property
    def busy(self) -> bool:
        return bool(self._points)

    @property
    def points(self) -> list[QPointF]:
        return list(self._points)

    def press(self, event: PointerInput) -> None:
        if not _is_paint_button(event):
            return
        if not self._points:
            self._subtract = _subtracts(event)
        elif len(self._points) >= 3 and self._near_first(event.scene):
            self.close()
            return
        self._points.append(event.scene)
        self._hover = event.scene
        self._show()

    def double_click(self, event: PointerInput) -> None:
        # Usually the double-click's first press already placed this corner; add it only
        # when it has not (a double-click event arriving on its own).
        if not _is_paint_button(event):
            return
        last = self._points[-1] if self._points else None
        if last is None or self._screen_distance(last, event.scene) > _SAME_CORNER:
            if not self._points:
                self._subtract = _subtracts(event)
            self._points.append(event.scene)
        self.close()

    def hover(self, event: PointerInput) -> None:
        if self._points:
            self._hover = event.scene
            self._show()

    def move(self, event: PointerInput) -> None:
        self.hover(event)

    def key_press(self, key: int) -> bool:
        if not self._points:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close()
            return True
        if key == Qt.Key.Key_Backspace:
            self._points.pop()
            self._show()
            return True
        return False

    def close(self) -> None:
        """Fill the polygon drawn so far (needs three corners) and start afresh."""
        points = [(p.x(), p.y()) for p in self._points]
        subtract = self._subtract
        self.cancel()
        if len(points) >= 3:
            self.host.document.fill_polygon(points, subtract=subtract, text="Polygon")

    def cancel(self) -> bool:
        active, self._points = bool(self._points), []
        self._hover = None
        self.host.preview.clear()
        return active

    def _near_first(self, point: QPointF) -> bool:
        return self._screen_distance(self._points[0], point) <= _CLOSE_DISTANCE

    def _screen_distance(self, a: QPointF, b: QPointF) -> float:
        return math.hypot(a.x() - b.x(), a.y() - b.y()) * self.host.view_scale()

    def _show(self) -> None:
        if not self._points:
            self.host.preview.clear()
            return
        points = list(self._points)
        if self._hover is not None and self._hover != points[-1]:
            points.append(self._hover)
        if len(points) == 1:
            path = QPainterPath(points[0])
            path.addEllipse(points[0], 1.0 / self.host.view_scale(), 1.0 / self.host.view_scale())
        else:
            path = _polygon_path(points)
        self.host.preview.set_path(path, subtract=self._subtract)
