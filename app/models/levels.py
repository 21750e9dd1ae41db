"""Zoom levels of a picture: the picture in QPainter's fastest format, then halved until
it fits 512 px. Zoomed out, a view draws the level nearest the screen's resolution, which
is both faster and free of the aliasing of a bilinear shrink by more than two.

Building them from a 3840x2160 picture takes 50-80 ms, so it is done where the picture is
decoded, in a worker thread (QImage, unlike QPixmap, is safe there), and the picture
travels to the UI thread with its levels as a ``Leveled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.core.imageio import decode_image

LEVEL_EDGE = 512  # the smallest level's long side is at most this


def build_levels(image: QImage) -> list[QImage]:
    """The levels of ``image``, full size first. Safe in a worker thread."""
    base = image.convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied
        if image.hasAlphaChannel()
        else QImage.Format.Format_RGB32
    )
    levels = [base]
    while max(levels[-1].width(), levels[-1].height()) > LEVEL_EDGE:
        last = levels[-1]
        levels.append(
            last.scaled(
                max(1, last.width() // 2),
                max(1, last.height() // 2),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    return levels


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


def decode_levels(source: Path | bytes, name: str, max_pixels: int) -> LoadedImage:
    with decode_image(source, name=name, max_pixels=max_pixels) as image:
        return LoadedImage(name, build_levels(qimage_from_pil(image)))
