"""Pixels in and out: decode a validated upload to a numpy array, resize, and encode the
result as PNG, JPEG or WebP.

PNG is the common case and the costly one at 4K (decoding the input and encoding the result
each take about half as long as the fill itself), so it has a fast path on both sides:
8-bit RGB/RGBA PNGs are decoded by OpenCV (libpng, GIL released) after the same header gate
as every other file, and results are encoded by ``PngRows`` in strips on all cores, with the
strips a fill cannot change encoded once per request while the fill runs.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import cv2
import numpy as np
from isal import isal_zlib

from app.core.imageio import decode_image, probe_image
from app.core.mask import alpha_of

T = TypeVar("T")
_POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="codec")
"""Codec work that a worker thread fans out (strips, the mask beside the image). Its tasks
never wait on other tasks, so a caller waiting on them cannot deadlock."""


def background(action: Callable[[], T]) -> Future[T]:
    """Run ``action`` on the codec pool (for example the mask's decode beside the image's)."""
    return _POOL.submit(action)


def decode_pixels(data: bytes, *, name: str, max_pixels: int, alpha: bool) -> np.ndarray:
    """HxWx3 RGB (or HxWx4 RGBA when ``alpha``) uint8. The pixel grid is the file's as
    stored (EXIF orientation is not applied), so it matches the mask checked against the
    header size. Raises ImageFileError."""
    fast = _fast_png(data, name=name, max_pixels=max_pixels, channels=4 if alpha else 3)
    if fast is not None:
        # In place: the decoded array is ours, and a second full-size copy costs as much.
        return cv2.cvtColor(fast, cv2.COLOR_BGRA2RGBA if alpha else cv2.COLOR_BGR2RGB, fast)
    with decode_image(data, name=name, max_pixels=max_pixels) as image:
        return np.asarray(image.convert("RGBA" if alpha else "RGB"))


def mask_alpha(data: bytes, *, name: str, max_pixels: int) -> np.ndarray:
    """The mask's alpha channel, HxW uint8, exactly as stored: from RGBA (OpenCV), from the
    compact grey+alpha masks clients send and from palettes with transparency (Pillow).
    Anything else (validation refuses a mask without alpha first) goes through Pillow's
    RGBA conversion, as it always has."""
    fast = _fast_png(data, name=name, max_pixels=max_pixels, channels=4)
    if fast is not None:
        return fast[..., 3]
    with decode_image(data, name=name, max_pixels=max_pixels) as image:
        alpha = alpha_of(image)  # the alpha band alone: no RGBA copy of a grey+alpha mask
        if alpha is None:
            alpha = np.asarray(image.convert("RGBA").getchannel("A"))
        return alpha


def _fast_png(data: bytes, *, name: str, max_pixels: int, channels: int) -> np.ndarray | None:
    """An 8-bit PNG whose Pillow mode is RGB (``channels`` 3) or RGBA (4), decoded by OpenCV
    as BGR(A); None for anything else, and for anything OpenCV cannot decode, so that the
    Pillow path handles it and reports problems with its usual messages and codes.

    probe_image is the gate, as in decode_image: format, truncation and the pixel limit
    (bombs) are checked on the header before a single pixel is decoded."""
    info = probe_image(data, name=name, max_pixels=max_pixels)
    if info.format != "png" or info.mode != ("RGBA" if channels == 4 else "RGB"):
        return None  # palettes, grey, 16-bit, tRNS: Pillow's conversions are the reference
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if (
        decoded is None
        or decoded.dtype != np.uint8
        or decoded.shape != (info.height, info.width, channels)
    ):
        return None
    return decoded


def flatten(rgba: np.ndarray) -> np.ndarray:
    """RGBA over white, as an image viewer shows it: for opaque output of a transparent
    input."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    out = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.rint(out).astype(np.uint8)


