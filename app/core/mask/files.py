"""Mask files: export to the API's mask PNG (``api_alpha``, ``to_api_png``), the compact
re-encoding of any mask that is sent (``compact_png``, ``compact_mask``), and import of a
mask picture as coverage (``MaskSource``, ``coverage_from_image``, ``read_mask``, with
``MaskSizeError`` for a file of the wrong size).

API export rule: the OpenAI-compatible endpoints treat only alpha 0 as "edit", and any other
alpha as "keep". The export is thresholded: coverage >= 128 (at least half painted) becomes
alpha 0, everything else alpha 255. A soft edge is edited where it is at least half painted;
the graded coverage itself stays in the document for paste-back compositing.

Compact masks: the API takes masks under 4 MB (the mask field's ``max_file_bytes``) and reads
only their alpha, so every mask that goes out is a grey+alpha (LA) PNG whose grey is 0
everywhere, deflated with zlib's run-length strategy. Measured at 3840x2160: a mask saved
as RGBA with noisy colour channels is 28.6 MB; its alpha compact is 25 KB (three shapes),
83 KB (300 blobs) or 253 KB (the shapes feathered, every alpha level kept), encoded in
50-75 ms, about 0.2 s with the decode of the noisy file. Z_RLE is as small as any zlib
level for such alpha and, unlike the default strategy, never slow: random two-valued alpha
took 26 s at level 9 with the default strategy and 0.23 s with Z_RLE.
"""

from __future__ import annotations

import io
import os
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from app.core.imageio import ImageFileError, ImageSource, decode_image, probe_image
from app.core.mask.geometry import EDIT_THRESHOLD, FULL, check_mask
from app.core.schema import load_schema

MaskSource = Literal["auto", "alpha", "white", "black"]
"""How to read a mask file: ``alpha`` = API mask (transparent = edit), ``white`` / ``black``
= a greyscale picture whose white / black means edit, ``auto`` = ``alpha`` when the file has
an alpha channel, else ``white``."""


class MaskSizeError(ImageFileError):
    """A mask file whose size differs from the image's; it may be scaled on request."""


def api_alpha(mask: np.ndarray) -> np.ndarray:
    """The alpha channel of the API mask: 0 (edit) where coverage >= 128, else 255."""
    return np.where(mask >= EDIT_THRESHOLD, 0, FULL).astype(np.uint8)


def to_api_png(mask: np.ndarray) -> bytes:
    """The mask as the API wants it, compact: a PNG of the image's size whose alpha is 0
    where the picture is to be edited (see ``api_alpha`` and ``compact_png``)."""
    check_mask(mask)
    return compact_png(api_alpha(mask))


def coverage_png(mask: np.ndarray) -> bytes:
    """The coverage exactly, soft edges included: a greyscale PNG, white = edit (read it
    back with ``read_mask(..., mode="white")``). What a job keeps of the painting."""
    check_mask(mask)
    buffer = io.BytesIO()
    Image.fromarray(mask, "L").save(buffer, "PNG", compress_level=6, compress_type=zlib.Z_RLE)
    return buffer.getvalue()


# zlib's run-length strategy: a mask's alpha is long runs of 0 and 255 (see the module notes).
_COMPACT_PNG_OPTIONS = {"compress_level": 9, "compress_type": zlib.Z_RLE}
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})
_MiB = 1024 * 1024


def compact_png(alpha: np.ndarray) -> bytes:
    """An API mask PNG that carries ``alpha`` (HxW uint8) exactly and nothing else: grey+alpha
    (LA), grey 0 everywhere, so that the colour costs nothing on the wire."""
    grey_alpha = np.zeros((*alpha.shape, 2), np.uint8)
    grey_alpha[..., 1] = alpha
    buffer = io.BytesIO()
    Image.fromarray(grey_alpha, "LA").save(buffer, "PNG", **_COMPACT_PNG_OPTIONS)
    return buffer.getvalue()


def alpha_of(image: Image.Image) -> np.ndarray | None:
    """A decoded picture's alpha channel as stored (HxW uint8), or None when it has none.

    Modes with an alpha band give it directly (no conversion of the colour); a palette with
    a transparency entry gives the alpha of its colours. The same modes count as having
    alpha as in ``app.core.imageio.probe_image``."""
    if image.mode in _ALPHA_MODES:
        return np.asarray(image.getchannel("A"), np.uint8)
    if image.mode == "P" and "transparency" in image.info:
        return np.asarray(image.convert("RGBA").getchannel("A"), np.uint8)
    return None


