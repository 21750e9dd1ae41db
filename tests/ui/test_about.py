"""The Help menu: Keyboard shortcuts (F1) lists the keys the window really answers to, read from
its actions, and About shows the version from its one source, app/__init__.py."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

import app
from app.ui.about import AboutDialog, ShortcutsDialog, app_icon, shortcuts

ROOT = Path(__file__).resolve().parents[2]


def help_menu(window):
    top = window.menuBar().actions()[-1]
    assert top.text().replace("&", "") == "Help"
    return {a.text().replace("&", ""): a for a in top.menu().actions()}


def open_dialog(window, kind):
    shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(shown) == 1, f"{kind.__name__}: {len(shown)} shown"
    dialog = shown[0]
    assert dialog.parentWidget() is window
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    return dialog


def close_and_check_deleted(dialog, kind) -> None:
    dialog.reject()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, kind)]


def test_help_is_the_last_menu_with_shortcuts_on_f1_and_about(editor) -> None:
    items = help_menu(editor.window)
    assert list(items) == ["Keyboard shortcuts", "About Retouch Studio"]
    keys = items["Keyboard shortcuts"].shortcut()
    assert keys == QKeySequence(QKeySequence.StandardKey.HelpContents)
    assert items["About Retouch Studio"].menuRole() == QAction.MenuRole.AboutRole


def test_about_shows_the_version_from_its_one_source(editor) -> None:
    window = editor.window
    help_menu(window)["About Retouch Studio"].trigger()
    dialog = open_dialog(window, AboutDialog)
    text = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"Version {app.__version__}" in text and "Retouch Studio" in text
    assert "PySide6" in dialog.version.text() and "Python" in dialog.version.text()
    QTest.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text().startswith(f"Retouch Studio {app.__version__}\n")
    close_and_check_deleted(dialog, AboutDialog)


def test_the_version_has_one_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "app/__init__.py"
    printed = subprocess.run(
        [sys.executable, "-m", "app", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert printed.stdout.strip() == f"retouch {app.__version__}"


def test_f1_lists_the_keys_of_the_menus_the_canvas_and_the_compare_view(editor) -> None:
    window = editor.window
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    QTest.keyClick(window, Qt.Key.Key_F1)
    dialog = open_dialog(window, ShortcutsDialog)
    tree = dialog.tree
    rows = {}
    for index in range(tree.topLevelItemCount()):
        head = tree.topLevelItem(index)
        for child in range(head.childCount()):
            item = head.child(child)
            rows[(head.text(0), item.text(0))] = (item.text(1), item.text(2))
    native = QKeySequence.SequenceFormat.NativeText
    ctrl_return = QKeySequence("Ctrl+Return").toString(native)
    assert rows[("File", "Open image")][0] == QKeySequence(QKeySequence.StandardKey.Open).toString(
        native
    )
    assert rows[("File", "Add input images")][0] == QKeySequence("Ctrl+Shift+O").toString(native)
    assert rows[("Generate", "Generate")][0].startswith(ctrl_return)
    assert rows[("Settings", "Providers")][0] == QKeySequence("Ctrl+,").toString(native)
    assert rows[("View", "Compare results")][0] == QKeySequence("Ctrl+K").toString(native)
    brush = rows[("Tools", "Brush")]
    assert brush[0] == "B" and "Shift+click draws a line" in brush[1]
    assert rows[("Tools", "Swap brush and eraser")][0] == "X"
    assert rows[("Compare view", "Drift map")][0] == "O"
    assert rows[("Compare view", "Zoom to region")][0] == "R"
    assert ("Help", "Keyboard shortcuts") in rows
    # The filter keeps what matches, by command or key.
    QTest.keyClicks(dialog.filter, "brush")
    shown = [
        tree.topLevelItem(i).child(c).text(0)
        for i in range(tree.topLevelItemCount())
        for c in range(tree.topLevelItem(i).childCount())
        if not tree.topLevelItem(i).child(c).isHidden()
    ]
    assert "Smaller brush" in shown and "Swap brush and eraser" in shown
    assert "Open image" not in shown and "Drift map" not in shown
    close_and_check_deleted(dialog, ShortcutsDialog)


def test_an_action_added_to_a_menu_is_listed_without_touching_the_list(editor) -> None:
    window = editor.window
    mask_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Mask"
    )
    grow = QAction("&Grow the mask", window)
    grow.setShortcut(QKeySequence("Ctrl+Alt+G"))
    mask_menu.addAction(grow)
    listed = {(s.section, s.command): s.keys for s in shortcuts(window)}
    native = QKeySequence("Ctrl+Alt+G").toString(QKeySequence.SequenceFormat.NativeText)
    assert listed[("Mask", "Grow the mask")] == native
    mask_menu.removeAction(grow)
    grow.deleteLater()


def test_the_window_icon_has_every_size_from_16_to_256(qapp) -> None:
    icon = app_icon()
    sizes = sorted(size.width() for size in icon.availableSizes())
    assert sizes == [16, 24, 32, 48, 64, 128, 256]
