"""Real input events for widget tests: mouse drags with buttons held, wheel, tablet; and a
spy on what a widget repaints."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import (
    QInputDevice,
    QMouseEvent,
    QPaintEvent,
    QPointingDevice,
    QTabletEvent,
    QWheelEvent,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

Point = QPoint | tuple[int, int]


def as_point(point: Point) -> QPoint:
    return point if isinstance(point, QPoint) else QPoint(*point)


def move(
    widget: QWidget,
    point: Point,
    buttons: Qt.MouseButton = Qt.MouseButton.LeftButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """A mouse move with buttons held. QTest.mouseMove does not say which buttons are
    down in every Qt version, so the event is built by hand."""
    position = QPointF(as_point(point))
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        position,
        QPointF(widget.mapToGlobal(position)),
        Qt.MouseButton.NoButton,
        buttons,
        modifiers,
    )
    QApplication.sendEvent(widget, event)


def drag(
    widget: QWidget,
    points: Sequence[Point],
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press at the first point, move through the others, release at the last."""
    first, *rest = [as_point(p) for p in points]
    QTest.mousePress(widget, button, modifiers, first)
    for point in rest:
        move(widget, point, button, modifiers)
    QTest.mouseRelease(widget, button, modifiers, rest[-1] if rest else first)


def wheel(widget: QWidget, point: Point, notches: float) -> None:
    """A mouse wheel: angle delta only, no scroll phase."""
    position = QPointF(as_point(point))
    event = QWheelEvent(
        position,
        QPointF(widget.mapToGlobal(position)),
        QPoint(0, 0),
        QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def touchpad_scroll(widget: QWidget, point: Point, dx: int, dy: int) -> None:
    """Two fingers on a touchpad: pixel deltas within a scroll phase."""
    position = QPointF(as_point(point))
    event = QWheelEvent(
        position,
        QPointF(widget.mapToGlobal(position)),
        QPoint(dx, dy),
        QPoint(dx * 4, dy * 4),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.ScrollUpdate,
        False,
    )
    QApplication.sendEvent(widget, event)


def stylus(*, eraser: bool = False) -> QPointingDevice:
    """A pen (or its eraser end) with pressure."""
    return QPointingDevice(
        "test stylus",
        4243 if eraser else 4242,
        QInputDevice.DeviceType.Stylus,
        QPointingDevice.PointerType.Eraser if eraser else QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
        1,
        3,
    )


def tablet(
    widget: QWidget,
    kind: QEvent.Type,
    point: Point,
    pressure: float,
    device: QPointingDevice,
) -> bool:
    position = QPointF(as_point(point))
    down = kind != QEvent.Type.TabletRelease
    event = QTabletEvent(
        kind,
        device,
        position,
        QPointF(widget.mapToGlobal(position)),
        pressure,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        Qt.KeyboardModifier.NoModifier,
        Qt.MouseButton.LeftButton if kind != QEvent.Type.TabletMove else Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton if down else Qt.MouseButton.NoButton,
    )
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


class PaintSpy(QObject):
    """An event filter recording the rectangle of every paint event."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            self.rects.append(event.rect())
        return False
