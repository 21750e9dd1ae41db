"""What a designer does with a result: save it in a chosen format, copy it, reuse it.
All file work runs in worker threads."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image
from PySide6.QtGui import QImage

from app.core.imageio import decode_image, sniff_format, write_atomic
from app.models.jobs import decode_for_display

FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
MAX_PIXELS = 33_177_600


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


async def load_full(source: Path) -> QImage:
    data = await asyncio.to_thread(source.read_bytes)
    return await asyncio.to_thread(decode_for_display, data, 1 << 30)
