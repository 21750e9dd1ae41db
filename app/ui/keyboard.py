"""Where the keyboard goes in the editor window: canvas shortcuts window-wide, and button
clicks that leave the focus on the picture.

Qt gives shortcuts second place to a focused text field (``ShortcutOverride``), so making
the canvas's actions window-wide keeps typing in the prompt intact while ``[``, ``]``,
tool keys, undo and zoom work wherever the focus is, as in Krita and Photoshop. While the
compare view has the picture area, the window turns them back into the canvas's own keys,
so the compare view's O, X and Ctrl+0 are not ambiguous.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QWidget


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
