"""File ▸ Open Recent: the photos opened last, newest first, kept in the settings."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.models.document import EditDocument
from app.models.settings import RECENT_PHOTOS, Settings

RECENT_LIMIT = 10


class RecentPhotos(QObject):
    """Remembers every file the document opens (a pasted picture has none). ``changed``:
    the list is different."""

    changed = Signal()

    def __init__(
        self, settings: Settings, document: EditDocument, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._document = document
        document.opened.connect(self._on_opened)

    def paths(self) -> list[Path]:
        """Newest first; a damaged setting reads as an empty list."""
        try:
            raw = json.loads(self._settings.get(RECENT_PHOTOS))
        except json.JSONDecodeError:
            return []
        if not isinstance(raw, list):
            return []
        return [Path(p) for p in raw if isinstance(p, str) and p][:RECENT_LIMIT]

    def remember(self, path: Path) -> None:
        path = Path(path)
        self._store([path, *(p for p in self.paths() if p != path)])

    def forget(self, path: Path) -> None:
        self._store([p for p in self.paths() if p != Path(path)])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        text = json.dumps([str(p) for p in paths[:RECENT_LIMIT]])
        if text != self._settings.get(RECENT_PHOTOS):
            self._settings.set(RECENT_PHOTOS, text)
            self.changed.emit()

    def _on_opened(self, _label: str) -> None:
        picture = self._document.picture
        if picture is not None and picture.original is not None:
            self.remember(picture.original.absolute())
