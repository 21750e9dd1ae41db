"""The coloured mask overlay as a QImage kept in step with the coverage array.

The overlay is an ARGB32 premultiplied QImage of the image's size whose pixels are written
through a numpy view of its buffer, with a 256-entry lookup table from coverage to colour,
and only inside the rectangle that changed. Measured alternatives: an Indexed8 QImage
wrapping the coverage array with a colour table costs no memory and no updates, but QPainter
draws it 3-5x slower (10.9 ms against 2.9 ms for a 1600x1000 viewport at 30 %, smooth), and
a full numpy-to-QImage conversion of a 4096x4096 mask takes about 110 ms. ARGB32
premultiplied is QPainter's native format, so pans and zooms stay cheap.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from app.core.mask import Box


def coverage_lut(color: QColor, opacity: float) -> np.ndarray:
    """Premultiplied 0xAARRGGBB for each coverage value 0..255."""
    coverage = np.arange(256, dtype=np.float64) / 255.0
    alpha = np.rint(coverage * opacity * 255.0)
    red, green, blue = (np.rint(alpha * c / 255.0) for c in color.getRgb()[:3])
    argb = (alpha.astype(np.uint32) << 24) | (red.astype(np.uint32) << 16)
    return argb | (green.astype(np.uint32) << 8) | blue.astype(np.uint32)


class OverlayImage:
    """A colourised copy of the mask for drawing; ``refresh(box)`` after pixels change."""

    def __init__(self, color: QColor, opacity: float) -> None:
        self._lut = coverage_lut(color, opacity)
        self._mask: np.ndarray | None = None
        self._image = QImage()
        self._pixels: np.ndarray | None = None

    @property
    def image(self) -> QImage:
        return self._image

    def attach(self, mask: np.ndarray) -> None:
        """Follow a new coverage array (a new image was opened)."""
        height, width = mask.shape
        self._mask = mask
        if width == 0 or height == 0:
            self._image, self._pixels = QImage(), None
            return
        # Zeroed pages from the system (calloc): a fresh 48 MP mask's overlay costs nothing
        # until painted into. The QImage draws straight from this buffer (PySide6 keeps the
        # array alive as long as the image); coverage 0 is transparent black.
        self._pixels = np.zeros((height, width), np.uint32)
        self._image = QImage(
            self._pixels.data, width, height, width * 4, QImage.Format.Format_ARGB32_Premultiplied
        )
        if self._lut[0] != 0 or mask.any():
            self.refresh(Box.of_size(width, height))

    def set_style(self, color: QColor, opacity: float) -> None:
        self._lut = coverage_lut(color, opacity)
        if self._mask is not None:
            self.refresh(Box.of_size(self._mask.shape[1], self._mask.shape[0]))

    def refresh(self, box: Box) -> None:
        if self._mask is None or self._pixels is None or box.is_empty:
            return
        slices = box.slices
        self._pixels[slices] = self._lut[self._mask[slices]]
