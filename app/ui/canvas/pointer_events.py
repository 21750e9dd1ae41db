"""The mask canvas's pointer plumbing: mouse, tablet and touchpad-gesture events become
PointerInput (image coordinates, pressure, eraser tip) for the current tool, or pan the view
(middle button, or Space with the left button); the pointer shape follows.

A mixin for MaskCanvas, listed before ZoomView in its bases so that these Qt event handlers
override the view's.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt, SignalInstance
from PySide6.QtGui import QMouseEvent, QNativeGestureEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)

from app.ui.canvas.cursor import BrushCursorItem
from app.ui.canvas.tools import PanTool, PointerInput, Tool


class PointerEventsMixin:
    """Routes the pointer to the current tool (``_tool``) or to the hand while panning.

    The class it is mixed into is a ZoomView (``to_image``, ``set_zoom``, ``has_image``,
    ...) that calls ``_init_pointer_events`` in its constructor and provides the attributes
    annotated below."""

    _tool: Tool
    _space_held: bool
    brush_cursor: BrushCursorItem
    pointer_moved: SignalInstance

    def _init_pointer_events(self) -> None:
        self._panner = PanTool(self)
        self._panning = False
        self._pointer_inside = False

    def _pointer(
        self,
        pos: QPointF,
        button: Qt.MouseButton,
        buttons: Qt.MouseButton,
        modifiers: Qt.KeyboardModifier,
        pressure: float = 1.0,
        tablet: bool = False,
        eraser_tip: bool = False,
    ) -> PointerInput:
        scene = self.to_image(pos)
        return PointerInput(pos, scene, button, buttons, modifiers, pressure, tablet, eraser_tip)

    def _mouse(self, event: QMouseEvent) -> PointerInput:
        return self._pointer(event.position(), event.button(), event.buttons(), event.modifiers())

    def _pointer_press(self, pointer: PointerInput, double: bool = False) -> None:
        if self._panning:
            return
        pans = pointer.button == Qt.MouseButton.MiddleButton or (
            self._space_held and pointer.button == Qt.MouseButton.LeftButton
        )
        if pans and not self._tool.busy:
            self._panning = True
            self._panner.press(pointer)
        elif double:
            self._tool.double_click(pointer)
        else:
            self._tool.press(pointer)
        self._refresh_cursor()

    def _pointer_move(self, pointer: PointerInput) -> None:
        self.pointer_moved.emit(pointer.scene)
        if self._panning:
            self._panner.move(pointer)
        elif pointer.buttons != Qt.MouseButton.NoButton:
            self._tool.move(pointer)
        else:
            self._tool.hover(pointer)

    def _pointer_release(self, pointer: PointerInput) -> None:
        if self._panning:
            if pointer.buttons & (Qt.MouseButton.MiddleButton | Qt.MouseButton.LeftButton):
                return
            self._panner.release(pointer)
            self._panning = False
        else:
            self._tool.release(pointer)
        self._refresh_cursor()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._pointer_press(self._mouse(event))
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._pointer_press(self._mouse(event), double=True)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._pointer_move(self._mouse(event))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._pointer_release(self._mouse(event))
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TabletPress, QEvent.Type.TabletMove, QEvent.Type.TabletRelease):
            assert isinstance(event, QTabletEvent)
            # Accepted tablet events are not turned into mouse events, so pressure reaches
            # the brush and nothing is painted twice.
            pointer = self._pointer(
                event.position(),
                event.button(),
                event.buttons(),
                event.modifiers(),
                event.pressure(),
                tablet=True,
                eraser_tip=event.pointerType() == QPointingDevice.PointerType.Eraser,
            )
            if kind == QEvent.Type.TabletPress:
                self._pointer_press(pointer)
            elif kind == QEvent.Type.TabletMove:
                self._pointer_move(pointer)
            else:
                self._pointer_release(pointer)
            event.accept()
            return True
        if kind == QEvent.Type.NativeGesture:
            assert isinstance(event, QNativeGestureEvent)
            if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.set_zoom(self.zoom * (1.0 + event.value()), event.position())
                event.accept()
                return True
        if kind == QEvent.Type.Enter:
            self._pointer_inside = True
            self._refresh_cursor()
            self._take_focus_unless_typing()
        elif kind == QEvent.Type.Leave:
            self._pointer_inside = False
            self._refresh_cursor()
        return super().viewportEvent(event)

    def _take_focus_unless_typing(self) -> None:
        """The pointer over the picture brings the keyboard with it (Space to pan, tool
        keys), unless the designer is typing in a text field of this window."""
        focused = QApplication.focusWidget()
        typing = isinstance(focused, QLineEdit | QAbstractSpinBox | QPlainTextEdit | QTextEdit)
        if focused is not None and focused.window() is not self.window():
            return  # a dialog or another window has the keyboard
        if not typing and not self.hasFocus():
            self.setFocus(Qt.FocusReason.MouseFocusReason)

    def _refresh_cursor(self) -> None:
        if self._panning:
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._space_held:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.viewport().setCursor(self._tool.cursor)
        shows = (
            self._tool.shows_brush
            and (self._pointer_inside or self._tool.busy)
            and not (self._panning or self._space_held)
            and self.has_image()
        )
        self.brush_cursor.setVisible(shows)
