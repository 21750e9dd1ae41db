"""The Help menu: the keyboard shortcuts and About Retouch Studio.

The shortcuts are read from the window's own actions and buttons when the list opens, so it
cannot fall behind them; the version is ``app.__version__``, the one the package is built
with.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from dataclasses import dataclass

import PySide6
from PySide6.QtCore import QObject, Qt, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.resources import resource_path

NAME = "Retouch Studio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Widgets outside the menus whose keys are their own, by object name.
PLACES = {"compare-panel": "Compare view"}


def app_icon() -> QIcon:
    """The application's icon: the PNGs rendered from its SVG (packaging/icons.py)."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path("icons", "app", f"retouch-studio-{size}.png")))
    return icon


@dataclass(frozen=True)
class Shortcut:
    section: str
    command: str
    keys: str
    note: str = ""


def shortcuts(window: QMainWindow) -> list[Shortcut]:
    """Every key the window answers to through an action or a button: the menus' actions
    first, menu by menu, then those of panels and views that are in no menu."""
    found: list[Shortcut] = []
    listed: set[int] = set()
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None:
            section = _plain(top.text())
            for action in _menu_actions(menu):
                if _keys(action) and id(action) not in listed:
                    listed.add(id(action))
                    found.append(_row(section, action))
    for action in window.findChildren(QAction):
        if _keys(action) and id(action) not in listed:
            listed.add(id(action))
            found.append(_row(_place(action), action))
    for button in window.findChildren(QAbstractButton):
        keys = button.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            found.append(Shortcut(_place(button), _plain(button.text()), keys))
    return found


def _menu_actions(menu: QMenu) -> Iterator[QAction]:
    for action in menu.actions():
        if action.menu() is not None:
            yield from _menu_actions(action.menu())
        elif not action.isSeparator():
            yield action


def _keys(action: QAction) -> str:
    # The standard bindings also name keys few keyboards have (F14, Undo): left out.
    usual = [k for k in action.shortcuts() if k.count() and k[0].key().value < Qt.Key.Key_F13.value]
    texts = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in usual]
    return ", ".join(dict.fromkeys(t for t in texts if t))


def _row(section: str, action: QAction) -> Shortcut:
    command = _plain(action.text())
    tip = action.toolTip()
    # Canvas tools say how to use them in their tooltips: "Brush (B): paint the area...".
    note = tip.split(": ", 1)[1] if ": " in tip and tip.startswith(command) else ""
    return Shortcut(section, command, _keys(action), note)


def _place(item: QObject) -> str:
    owner = item.parent()
    while owner is not None:
        if owner.objectName() in PLACES:
            return PLACES[owner.objectName()]
        if isinstance(owner, QDockWidget):
            return _plain(owner.windowTitle())
        owner = owner.parent()
    return "Window"


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def version_lines() -> list[str]:
    return [
        f"{NAME} {__version__}",
        f"Qt {qVersion()}, PySide6 {PySide6.__version__}, "
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}",
    ]


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard shortcuts: one section per menu or panel, with a filter."""

    def __init__(self, rows: list[Shortcut], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Keyboard shortcuts: {NAME}")
        self.setObjectName("shortcuts-dialog")
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by command or key")
        self.filter.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Command", "Keys", "How"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(True)
        sections: dict[str, QTreeWidgetItem] = {}
        for row in rows:
            if row.section not in sections:
                head = QTreeWidgetItem(self.tree, [row.section])
                head.setFirstColumnSpanned(True)
                font = head.font(0)
                font.setBold(True)
                head.setFont(0, font)
                sections[row.section] = head
            item = QTreeWidgetItem(sections[row.section], [row.command, row.keys, row.note])
            item.setToolTip(2, row.note)
        self.tree.expandAll()
        for column, width in ((0, 210), (1, 190)):
            self.tree.setColumnWidth(column, width)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self.show_matching)
        self.resize(900, 640)

    def show_matching(self, text: str) -> None:
        needle = text.strip().lower()
        for index in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(index)
            shown = 0
            for child_index in range(head.childCount()):
                child = head.child(child_index)
                words = " ".join(child.text(c) for c in range(3)).lower()
                child.setHidden(bool(needle) and needle not in words)
                shown += not child.isHidden()
            head.setHidden(shown == 0)


class AboutDialog(QDialog):
    """Help ▸ About Retouch Studio: the icon, the version and what it runs on."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {NAME}")
        self.setObjectName("about-dialog")
        picture = QLabel(self)
        picture.setPixmap(app_icon().pixmap(96, 96))
        picture.setAlignment(Qt.AlignmentFlag.AlignTop)
        lines = version_lines()
        title = QLabel(f"<h2>{NAME}</h2><p><b>Version {__version__}</b></p>", self)
        self.version = QLabel(lines[1], self)
        self.version.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.version.setProperty("role", "caption")
        text = QLabel(
            "Retouch photos with OpenAI-compatible image-edit APIs: paint what should "
            "change, describe it, compare the variants and keep the best, pasted back "
            "through the mask. Works with no account through the built-in local engine."
            "<p>MIT licence. The sample photographs are public domain or CC0.</p>",
            self,
        )
        text.setWordWrap(True)
        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(text)
        column.addWidget(self.version)
        column.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(picture)
        row.addLayout(column, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy version", self)
        self.copy_button.setToolTip("Copy the version lines, for a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText("\n".join(lines))
        )
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)


def install_help(window: QMainWindow) -> QMenu:
    """Add the Help menu, last in the menu bar. Its dialogs are made for one use, opened
    window-modal without a nested event loop and deleted by Qt when they close."""
    menu = window.menuBar().addMenu("&Help")
    keys = QAction("&Keyboard shortcuts", window)
    keys.setObjectName("help-shortcuts")
    keys.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    keys.triggered.connect(lambda: _open(ShortcutsDialog(shortcuts(window), window)))
    about = QAction(f"&About {NAME}", window)
    about.setObjectName("help-about")
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(lambda: _open(AboutDialog(window)))
    menu.addActions([keys, about])
    return menu


def _open(dialog: QDialog) -> None:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    parent = dialog.parentWidget()
    return_focus = getattr(parent, "return_focus", None)
    if return_focus is not None:
        dialog.finished.connect(lambda _result: return_focus())
    dialog.open()
