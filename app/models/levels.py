"""Zoom levels of a picture: the picture in QPainter's fastest format, then halved until
it fits 512 px. Zoomed out, a view draws the level nearest the screen's resolution, which
is both faster and free of the aliasing of a bilinear shrink by more than two.

Building them from a 3840x2160 picture takes 50-80 ms, so it is done where the picture is
decoded, in a worker thread (QImage, unlike QPixmap, is safe there), and the picture
travels to the UI thread with its levels as a ``Leveled``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

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
