"""The editor's menu bar. The canvas's actions (undo, mask, view, tools) are its own
(app.ui.canvas.actions); the window's are made here and kept on the window by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def _action(window: MainWindow, menu: QMenu, text: str, slot: Callable[[], object],
            shortcut: object = None) -> QAction:  # fmt: skip
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _=False: slot())
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    canvas, files, bar = window.canvas, window.files, window.menuBar()
    menu = bar.addMenu("&File")
    window.open_action = _action(
        window, menu, "&Open image…", files.open_image, QKeySequence.StandardKey.Open
    )
    menu.addMenu(files.recent_menu)
    _action(window, menu, "&Add input images…", files.add_inputs, "Ctrl+Shift+O")
    _action(window, menu, "Open the &sample photo", files.open_sample)
    fresh = _action(window, menu, "Start &fresh", files.start_fresh)
    fresh.setStatusTip(
        "Close the photo, clear the mask, inputs, prompt and parameters, and forget the "
        "session that would come back at the next start"
    )
    menu.addSeparator()
    _action(window, menu, "&Load mask…", lambda: files.load_mask("auto"))
    _action(window, menu, "Load black-and-white mask (black = edit)…",
            lambda: files.load_mask("black"))  # fmt: skip
    _action(window, menu, "Sa&ve mask…", files.save_mask, "Ctrl+Shift+S")
    menu.addSeparator()
    _action(window, menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    menu = bar.addMenu("&Edit")
    for name in ("undo", "redo", "paste"):
        menu.addAction(canvas.action(name))
    menu = bar.addMenu("&Mask")
    for name in ("mask.invert", "mask.clear", "mask.fill"):
        menu.addAction(canvas.action(name))
    view = bar.addMenu("&View")
    for name in ("view.fit", "view.actual", "view.zoom_in", "view.zoom_out", "view.outline"):
        view.addAction(canvas.action(name))
    tools = bar.addMenu("&Tools")
    actions = canvas.canvas_actions
    tools.addActions(actions.tool_group.actions())
    tools.addSeparator()
    for name in ("brush.smaller", "brush.larger", "brush.softer", "brush.harder"):
        tools.addAction(actions[name])
    tools.addAction(actions["brush.swap"])
    tools.addAction(actions["brush.pressure"])
    window.compare_action = _action(
        window, view, "&Compare results", window.toggle_compare, "Ctrl+K"
    )
    window.compare_action.setCheckable(True)
    view.addSeparator()
    for name, dock in window.docks.items():
        view.addAction(dock.toggleViewAction() if name != "history" else window.history.show_action)
    menu = bar.addMenu("&Generate")
    window.generate_action = _action(window, menu, "&Generate", window.generate, "Ctrl+Return")
    window.generate_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
    window.cancel_action = _action(window, menu, "&Cancel", window.session.jobs.cancel, "Esc")
    window.cancel_action.setEnabled(False)
    menu = bar.addMenu("&Settings")
    _action(window, menu, "&Providers…", window.settings_requested.emit, "Ctrl+,")
