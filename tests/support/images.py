"""Image files for tests, made on the fly: valid, truncated, corrupt and hostile ones."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from app.core.resources import resource_path


def sample(name: str = "coffee.png") -> Path:
    return resource_path("samples", name)


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A smooth, deterministic picture (a gradient with a soft diagonal)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255 * x / max(1, width - 1)
    g = 255 * y / max(1, height - 1)
    b = 127 + 60 * np.sin((x + y) / 40.0)
    rgb = np.dstack([r, g, b]).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(rgb, "RGB")
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def png_bytes(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    return encode(gradient(width, height, mode), "PNG")


def mask_bytes(width: int, height: int, hole: tuple[int, int, int, int] | None = None) -> bytes:
    """An API mask: RGBA, alpha 0 inside ``hole`` (x0, y0, x1, y1), 255 elsewhere."""
    alpha = np.full((height, width), 255, np.uint8)
    if hole:
        x0, y0, x1, y1 = hole
        alpha[y0:y1, x0:x1] = 0
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., 3] = alpha
    return encode(Image.fromarray(rgba, "RGBA"), "PNG")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A small, well-formed PNG whose header claims ``width`` x ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + (width + 7) // 8) * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def corrupt(data: bytes) -> bytes:
    """Same length and ending, garbage in the middle (breaks PNG's CRCs and zlib stream)."""
    middle = len(data) // 2
    return data[: middle - 200] + bytes(range(256))[:200] * 2 + data[middle + 200 :]
