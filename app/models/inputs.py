"""The input images of the next request: up to the schema's limit, in order; the mask
applies to the first. Thumbnails are decoded in a worker thread."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core.imageio import ImageFileError, ImageInfo, probe_image
from app.core.limits import open_pixel_limit
from app.core.photo import working_copy
from app.core.schema import Schema
from app.models.display import decode_file_for_display
from app.models.levels import qimage_from_pil

THUMB_EDGE = 96
# Each thumbnail decode of a 4K PNG holds a full-size image for a moment (Qt's PNG reader
# decodes before it scales): adding 16 such inputs at once would hold 16 of them.
THUMBNAIL_DECODES_AT_ONCE = 2


def probe_file(path: Path, schema: Schema) -> ImageInfo:
    """An input's header, checked against what can be opened (this machine's memory,
    app.core.limits) rather than what one request takes (``schema``'s files limits): a
    first image over those is sent as a scaled copy (app.core.sending), and the request is
    checked again as it is sent (app.core.validation.validate_files)."""
    return probe_image(path, name=str(path), max_pixels=open_pixel_limit())


def thumbnail(path: Path) -> QImage:
    """An input's thumbnail, in a worker thread. Qt's reader refuses a picture that would
    take over 256 MB decoded (its allocation limit: a 100 MP PNG, say); Pillow reads
    those, reducing while it decodes where the format allows (JPEG)."""
    try:
        return decode_file_for_display(path, THUMB_EDGE)
    except ValueError:
        with Image.open(path) as image:
            image.draft("RGB", (THUMB_EDGE, THUMB_EDGE))
            image.thumbnail((THUMB_EDGE, THUMB_EDGE))
            return qimage_from_pil(image)


class InputsModel(QObject):
    changed = Signal()
    thumbnail_ready = Signal(str, QImage)  # path, image
    first_changed = Signal(str)  # the image the mask applies to; "" when none

    def __init__(self, schema: Schema, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self.paths: list[Path] = []
        self.infos: dict[Path, ImageInfo] = {}
        self.names: dict[Path, str] = {}  # a working copy shows its photo's name
        self.thumbnails: dict[Path, QImage] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._decode_slots = asyncio.Semaphore(THUMBNAIL_DECODES_AT_ONCE)
        self._replace_serial = 0
        self.work_dir = Path(tempfile.gettempdir()) / "retouch-studio-work"

    @property
    def limit(self) -> int:
        return self._schema.image_field.max_items or 16

    @property
    def first(self) -> Path | None:
        return self.paths[0] if self.paths else None

    async def add(self, paths: list[Path]) -> list[str]:
        """Check and append images (a photo that cannot be sent as it is goes in as its
        upright sRGB working copy, app.core.photo; any size this machine can open); returns
        one message per file that was refused."""
        problems = []
        for path in paths:
            if len(self.paths) >= self.limit:
                problems.append(f"{path.name}: not added; at most {self.limit} input images.")
                continue
            try:
                original, path = path, await asyncio.to_thread(working_copy, path, self.work_dir)
                self.names[path] = original.name
                info = await asyncio.to_thread(probe_file, path, self._schema)
            except ImageFileError as exc:
                problems.append(str(exc))
                continue
            self._insert(len(self.paths), path, info)
        return problems

    def name(self, path: Path) -> str:
        """What the designer calls an input: the name of the file they chose."""
        return self.names.get(path, path.name)

    async def replace_first(self, path: Path, name: str | None = None) -> list[str]:
        """Make ``path`` the first input once its file checks out. The newest call wins: a
        check that ends after a newer call started changes nothing (the canvas has moved
        on to the newer picture already)."""
        self._replace_serial += 1
        serial = self._replace_serial
        try:
            info = await asyncio.to_thread(probe_file, path, self._schema)
        except ImageFileError as exc:
            return [str(exc)] if serial == self._replace_serial else []
        if serial != self._replace_serial:
            return []
        if self.paths:
            self.paths.pop(0)
        if name:
            self.names[path] = name
        self._insert(0, path, info)
        return []

    def remove(self, index: int) -> None:
        old_first = self.first
        del self.paths[index]
        self.changed.emit()
        if self.first != old_first:
            self.first_changed.emit(str(self.first or ""))

    def move(self, source: int, target: int) -> None:
        old_first = self.first
        path = self.paths.pop(source)
        self.paths.insert(target, path)
        self.changed.emit()
        if self.first != old_first:
            self.first_changed.emit(str(self.first or ""))

    def _insert(self, index: int, path: Path, info: ImageInfo) -> None:
        old_first = self.first
        self.paths.insert(index, path)
        self.infos[path] = info
        self.changed.emit()
        if self.first != old_first:
            self.first_changed.emit(str(self.first))
        if path not in self.thumbnails:
            task = asyncio.ensure_future(self._load_thumbnail(path))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _load_thumbnail(self, path: Path) -> None:
        try:
            async with self._decode_slots:
                image = await asyncio.to_thread(thumbnail, path)
        except (OSError, ValueError):
            return
        self.thumbnails[path] = image
        self.thumbnail_ready.emit(str(path), image)
