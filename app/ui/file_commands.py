"""The File menu's commands: the file dialogs, and handing what was chosen to the models
(opening goes through the canvas, which asks before a painted mask is lost)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from app.core.mask import MaskSource
from app.models.session import EditorSession
from app.ui.canvas.view import MaskCanvas, ask_to_scale_mask

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.webp *.heic *.heif *.avif *.tif *.tiff *.bmp *.gif);;"
    "All files (*)"
)


class FileCommands(QObject):
    def __init__(
        self,
        window: QWidget,
        session: EditorSession,
        canvas: MaskCanvas,
        status: QStatusBar,
        sample: Path | None,
    ) -> None:
        super().__init__(window)
        self._window, self._session, self._canvas = window, session, canvas
        self._status, self._sample = status, sample
        self._pending_mask: tuple[Path, MaskSource] | None = None
        canvas.mask_load_failed.connect(self._on_mask_load_failed)

    def open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Open image", "", IMAGE_FILTER)
        if path:
            self._canvas.open_file(path)

    def open_sample(self) -> None:
        if self._sample is not None:
            self._canvas.open_file(self._sample)

    def add_inputs(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self._window, "Add input images", "", IMAGE_FILTER)
        if paths:
            self._session.runner.start(self._add([Path(p) for p in paths]))

    async def _add(self, paths: list[Path]) -> None:
        problems = await self._session.inputs.add(paths)
        if problems:
            self._session.runner.report_text("\n".join(problems))

    def load_mask(self, mode: MaskSource) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Load mask", "", IMAGE_FILTER)
        if path:
            self._pending_mask = (Path(path), mode)
            self._canvas.load_mask_file(path, mode=mode)

    def _on_mask_load_failed(self, message: str, wrong_size: bool) -> None:
        pending, self._pending_mask = self._pending_mask, None
        if wrong_size and pending is not None:
            if ask_to_scale_mask(self._window, message):
                path, mode = pending
                self._canvas.load_mask_file(path, mode=mode, scale=True)
            return
        self._session.runner.report_text(message)

    def save_mask(self) -> None:
        if not self._canvas.has_image():
            return
        path, _ = QFileDialog.getSaveFileName(self._window, "Save mask", "mask.png", "PNG (*.png)")
        if path:
            self._session.runner.start(self._save_mask(Path(path)))

    async def _save_mask(self, path: Path) -> None:
        await self._session.save_mask(path)
        self._status.showMessage(f"Saved the mask to {path}", 5000)