def compact_mask(
    source: ImageSource,
    *,
    name: str | None = None,
    max_pixels: int,
    max_bytes: int | None = None,
) -> bytes | None:
    """The bytes to send for a mask file: its alpha, exactly, re-encoded by ``compact_png``.

    None for a file that is not a PNG with alpha: it cannot be made into an API mask here,
    so it is sent as it is and validation (or the server) says what is wrong. Raises
    ImageFileError naming the file when it cannot be read or decoded, and, with
    ``max_bytes``, when even the compact encoding is ``max_bytes`` or more (code
    ``mask_too_large``). Decoding a 4K mask takes a tenth of a second or more, so the
    result for a file on disk is remembered while the file stays the same: validation and
    each request of a job then share one encoding."""
    label = name or (str(source) if isinstance(source, Path) else "mask")
    key = _cache_key(source, max_pixels)
    data = _COMPACT_CACHE.get(key) if key is not None else None
    if data is None:
        data = _encode_compact(source, label, max_pixels)
        if data is None:
            return None
        if key is not None:
            _COMPACT_CACHE.put(key, data)
    if max_bytes is not None and len(data) >= max_bytes:
        raise ImageFileError(
            f"{label}: even sent compactly (its alpha channel alone), the mask is "
            f"{len(data) / _MiB:.1f} MB, and the API takes masks under {limit_text(max_bytes)}. "
            "Its alpha is too noisy to compress: simplify the mask (fewer, smoother shapes, "
            "alpha only 0 or 255) or soften its noise (blur it), and try again.",
            "mask_too_large",
        )
    return data


def limit_text(max_bytes: int) -> str:
    """A byte limit as the messages about masks write it: ``4 MB (4,194,304 bytes)``."""
    return f"{max_bytes / _MiB:g} MB ({max_bytes:,} bytes)"


def _encode_compact(source: ImageSource, label: str, max_pixels: int) -> bytes | None:
    if probe_image(source, name=label, max_pixels=max_pixels).format != "png":
        return None
    with decode_image(source, name=label, max_pixels=max_pixels) as image:
        alpha = alpha_of(image)
    return None if alpha is None else compact_png(alpha)


def _cache_key(source: ImageSource, max_pixels: int) -> tuple[object, ...] | None:
    """What identifies a file's current contents (path, size, change time, inode); None for
    bytes, or a file that cannot be looked at (reading it then reports why)."""
    if not isinstance(source, Path):
        return None
    try:
        stat = os.stat(source)
    except OSError:
        return None
    return (os.path.abspath(source), stat.st_size, stat.st_mtime_ns, stat.st_ino, max_pixels)


class _RecentEncodings:
    """The last few compact encodings by file key; shared by the threads that validate
    and send, hence the lock."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: tuple[object, ...], data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


_COMPACT_CACHE = _RecentEncodings(capacity=4)


def coverage_from_image(image: Image.Image, mode: MaskSource = "auto") -> np.ndarray:
    """Coverage from a decoded mask picture (see ``MaskSource``)."""
    alpha = alpha_of(image) if mode in ("auto", "alpha") else None
    if mode == "auto":
        mode = "alpha" if alpha is not None else "white"
    if mode == "alpha":
        if alpha is None:
            raise ValueError("has no alpha channel")
        return FULL - alpha
    luminance = np.asarray(image.convert("L"), np.uint8)
    return luminance.copy() if mode == "white" else FULL - luminance


def read_mask(
    source: ImageSource,
    size: tuple[int, int],
    *,
    mode: MaskSource = "auto",
    scale: bool = False,
    name: str | None = None,
    max_pixels: int | None = None,
) -> np.ndarray:
    """Read a mask file into coverage for an image of ``size`` (width, height).

    A file of another size is refused unless ``scale`` asks to resize it. Raises
    ImageFileError with a message naming the file: corrupt, truncated or non-image files
    (through imageio), wrong size, or ``alpha`` asked of a file without an alpha channel."""
    label = name or (str(source) if isinstance(source, Path) else "mask")
    if max_pixels is None:
        max_pixels = load_schema().files.max_pixels
    with decode_image(source, name=label, max_pixels=max_pixels) as image:
        width, height = size
        if image.size != (width, height) and not scale:
            raise MaskSizeError(
                f"{label}: the mask is {image.width}x{image.height} but the image is "
                f"{width}x{height}; open a mask of the same size, or choose to scale it."
            )
        try:
            coverage = coverage_from_image(image, mode)
        except ValueError as exc:
            raise ImageFileError(
                f"{label}: {exc}; transparent pixels mark the edit area of an API mask, so "
                "open it as a black-and-white mask instead."
            ) from None
    if coverage.shape != (height, width):
        shrinking = coverage.shape[0] * coverage.shape[1] > width * height
        coverage = cv2.resize(
            coverage,
            (width, height),
            interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
        )
    return np.ascontiguousarray(coverage, np.uint8)
