"""Keeping a result: save it in a chosen format, copy it, make it the picture being
retouched; each as received or pasted back onto the original through the feathered mask
(the Results panel's switch, a declared setting). All file work runs in worker threads.

Pasted back, a result is kept in the photo's own space (app.core.original): converted into
its colour profile and bit depth, written with its profile and EXIF, every pixel outside
the mask the photo's own. ``save_choices`` lists the formats for the Save dialog, saying
what each would lose for this photo.
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

from app.core import composite
from app.core import original as kept
from app.core.imageio import decode_image, sniff_format, write_atomic
from app.core.limits import open_pixel_limit
from app.core.mask import read_mask
from app.core.region import Rect, place_back
from app.models.compare import MAX_PIXELS
from app.models.display import decode_for_display
from app.models.document import EditDocument
from app.models.job import Job
from app.models.settings import FEATHER_PX, PASTE_BACK, Settings


def format_for(target: Path) -> str:
    """The format a file name asks for by its extension."""
    try:
        return kept.normal_format(target.suffix)
    except ValueError:
        raise ValueError(
            f"{target.name}: choose a .png, .tif, .jpg or .webp name; the format follows "
            "the extension."
        ) from None


_PATTERNS = {"png": "*.png", "tiff": "*.tif *.tiff", "jpeg": "*.jpg *.jpeg", "webp": "*.webp"}
_NAMES = {"png": "PNG", "tiff": "TIFF", "jpeg": "JPEG", "webp": "WebP"}


def save_choices(space: kept.Space | None, paste: bool) -> list[tuple[str, str]]:
    """The Save dialog's choices as (format, filter): the format that holds everything
    first; for a pasted-back result of a photo that JPEG, WebP or PNG cannot hold, each
    says what it would lose."""
    if not paste or space is None:  # the result as received: 8-bit sRGB, PNG first
        order = ["png", "jpeg", "webp", "tiff"]
        return [(fmt, f"{_NAMES[fmt]} ({_PATTERNS[fmt]})") for fmt in order]
    best = kept.lossless_format(space)
    order = [best] + [fmt for fmt in ("png", "tiff", "jpeg", "webp") if fmt != best]
    choices = []
    for fmt in order:
        lost = kept.losses(space, fmt)
        if any("cannot" in text for text in lost):
            continue  # a format that cannot hold the photo at all (PNG for CMYK)
        how = "loses: " + "; ".join(lost) if lost else f"keeps the {space.describe()}"
        choices.append((fmt, f"{_NAMES[fmt]}, {how} ({_PATTERNS[fmt]})"))
    return choices


def convert(source: Path, target: Path, *, quality: int = 95) -> Path:
    """Write ``source`` to ``target`` in the format its extension names (a plain copy when
    the format is already right, so nothing is re-encoded)."""
    fmt = format_for(target)
    data = source.read_bytes()
    if fmt == "tiff":
        image = decode_image(data, name=source.name, max_pixels=MAX_PIXELS)
        buffer = io.BytesIO()
        image.save(buffer, "TIFF", compression="tiff_deflate")
        return write_atomic(target, buffer.getvalue())
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


async def load_full(source: Path) -> QImage:
    data = await asyncio.to_thread(source.read_bytes)
    return await asyncio.to_thread(decode_for_display, data, 1 << 30)


class KeepModel(QObject):
    """``saved(target, pasted, lost)`` after a save (``lost``: what the format dropped of
    the photo, "" for nothing); ``copied()`` when the clipboard holds the
    result. Failures are raised to the task runner, which reports them."""

    saved = Signal(Path, bool, str)
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
        """A file name that no other job's result suggests: the job's id is in it. Pasted
        back, the extension is the format that holds the photo (.png, or .tif for CMYK)."""
        file = job.results[variant].file
        stem = file.stem if file else f"v{variant}"
        suffix = file.suffix if file else ".png"
        space = job.source.space
        if paste and space is not None:
            suffix = kept.EXTENSIONS[kept.lossless_format(space)]
        return f"retouch-{job.id[:8]}-{stem}{'-pasted' if paste else ''}{suffix}"

    async def save(self, job: Job, variant: int, target: Path, *, paste: bool) -> Path:
        file = self._file(job, variant)
        fmt = format_for(target)
        feather = self.feather_px

        def work() -> tuple[Path, list[str]]:
            if not paste:
                return convert(file, target), []
            pixels, space = self._pasted(job, file, feather)
            lost = kept.losses(space, fmt)
            return kept.write_original(target, pixels, space, fmt), lost

        written, lost = await asyncio.to_thread(work)
        self.saved.emit(written, paste, "; ".join(lost))
        return written

    async def use(self, job: Job, variant: int, *, paste: bool) -> Path:
        """Make the result the picture being retouched (one undo step, the mask kept); with
        ``paste``, the pasted-back copy in the photo's own space, written next to the
        result under a unique name."""
        file = self._file(job, variant)
        if paste or job.source.region is not None:  # a region alone is never the picture
            feather = self.feather_px

            def work() -> Path:
                pixels, space = self._pasted(job, file, feather)
                fmt = kept.lossless_format(space)
                name = f"{file.stem}-pasted-{uuid.uuid4().hex[:8]}{kept.EXTENSIONS[fmt]}"
                return kept.write_original(job.folder / name, pixels, space, fmt)

            file = await asyncio.to_thread(work)
        self._document.use_result(file)
        return file

    @staticmethod
    def _pasted(job: Job, result: Path, feather: float) -> tuple[np.ndarray, kept.Original]:
        """In a worker: the result pasted into the photo, in the photo's space; for a job
        that sent a region (crop to mask), scaled to that region and pasted there."""
        limit = open_pixel_limit()
        if job.source.region is None or job.source.mask is None:
            return kept.pasted_pixels(
                job.source.kept_space, result, job.source.mask, feather, max_pixels=limit
            )
        original = kept.read_original(job.source.kept_space, max_pixels=limit)
        width, height = original.size
        region = Rect(*job.source.region).intersect(Rect.of_size((width, height)))
        pixels = composite.load_rgb(result, max_pixels=limit, alpha=original.has_alpha)
        coverage = read_mask(job.source.mask, (width, height), mode="alpha", max_pixels=limit)
        # Every painted pixel lies inside the region (the plan holds them all): the blend
        # is computed there only, with no full-size weight or result.
        weight = kept.region_weight(coverage, region, feather)
        placed = place_back(pixels, region)
        return kept.paste_region(original, placed, region, weight), original

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
