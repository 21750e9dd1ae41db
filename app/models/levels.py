"""Zoom levels of a picture: the picture in QPainter's fastest format, then halved until
it fits 512 px. Zoomed out, a view draws the level nearest the screen's resolution, which
is both faster and free of the aliasing of a bilinear shrink by more than two.

A decoded photo's levels are made without copying it (``levels_from_pixels``): the
full-size level is a QImage over the decoded array itself, and each smaller one a 2x2
area average of the one above (cv2.INTER_AREA, a few milliseconds where QImage.scaled
takes tens). A 48 MP photo's levels take 15-40 ms, built where the picture is decoded, in
a worker thread (QImage, unlike QPixmap, is safe there); the picture travels to the UI
thread with its levels as a ``Leveled`` or a ``LoadedImage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from PySide6.QtGui import QImage

from app.core.photo import Prepared, display_pixels

LEVEL_EDGE = 512  # the smallest level's long side is at most this

_OPAQUE = QImage.Format.Format_RGB32  # 0xffRRGGBB: B, G, R, 255 in memory (little-endian)
_ALPHA = QImage.Format.Format_ARGB32_Premultiplied


def _view(image: QImage, *, writable: bool = True) -> np.ndarray:
    """An (h, w, 4) view of a 32-bit QImage's own buffer, in memory order (B, G, R, A on
    little-endian machines; a 32-bit QImage has no row padding). A read-only view does not
    detach an image that shares its pixels (no copy)."""
    buffer = image.bits() if writable else image.constBits()
    return np.ndarray((image.height(), image.width(), 4), np.uint8, buffer=buffer)


def _halve_all(base: QImage) -> list[QImage]:
    """``base`` and its halvings down to LEVEL_EDGE, each an area average of the last."""
    levels = [base]
    source = _view(base, writable=False)
    while max(levels[-1].width(), levels[-1].height()) > LEVEL_EDGE:
        last = levels[-1]
        smaller = QImage(max(1, last.width() // 2), max(1, last.height() // 2), base.format())
        target = _view(smaller)
        # Averaging premultiplied pixels is the correct way to shrink them.
        cv2.resize(source, (smaller.width(), smaller.height()), target, 0, 0, cv2.INTER_AREA)
        levels.append(smaller)
        source = target
    return levels


def levels_from_pixels(pixels: np.ndarray) -> list[QImage]:
    """The levels of an (h, w, 3) RGB or (h, w, 4) RGBA (straight alpha) uint8 array, full
    size first. Safe in a worker thread.

    An opaque picture's levels *are* numpy arrays: Format_RGB888 QImages over their
    buffers (PySide6 keeps an array alive as long as its image), so a 48 MP photo is not
    copied at all, and its smaller levels are one area average each (15-40 ms in all,
    where converting to RGB32 first costs 90 ms, most of it touching 250 MB of new
    memory). QPainter draws RGB888 at 1-3 ms for a whole 1400x900 viewport (RGB32: 0.2-1
    ms). A picture with transparency is converted to premultiplied ARGB32 throughout."""
    pixels = np.ascontiguousarray(pixels)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        height, width = pixels.shape[:2]
        rgba = QImage(pixels.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
        return _halve_all(rgba.convertToFormat(_ALPHA))
    if pixels.ndim == 2:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    levels = [_rgb888(pixels)]
    while max(pixels.shape[:2]) > LEVEL_EDGE:
        height, width = pixels.shape[:2]
        size = (max(1, width // 2), max(1, height // 2))
        pixels = cv2.resize(pixels, size, None, 0, 0, cv2.INTER_AREA)
        levels.append(_rgb888(pixels))
    return levels


def _rgb888(pixels: np.ndarray) -> QImage:
    """A QImage over a contiguous (h, w, 3) array's own buffer (it keeps the array)."""
    height, width = pixels.shape[:2]
    return QImage(pixels.data, width, height, width * 3, QImage.Format.Format_RGB888)


def build_levels(image: QImage) -> list[QImage]:
    """The levels of ``image``, full size first. Safe in a worker thread."""
    # No copy when it is in that format already: the levels only read it.
    return _halve_all(image.convertToFormat(_ALPHA if image.hasAlphaChannel() else _OPAQUE))


@dataclass(frozen=True)
class Leveled:
    """A picture and its zoom levels, built together off the UI thread."""

    image: QImage
    levels: list[QImage]

    @classmethod
    def of(cls, image: QImage) -> Leveled:
        return cls(image, build_levels(image))


@dataclass(frozen=True)
class LoadedImage:
    name: str
    levels: list[QImage]

    @property
    def image(self) -> QImage:
        return self.levels[0]


def qimage_from_pil(image: Image.Image) -> QImage:
    """A QImage that owns a copy of the pixels (the numpy buffer may go away)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    rgba = np.ascontiguousarray(np.asarray(image.convert("RGBA" if has_alpha else "RGBX")))
    height, width = rgba.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGBX8888
    return QImage(rgba.data, width, height, width * 4, fmt).copy()


def decode_levels(prepared: Prepared, name: str, max_pixels: int | None = None) -> LoadedImage:
    """Decode a picture once (app.core.photo.display_pixels) and build its levels: the
    canvas's whole preparation of a file, in a worker thread. ``max_pixels`` defaults to
    what this machine's memory allows (app.core.limits)."""
    return LoadedImage(name, levels_from_pixels(display_pixels(prepared, max_pixels=max_pixels)))
