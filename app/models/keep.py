"""Keeping a result: save it in a chosen format, copy it, make it the picture being
retouched; each as received or pasted back onto the original through the feathered mask
(the Results panel's switch, a declared setting). All file work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage

from app.core.imageio import decode_image, sniff_format, write_atomic
from app.models.compare import MAX_PIXELS, pasted_back
from app.models.display import decode_for_display
from app.models.document import EditDocument
from app.models.job import Job
from app.models.settings import FEATHER_PX, PASTE_BACK, Settings

FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def format_for(target: Path) -> str:
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{target.name}: choose a .png, .jpg or .webp name; the format follows the extension."
        )
    return fmt


def convert(source: Path, target: Path, *, quality: int = 95) -> Path:
    """Write ``source`` to ``target`` in the format its extension names (a plain copy when
    the format is already right, so nothing is re-encoded)."""
    fmt = format_for(target)
    data = source.read_bytes()
    if sniff_format(data[:16]) == fmt:
        return write_atomic(target, data)
    image = decode_image(data, name=source.name, max_pixels=MAX_PIXELS)
    if fmt == "jpeg" and image.mode not in ("RGB", "L"):
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
        image = flat
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt in ("jpeg", "webp") else {}
    image.save(buffer, fmt.upper(), **options)
    return write_atomic(target, buffer.getvalue())


def encode(pixels: np.ndarray, fmt: str, quality: int = 95) -> bytes:
    image = Image.fromarray(pixels)
    if fmt == "jpeg" and image.mode == "RGBA":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt.upper(), **({"quality": quality} if fmt != "png" else {}))
    return buffer.getvalue()


async def load_full(source: Path) -> QImage:
    data = await asyncio.to_thread(source.read_bytes)
    return await asyncio.to_thread(decode_for_display, data, 1 << 30)


class KeepModel(QObject):
    """``saved(target, pasted)`` after a save; ``copied()`` when the clipboard holds the
    result. Failures are raised to the task runner, which reports them."""

    saved = Signal(Path, bool)
    copied = Signal()

    def __init__(
        self, settings: Settings, document: EditDocument, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._document = document

    @property
    def paste_back(self) -> bool:
        return self._settings.get(PASTE_BACK)

    @property
    def feather_px(self) -> int:
        return self._settings.get(FEATHER_PX)

    def pastes(self, alternate: bool = False) -> bool:
        """Whether an action pastes back: the switch, or its opposite for the context
        menu's other way."""
        return self.paste_back != alternate

    def suggested_name(self, job: Job, variant: int, *, paste: bool) -> str:
        """A file name that no other job's result suggests: the job's id is in it."""
        file = job.results[variant].file
        stem = file.stem if file else f"v{variant}"
        suffix = file.suffix if file else ".png"
        return f"retouch-{job.id[:8]}-{stem}{'-pasted' if paste else ''}{suffix}"

    async def save(self, job: Job, variant: int, target: Path, *, paste: bool) -> Path:
        file = self._file(job, variant)
        fmt = format_for(target)
        feather = self.feather_px

        def work() -> Path:
            if not paste:
                return convert(file, target)
            return write_atomic(target, encode(pasted_back(job, file, feather), fmt))

        written = await asyncio.to_thread(work)
        self.saved.emit(written, paste)
        return written

    async def use(self, job: Job, variant: int, *, paste: bool) -> Path:
        """Make the result the picture being retouched (one undo step, the mask kept); with
        ``paste``, the pasted-back copy, written next to the result under a unique name."""
        file = self._file(job, variant)
        if paste:
            feather = self.feather_px
            target = job.folder / f"{file.stem}-pasted-{uuid.uuid4().hex[:8]}.png"

            def work() -> Path:
                return write_atomic(target, encode(pasted_back(job, file, feather), "png"))

            file = await asyncio.to_thread(work)
        self._document.use_result(file)
        return file

    async def copy(self, job: Job, variant: int) -> None:
        image = await load_full(self._file(job, variant))
        QGuiApplication.clipboard().setImage(image)
        self.copied.emit()

    @staticmethod
    def _file(job: Job, variant: int) -> Path:
        file = job.results[variant].file
        if file is None:
            raise ValueError(f"{job.label(variant)} has no image yet.")
        return file
