"""The File menu's commands: the file dialogs, Open Recent, Start fresh, and handing what
was chosen to the models (opening goes through the canvas, which asks before a painted mask
is lost). The window's title names the picture being retouched."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QStatusBar

from app.core.mask import MaskSource
from app.models.recent import RecentPhotos
from app.models.recovery import SessionRecovery
from app.models.session import EditorSession
from app.ui.canvas.view import MaskCanvas, ask_to_discard, ask_to_scale_mask
from app.ui.recent_menu import RecentMenu

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

APP_TITLE = "Retouch Studio"

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.webp *.heic *.heif *.avif *.tif *.tiff *.bmp *.gif);;"
    "All files (*)"
)


class FileCommands(QObject):
    def __init__(
        self,
        window: MainWindow,
        session: EditorSession,
        recovery: SessionRecovery,
        canvas: MaskCanvas,
        status: QStatusBar,
        sample: Path | None,
    ) -> None:
        super().__init__(window)
        self._window, self._session, self._canvas = window, session, canvas
        self._recovery, self._status, self._sample = recovery, status, sample
        self._pending_mask: tuple[Path, MaskSource] | None = None
        self.recent = RecentPhotos(session.settings, session.document, self)
        self.recent_menu = RecentMenu(self.recent, self.open_recent, window)
        canvas.mask_load_failed.connect(self._on_mask_load_failed)
        session.document.picture_changed.connect(self._show_title)
        recovery.notice.connect(lambda text: status.showMessage(text, 8000))
        recovery.restored.connect(self._on_restored)
        self._show_title()

    def _show_title(self, *_: object) -> None:
        """``coffee.png — Retouch Studio`` while a picture is open."""
        picture = self._session.document.picture
        self._window.setWindowTitle(f"{picture.name} — {APP_TITLE}" if picture else APP_TITLE)

    def _on_restored(self) -> None:
        """The welcome card that had the keyboard is gone: give it to the picture, as after
        a dialog, unless the designer is typing a prompt already."""
        if self._session.document.picture is not None and not self._window.prompt.hasFocus():
            self._window.return_focus()

    def open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Open image", "", IMAGE_FILTER)
        if path:
            self._canvas.open_file(path)

    def open_sample(self) -> None:
        if self._sample is not None:
            self._canvas.open_file(self._sample)

    def open_recent(self, path: Path) -> None:
        """Open a photo of File ▸ Open Recent; one that is gone is taken off the list."""
        if path.is_file():  # one stat, on a file the designer just chose
            self._canvas.open_file(path)
            return
        self.recent.forget(path)
        self._session.runner.report_text(
            f"{path.name} is no longer at {path.parent}: it was taken off File ▸ Open Recent."
        )

    def start_fresh(self) -> None:
        """Empty the editor and forget the saved session (asking first about painting)."""
        text = "Start fresh? The photo is closed and the painted mask will be lost."
        canvas = self._canvas
        if canvas.document.has_painting() and not (
            canvas.confirm_discard(text) if canvas.confirm_discard else ask_to_discard(canvas, text)
        ):
            return
        self._window.prompt.clear()
        self._recovery.start_fresh()
        self._status.showMessage("Started fresh: the last session is forgotten.", 6000)

    def add_inputs(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self._window, "Add input images", "", IMAGE_FILTER)
        if paths:
            self._session.runner.start(self.add_paths([Path(p) for p in paths]))

    async def add_paths(self, paths: list[Path]) -> None:
        """Add images to the inputs strip; what is refused is reported, named."""
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
