"""A small window around the canvas: open a photo, paint its mask, save the API mask.

``python -m app.ui.canvas [photo.png]``. The editor window (a later issue) embeds the same
canvas and toolbars; this window exists to try them and to take the screenshots.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from app.core.imageio import write_atomic
from app.core.mask import to_api_png
from app.ui.canvas.icons import icon
from app.ui.canvas.toolbars import ToolOptionsBar, ToolPalette
from app.ui.canvas.view import MaskCanvas, ask_to_scale_mask
from app.ui.theme import apply_dark_theme

_IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp);;All files (*)"
_MASK_FILTER = "PNG mask (*.png);;All files (*)"


class _SaveRelay(QObject):
    """Carries a worker's result back to the UI thread (queued signal delivery)."""

    saved = Signal(str)
    failed = Signal(str)


class CanvasWindow(QMainWindow):
    """The canvas with its toolbars, a File/Edit/Mask/View menu and a status line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retouch Studio · Mask")
        self.canvas = MaskCanvas(parent=self)
        self.setCentralWidget(self.canvas)
        self.palette_bar = ToolPalette(self.canvas, self)
        self.options_bar = ToolOptionsBar(self.canvas, self)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.palette_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.options_bar)
        self._image_label = QLabel("No image: drop one on the canvas")
        self._pointer_label = QLabel()
        self._mask_label = QLabel()
        self._zoom_label = QLabel()
        for label in (self._image_label, self._pointer_label):
            self.statusBar().addWidget(label)
        self.statusBar().addPermanentWidget(self._mask_label)
        self.statusBar().addPermanentWidget(self._zoom_label)
        self.statusBar().setSizeGripEnabled(False)
        self._build_menus()

        self.canvas.image_opened.connect(self._on_image_opened)
        self.canvas.image_open_failed.connect(self._on_image_open_failed)
        self.canvas.mask_load_failed.connect(self._on_mask_load_failed)
        self.canvas.pointer_moved.connect(self._on_pointer_moved)
        self.canvas.zoom_changed.connect(self._on_zoom_changed)
        self.canvas.document.mask_changed.connect(self._on_mask_changed)
        self.canvas.document.mask_reset.connect(self._on_mask_changed)
        self._pending_mask: Path | None = None
        self._save_relay = _SaveRelay(self)
        self._save_relay.saved.connect(self._on_mask_saved)
        self._save_relay.failed.connect(self._on_mask_save_failed)
        self._on_mask_changed()

    def _build_menus(self) -> None:
        canvas = self.canvas
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction(icon("open"), "&Open image…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._on_open_requested)
        file_menu.addAction(open_action)
        load_mask = QAction("&Load mask…", self)
        load_mask.triggered.connect(lambda: self._on_load_mask_requested("auto"))
        file_menu.addAction(load_mask)
        load_black = QAction("Load black-and-white mask (black = edit)…", self)
        load_black.triggered.connect(lambda: self._on_load_mask_requested("black"))
        file_menu.addAction(load_black)
        self.save_action = QAction(icon("save"), "&Save mask…", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self._on_save_requested)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        edit_menu = self.menuBar().addMenu("&Edit")
        for name in ("undo", "redo", "paste"):
            edit_menu.addAction(canvas.action(name))
        mask_menu = self.menuBar().addMenu("&Mask")
        for name in ("mask.invert", "mask.clear", "mask.fill"):
            mask_menu.addAction(canvas.action(name))
        view_menu = self.menuBar().addMenu("&View")
        for name in ("view.fit", "view.actual", "view.zoom_in", "view.zoom_out", "view.outline"):
            view_menu.addAction(canvas.action(name))
        tools_menu = self.menuBar().addMenu("&Tools")
        for action in canvas.canvas_actions.tool_group.actions():
            tools_menu.addAction(action)
        tools_menu.addSeparator()
        for name in ("brush.smaller", "brush.larger", "brush.softer", "brush.harder"):
            tools_menu.addAction(canvas.action(name))
        tools_menu.addAction(canvas.action("brush.swap"))
        tools_menu.addAction(canvas.action("brush.pressure"))

    def _on_open_requested(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", _IMAGE_FILTER)
        if path:
            self.canvas.open_file(path)

    def _on_load_mask_requested(self, mode: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", "", _MASK_FILTER)
        if path:
            self._pending_mask = Path(path)
            self.canvas.load_mask_file(path, mode=mode)  # type: ignore[arg-type]

    def _on_save_requested(self) -> None:
        if not self.canvas.has_image():
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save mask", "mask.png", _MASK_FILTER)
        if not path:
            return
        # Encoding a 4096x4096 mask takes half a second: do it in a worker thread, from a
        # copy so that painting meanwhile cannot tear it.
        coverage = self.canvas.document.mask.copy()
        relay = self._save_relay

        def work() -> None:
            try:
                write_atomic(Path(path), to_api_png(coverage))
            except OSError as exc:
                relay.failed.emit(f"{path}: cannot be written ({exc.strerror or exc}).")
                return
            relay.saved.emit(Path(path).name)

        QThreadPool.globalInstance().start(work)

    def _on_mask_saved(self, name: str) -> None:
        self.statusBar().showMessage(f"Saved {name}", 4000)

    def _on_mask_save_failed(self, message: str) -> None:
        QMessageBox.warning(self, "Mask not saved", message)

    def _on_image_opened(self, name: str) -> None:
        image = self.canvas.image()
        self._image_label.setText(f"{Path(name).name} · {image.width()} × {image.height()} px")

    def _on_image_open_failed(self, message: str) -> None:
        QMessageBox.warning(self, "Cannot open the image", message)

    def _on_mask_load_failed(self, message: str, wrong_size: bool) -> None:
        if wrong_size and self._pending_mask is not None:
            if ask_to_scale_mask(self, message):
                self.canvas.load_mask_file(self._pending_mask, scale=True)
            return
        QMessageBox.warning(self, "Cannot load the mask", message)

    def _on_pointer_moved(self, point: QPointF) -> None:
        self._pointer_label.setText(f"x {point.x():.0f}  y {point.y():.0f}")

    def _on_zoom_changed(self, zoom: float) -> None:
        self._zoom_label.setText(f"Zoom {zoom:.0%}")

    def _on_mask_changed(self, *_args: object) -> None:
        share = self.canvas.document.painted_fraction()
        self._mask_label.setText(f"Edit area {share:.1%}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication([sys.argv[0], *args])
    QGuiApplication.setApplicationDisplayName("Retouch Studio")
    apply_dark_theme(app)  # type: ignore[arg-type]
    window = CanvasWindow()
    window.resize(1280, 820)
    window.show()
    window.canvas.setFocus()
    if args:
        window.canvas.open_file(args[0])
    return app.exec()
