"""Where the keyboard goes in the editor window: canvas shortcuts window-wide, and no key
ever typed into a widget the designer cannot see.

Qt gives shortcuts second place to a focused text field (``ShortcutOverride``), so making
the canvas's actions window-wide keeps typing in the prompt intact while ``[``, ``]``,
tool keys, undo and zoom work wherever the focus is, as in Krita and Photoshop. A hidden
canvas (the compare view is up) takes no shortcut: Qt skips actions of hidden widgets.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QWidget

KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)


def set_window_wide(actions: list[QAction], on: bool) -> None:
    """Window-wide shortcuts, or back to only while their widget has the focus."""
    context = (
        Qt.ShortcutContext.WindowShortcut if on else Qt.ShortcutContext.WidgetWithChildrenShortcut
    )
    for action in actions:
        action.setShortcutContext(context)


def buttons_keep_focus_away(root: QWidget) -> None:
    """A click on a button leaves the keyboard where it was (Tab still reaches it), so
    Space and the tool keys keep working on the picture after Generate or a tool button."""
    for button in root.findChildren(QAbstractButton):
        if button.focusPolicy() != Qt.FocusPolicy.NoFocus:
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)


class HiddenKeyGuard(QObject):
    """An application event filter: a key addressed to a widget of ``window`` that is not
    visible (a page behind a dock tab, say) goes to ``fallback()`` instead, which returns
    the widget that should have had the focus."""

    def __init__(self, window: QWidget, fallback: Callable[[], QWidget]) -> None:
        super().__init__(window)
        self._window = window
        self._fallback = fallback
        self.redirected = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in KEY_EVENTS or not isinstance(watched, QWidget):
            return False
        if watched.isVisible() or watched.window() is not self._window:
            return False
        target = self._fallback()  # also gives it the focus
        if target is watched or not target.isVisible():
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            return True  # the key event that follows is redirected too
        self.redirected += 1
        QCoreApplication.sendEvent(target, event)
        return True
