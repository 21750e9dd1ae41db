"""File ▸ Open Recent: the photos of app.models.recent, newest first, and "Clear list"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QWidget

from app.models.recent import RecentPhotos

FOLDER_WIDTH_PX = 320  # a long folder is shortened in the middle


class RecentMenu(QMenu):
    """Shows ``recent`` and follows it; choosing a photo calls ``open_path`` with it."""

    def __init__(
        self,
        recent: RecentPhotos,
        open_path: Callable[[Path], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Open &Recent", parent)
        self.setObjectName("open-recent")
        self.setToolTipsVisible(True)
        self._recent, self._open_path = recent, open_path
        recent.changed.connect(self._rebuild)
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear()
        paths = self._recent.paths()
        metrics = self.fontMetrics()
        for number, path in enumerate(paths, start=1):
            folder = metrics.elidedText(str(path.parent), Qt.TextElideMode.ElideMiddle,
                                        FOLDER_WIDTH_PX)  # fmt: skip
            mnemonic = f"&{number % 10} " if number <= 10 else ""
            action = self.addAction(f"{mnemonic}{path.name}    {folder}")
            action.setToolTip(str(path))
            action.setData(str(path))
            action.triggered.connect(lambda _=False, chosen=path: self._open_path(chosen))
        if not paths:
            self.addAction("No photos opened yet").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(lambda _=False: self._recent.clear())