def resize(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    if pixels.shape[1] == width and pixels.shape[0] == height:
        return pixels
    shrinking = width * height < pixels.shape[0] * pixels.shape[1]
    method = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(pixels, (width, height), interpolation=method)


def encode(pixels: np.ndarray, fmt: str, compression: int | None = None) -> bytes:
    """Encode RGB or RGBA pixels. ``compression`` is OpenAI's output_compression, 0-100,
    used as the JPEG/WebP quality (100, the default, keeps the most)."""
    if fmt == "png":
        return PngRows(pixels).encode(pixels)  # lossless: ``compression`` does not apply
    quality = 100 if compression is None else max(0, min(100, compression))
    if pixels.shape[2] == 4:
        bgr = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
    else:
        bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    if fmt == "jpeg":
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
        ext = ".jpg"
        if pixels.shape[2] == 4:
            bgr = cv2.cvtColor(pixels[..., :3], cv2.COLOR_RGB2BGR)
    elif fmt == "webp":
        # WebP quality 1-100 is lossy; 100 is its best lossy setting, not lossless.
        params = [cv2.IMWRITE_WEBP_QUALITY, max(1, quality)]
        ext = ".webp"
    else:
        raise ValueError(f"cannot encode {fmt!r}")
    ok, buffer = cv2.imencode(ext, bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {fmt} image")
    return buffer.tobytes()


# --- PNG in strips ---------------------------------------------------------------------------

STRIP_BYTES = 1024 * 1024
STRIPS = 32
"""A strip is at most STRIP_BYTES of raw pixels and a STRIPS-th of the image (at least
MIN_STRIP_ROWS rows): small enough that a hole's rows touch few strips and every core gets
work, large enough that per-strip overhead (a chunk header, a flush) is noise."""
MIN_STRIP_ROWS = 8
_SUB_FILTER = 1
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32K window, fastest: the fields are only a hint
_LAST_BLOCK = zlib.compressobj(1, zlib.DEFLATED, -15).flush()  # an empty final block
_ISAL_LEVEL = 1
"""ISA-L's level 1 deflates filtered photos three times as fast as zlib's fastest setting
(Huffman only) and a little smaller; it releases the GIL, so strips run on every core."""
_ADLER_BASE = 65521


class PngRows:
    """Lossless PNG encoding of images shaped like ``base`` (HxWx3 RGB or HxWx4 RGBA uint8).

    The image is cut into strips of rows; each strip is filtered (PNG filter Sub, row by row,
    so strips are independent) and deflated (by ISA-L, see _ISAL_LEVEL) on the codec pool,
    into IDAT chunks of one zlib stream. ``changing`` (H bools) marks the rows a result may
    differ from ``base`` in; the other strips are encoded from ``base`` at once, in the
    background, and reused by every ``encode`` (each variant and partial image of a
    request), so a fill and the encoding of its untouched rows run at the same time."""

    def __init__(self, base: np.ndarray, changing: np.ndarray | None = None) -> None:
        height, width, channels = base.shape
        self.shape = base.shape
        rows = max(MIN_STRIP_ROWS, min(STRIP_BYTES // (width * channels), -(-height // STRIPS)))
        self.strips = [(top, min(top + rows, height)) for top in range(0, height, rows)]
        self.fixed: dict[int, Future[tuple[bytes, int, int]]] = {}
        if changing is not None:
            for index, (top, bottom) in enumerate(self.strips):
                if not changing[top:bottom].any():
                    self.fixed[index] = _POOL.submit(_deflate_strip, base[top:bottom])

    def encode(self, pixels: np.ndarray) -> bytes:
        """The PNG of ``pixels``, which must equal ``base`` outside the changing rows."""
        if pixels.shape != self.shape or pixels.dtype != np.uint8:
            raise ValueError(f"PngRows of {self.shape} cannot encode {pixels.shape}")
        jobs = [
            self.fixed.get(index) or _POOL.submit(_deflate_strip, pixels[top:bottom])
            for index, (top, bottom) in enumerate(self.strips)
        ]
        height, width, channels = self.shape
        header = struct.pack(">IIBBBBB", width, height, 8, 6 if channels == 4 else 2, 0, 0, 0)
        parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), _chunk(b"IDAT", _ZLIB_HEADER)]
        adler = 1
        for job in jobs:
            chunk, strip_adler, length = job.result()
            parts.append(chunk)
            adler = _adler32_combine(adler, strip_adler, length)
        parts.append(_chunk(b"IDAT", _LAST_BLOCK + adler.to_bytes(4, "big")))
        parts.append(_chunk(b"IEND", b""))
        return b"".join(parts)


def _deflate_strip(rows: np.ndarray) -> tuple[bytes, int, int]:
    """One strip as an IDAT chunk (deflate blocks ending in a sync flush, so strips
    concatenate into one stream), with the Adler-32 and length of its filtered bytes."""
    height, width, channels = rows.shape
    flat = rows.reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), np.uint8)
    filtered[:, 0] = _SUB_FILTER
    filtered[:, 1 : channels + 1] = flat[:, :channels]
    np.subtract(flat[:, channels:], flat[:, :-channels], out=filtered[:, channels + 1 :])
    deflate = isal_zlib.compressobj(_ISAL_LEVEL, isal_zlib.DEFLATED, -15)
    body = deflate.compress(filtered) + deflate.flush(isal_zlib.Z_SYNC_FLUSH)
    return _chunk(b"IDAT", body), zlib.adler32(filtered), filtered.nbytes


def _adler32_combine(first: int, second: int, length: int) -> int:
    """Adler-32 of A+B from those of A and B (B ``length`` bytes long), as zlib's
    adler32_combine: Python's zlib does not expose it."""
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    low = (a1 + a2 - 1) % _ADLER_BASE
    high = (b1 + b2 + length * (a1 - 1)) % _ADLER_BASE
    return low | (high << 16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return b"".join(
        (
            struct.pack(">I", len(data)),
            kind,
            data,
            struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))),
        )
    )
