"""The brush and the eraser: paint with the left button, the other one with the right,
resize with Ctrl+drag or Alt+right-drag, straight lines with Shift+click."""

from __future__ import annotations

from enum import Enum, auto

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QCursor

from app.ui.canvas.tools import PointerInput, Tool, ToolHost, ToolKind

_HARDNESS_PER_PIXEL = 1.0 / 150.0  # a 150 px vertical drag spans soft to hard


class _State(Enum):
    IDLE = auto()
    PAINTING = auto()
    RESIZING = auto()
    ABORTED = auto()  # Esc during a drag: ignore the rest of it


class BrushTool(Tool):
    kind = ToolKind.BRUSH

    def __init__(self, host: ToolHost, *, erase: bool = False) -> None:
        super().__init__(host)
        self.erase = erase
        self._state = _State.IDLE
        self._button = Qt.MouseButton.NoButton
        self._last_point: QPointF | None = None
        self._resize_from: tuple[QPointF, float, float] | None = None

    @property
    def cursor(self) -> QCursor:
        # The brush outline is the cursor; the arrow would hide the pixels being painted.
        return QCursor(Qt.CursorShape.BlankCursor)

    @property
    def shows_brush(self) -> bool:
        return True

    @property
    def busy(self) -> bool:
        return self._state is not _State.IDLE

    def activate(self) -> None:
        self._sync_cursor(erase=self.erase)

    def press(self, event: PointerInput) -> None:
        if self._state is not _State.IDLE:
            return
        left = event.button == Qt.MouseButton.LeftButton
        right = event.button == Qt.MouseButton.RightButton
        if (left and event.has(Qt.KeyboardModifier.ControlModifier)) or (
            right and event.has(Qt.KeyboardModifier.AltModifier)
        ):
            self._start_resize(event)
            return
        if not (left or right):
            return
        erase = self.erase ^ right ^ event.eraser_tip
        document = self.host.document
        brush = self.host.brush.to_brush()
        pressure = self._pressure(event)
        self._button = event.button
        self._state = _State.PAINTING
        self._sync_cursor(erase=erase, at=event.scene)
        if event.has(Qt.KeyboardModifier.ShiftModifier) and self._last_point is not None:
            start = self._last_point
            document.begin_stroke(start.x(), start.y(), brush, erase=erase, pressure=pressure)
            document.extend_stroke(*event.xy(), pressure=pressure)
        else:
            document.begin_stroke(*event.xy(), brush, erase=erase, pressure=pressure)

    def move(self, event: PointerInput) -> None:
        if self._state is _State.RESIZING:
            self._resize(event)
            return
        self.host.brush_cursor.setPos(event.scene)
        if self._state is _State.PAINTING and self.host.document.is_stroking:
            self.host.document.extend_stroke(*event.xy(), pressure=self._pressure(event))

    def hover(self, event: PointerInput) -> None:
        if self._state is _State.IDLE:
            self.host.brush_cursor.setPos(event.scene)

    def release(self, event: PointerInput) -> None:
        if event.button != self._button and self._state is not _State.RESIZING:
            return
        if self._state is _State.PAINTING and self.host.document.is_stroking:
            self.host.document.commit_stroke()
            self._last_point = event.scene
        if self._state is _State.RESIZING and self._resize_from is not None:
            self.host.brush_cursor.setPos(event.scene)
        self._state = _State.IDLE
        self._button = Qt.MouseButton.NoButton
        self._resize_from = None
        self._sync_cursor(erase=self.erase)

    def cancel(self) -> bool:
        if self._state is _State.PAINTING:
            self.host.document.abort_stroke()
            self._state = _State.ABORTED
            return True
        if self._state is _State.RESIZING and self._resize_from is not None:
            _, size, hardness = self._resize_from
            self.host.brush.set_size(size)
            self.host.brush.set_hardness(hardness)
            self._state = _State.ABORTED
            return True
        return False

    def deactivate(self) -> None:
        if self._state is _State.PAINTING:
            self.host.document.commit_stroke()
        self._state = _State.IDLE

    def _pressure(self, event: PointerInput) -> float:
        return event.pressure if event.tablet and self.host.brush.pressure_size else 1.0

    def _start_resize(self, event: PointerInput) -> None:
        brush = self.host.brush
        self._state = _State.RESIZING
        self._button = event.button
        self._resize_from = (event.pos, brush.size, brush.hardness)
        self.host.brush_cursor.setPos(event.scene)

    def _resize(self, event: PointerInput) -> None:
        assert self._resize_from is not None
        origin, size, hardness = self._resize_from
        delta = event.pos - origin
        brush = self.host.brush
        # The circle's edge follows the pointer sideways; up is harder, down softer.
        brush.set_size(size + 2.0 * delta.x() / self.host.view_scale())
        brush.set_hardness(hardness - delta.y() * _HARDNESS_PER_PIXEL)
        self.host.show_hud(f"Size {brush.size:.0f} px · Hardness {brush.hardness:.0%}")

    def _sync_cursor(self, *, erase: bool, at: QPointF | None = None) -> None:
        brush = self.host.brush
        self.host.brush_cursor.set_brush(brush.radius, brush.hardness, erase=erase)
        if at is not None:
            self.host.brush_cursor.setPos(at)


class EraserTool(BrushTool):
    kind = ToolKind.ERASER

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host, erase=True)
