"""The editor's compare page: its keys work from the first press after it opens, stay in the
compare view, and the Drift map box and the O key are one switch. Driven by real key
presses sent where the keyboard is (``QApplication.focusWidget()``), as a user's would be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QWidget,
)

from app.gui import Editor
from app.models.compare import Source
from app.ui.compare_panel import ComparePanel
from tests.support import fault_server as fs
from tests.support.qtloop import next_signal
from tests.ui.test_compare import BLUE, RED, Shot, image_box, near, over, solid
from tests.ui.test_keep import generate, redrawn_result

GREEN = (0, 255, 0, 128)
SOURCES = [
    Source("Original", Path("original.png"), 1, None),
    Source("#1 variant 1", Path("variant-1.png"), 1, 0),
    Source("#1 variant 2", Path("variant-2.png"), 1, 1),
]


class Model:
    """Answers the page's requests as the editor's CompareModel does, later (a worker
    decodes the pair): the original is red, variants blue, a variant's drift map green."""

    def __init__(self, panel: ComparePanel) -> None:
        self.panel = panel
        self.requests: list[tuple[str, str, bool]] = []
        self._waiting: list[tuple[Source, Source, bool]] = []
        panel.selection_changed.connect(self._on_selection_changed)

    def _on_selection_changed(self, a: Source, b: Source, drift: bool) -> None:
        self.requests.append((a.label, b.label, drift))
        self._waiting.append((a, b, drift))

    def deliver(self) -> None:
        for a, b, drift in self._waiting:
            overlay = solid(GREEN) if drift and b.variant is not None else None
            self.panel.show_pair(self.picture(a), self.picture(b), a.label, b.label, overlay)
        self._waiting.clear()
        QApplication.processEvents()

    @staticmethod
    def picture(source: Source) -> QImage:
        return solid(RED if source.variant is None else BLUE)


class Host(QWidget):
    """The editor's shape around the page: a prompt outside a stack whose other page (the
    painting) takes the keyboard."""

    def __init__(self) -> None:
        super().__init__()
        self.prompt = QLineEdit()
        self.painting = QPlainTextEdit()
        self.panel = ComparePanel()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.painting)
        self.stack.addWidget(self.panel)
        layout = QHBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.stack, 1)

    def open_compare(self) -> None:
        """What the editor's show_compare does: sources first, then the page."""
        self.panel.set_sources(SOURCES, 0, 1)
        self.stack.setCurrentWidget(self.panel)


class KeySpy(QObject):
    """Records key presses that reach the widgets it watches."""

    def __init__(self, widgets: list[QWidget]) -> None:
        super().__init__()
        self.seen: list[str] = []
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            self.seen.append(f"{type(watched).__name__} {watched.objectName()}: {event.text()}")
        return False


@pytest.fixture
def host(qtbot) -> Host:
    made = Host()
    qtbot.addWidget(made)
    made.resize(1100, 600)
    made.show()
    qtbot.waitExposed(made)
    made.activateWindow()
    made.painting.setFocus()
    qtbot.waitUntil(made.painting.hasFocus)
    return made


def press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed where the keyboard is."""
    focus = QApplication.focusWidget()
    assert focus is not None, "no widget has the keyboard"
    QTest.keyClick(focus, key, modifiers)


def in_view(panel: ComparePanel) -> bool:
    focus = QApplication.focusWidget()
    return focus is not None and panel.view.isAncestorOf(focus)


def b_spot(panel: ComparePanel) -> QPoint:
    """A point on B in the wipe."""
    box = image_box(panel.view.left_view)
    return QPoint(box.right() - 20, box.center().y())


@pytest.mark.parametrize("keyboard_on", ["painting", "prompt"])
def test_the_first_key_after_the_page_opens_reaches_the_view(host: Host, keyboard_on) -> None:
    model = Model(host.panel)
    getattr(host, keyboard_on).setFocus()
    host.open_compare()
    model.deliver()
    assert in_view(host.panel), QApplication.focusWidget()
    press(Qt.Key.Key_W)
    assert host.panel.view.mode == "wipe"


def test_the_first_o_switches_the_drift_map_and_the_box_with_it(host: Host) -> None:
    panel = host.panel
    model = Model(panel)
    host.open_compare()
    assert not panel.drift.isChecked()
    # Pressed at once, before the pictures are decoded: the switch is on, and asks for
    # the map, since the pair on its way comes without one.
    press(Qt.Key.Key_O)
    assert panel.drift.isChecked() and panel.view.overlay_wanted
    assert model.requests == [
        ("Original", "#1 variant 1", False),
        ("Original", "#1 variant 1", True),
    ]
    model.deliver()
    panel.view.set_mode("wipe")
    green_over_blue = tuple(over(np.array(GREEN), np.array(BLUE)).round())
    assert near(Shot(panel.view.left_view).at(b_spot(panel)), green_over_blue, 4)
    assert panel.view.action("overlay").isChecked()
    # Off with the key: the box follows, the map hides, nothing is decoded again.
    press(Qt.Key.Key_O)
    assert not panel.drift.isChecked() and not panel.view.action("overlay").isChecked()
    assert near(Shot(panel.view.left_view).at(b_spot(panel)), BLUE)
    # On with the box, clicked: the key and the button follow, and the map it kept shows.
    QTest.mouseClick(panel.drift, Qt.MouseButton.LeftButton)
    assert panel.view.overlay_wanted and panel.view.action("overlay").isChecked()
    assert near(Shot(panel.view.left_view).at(b_spot(panel)), green_over_blue, 4)
    assert len(model.requests) == 2
    # The click left the keyboard with the pictures: O still works.
    press(Qt.Key.Key_O)
    assert not panel.drift.isChecked()


def test_switched_on_with_another_pair_it_asks_for_that_pair_s_map(host: Host) -> None:
    panel = host.panel
    model = Model(panel)
    host.open_compare()
    model.deliver()
    panel.b.setCurrentIndex(2)
    press(Qt.Key.Key_O)
    assert model.requests[-1] == ("Original", "#1 variant 2", True)
    model.deliver()
    assert panel.view.names == ("Original", "#1 variant 2") and panel.view.overlay_visible


def test_keys_pressed_in_the_view_stay_in_the_view(host: Host) -> None:
    panel = host.panel
    model = Model(panel)
    host.open_compare()
    model.deliver()
    others: list[Any] = [panel.a, panel.b, panel.drift, host.prompt, host.painting]
    others += panel.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
    spy = KeySpy([w for w in others if w is not panel.view])
    control = Qt.KeyboardModifier.ControlModifier
    # The pickers would take letters as a search ("O" picks "Original") and the prompt
    # would type them.
    keys = [Qt.Key.Key_W, Qt.Key.Key_Right, Qt.Key.Key_O, Qt.Key.Key_D, Qt.Key.Key_S,
            Qt.Key.Key_X, Qt.Key.Key_O, Qt.Key.Key_Space, Qt.Key.Key_H, Qt.Key.Key_V]  # fmt: skip
    for key in keys:
        press(key)
        assert in_view(panel), (key, QApplication.focusWidget())
    press(Qt.Key.Key_1, control)
    press(Qt.Key.Key_0, control)
    assert spy.seen == []
    assert in_view(panel)
    assert panel.view.mode == "side" and panel.view.names == ("#1 variant 1", "Original")
    assert (panel.a.currentIndex(), panel.b.currentIndex()) == (1, 0)  # the flip, X
    assert not host.prompt.text() and not host.painting.toPlainText()


def test_d_pressed_in_the_right_pane_keeps_the_keys_in_the_view(host: Host) -> None:
    # Found by the soak test: in side by side the right pane (B) can have the keyboard;
    # D hides it, and the focus used to fall out of the view (S and W then did nothing).
    panel = host.panel
    model = Model(panel)
    host.open_compare()
    model.deliver()
    panel.view.right_view.setFocus()
    press(Qt.Key.Key_D)
    assert panel.view.mode == "difference" and in_view(panel)
    press(Qt.Key.Key_S)
    assert panel.view.mode == "side" and in_view(panel)


def test_focus_given_to_the_page_lands_in_the_view(host: Host) -> None:
    # The editor's return_focus, after a dialog, gives the keyboard to the current page.
    Model(host.panel)
    host.open_compare()
    host.prompt.setFocus()
    assert not in_view(host.panel)
    host.panel.setFocus(Qt.FocusReason.OtherFocusReason)
    assert in_view(host.panel)


def test_in_the_editor_the_first_o_after_opening_compare_shows_the_drift_map(
    qt_loop, editor: Editor
) -> None:
    data, _ = redrawn_result()
    with fs.serve(fs.json_images([data])) as server:
        generate(qt_loop, editor, server.base_url)
    window, panel = editor.window, editor.window.compare_panel

    async def open_compare_and_press_o() -> tuple[Any, ...]:
        ready = next_signal(window.compare.pair_ready)
        QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        await ready
        with_drift = next_signal(window.compare.pair_ready)
        press(Qt.Key.Key_O)
        assert panel.drift.isChecked(), f"O went to {QApplication.focusWidget()}"
        return await with_drift

    *_, overlay = qt_loop.run(open_compare_and_press_o())
    assert overlay is not None and panel.view.overlay_visible
    assert in_view(panel)
