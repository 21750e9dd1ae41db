"""What the mask canvas paints around and over the picture, in viewport pixels: the shadow
under the picture, the dashed "drop a photo here" hint, and the heads-up text (zoom, brush
size, ...). Plain functions of a QPainter; MaskCanvas decides when each is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen


def paint_picture_shadow(painter: QPainter, frame: QRect) -> None:
    """A soft shadow under ``frame`` (the picture, in viewport pixels) lifts it off the
    background."""
    painter.save()
    painter.resetTransform()
    painter.setPen(Qt.PenStyle.NoPen)
    for spread, alpha in ((7, 10), (5, 18), (3, 30), (1, 60)):
        painter.fillRect(frame.adjusted(-spread, -spread + 2, spread, spread + 2),
                         QColor(0, 0, 0, alpha))  # fmt: skip
    painter.restore()


def paint_drop_hint(
    painter: QPainter, area: QRectF, font: QFont, *, hover: bool, has_image: bool
) -> None:
    """A dashed frame inside ``area``, lit while a drag is over it (``hover``); with the
    invitation to drop or paste a photo unless a picture is shown and nothing hovers."""
    frame = area.adjusted(18, 18, -18, -18)
    accent = QColor(120, 160, 255) if hover else QColor(90, 90, 96)
    pen = QPen(accent, 1.5, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(QColor(255, 255, 255, 10 if hover else 0))
    painter.drawRoundedRect(frame, 14, 14)
    if has_image and not hover:
        return
    title = QFont(font)
    title.setPointSizeF(title.pointSizeF() * 1.5)
    painter.setFont(title)
    painter.setPen(QColor(210, 210, 215))
    middle = frame.center()
    painter.drawText(
        QRectF(frame.left(), middle.y() - 40, frame.width(), 36),
        Qt.AlignmentFlag.AlignCenter,
        "Drop to open" if hover else "Drop a photo here",
    )
    painter.setFont(font)
    painter.setPen(QColor(150, 150, 158))
    painter.drawText(
        QRectF(frame.left(), middle.y(), frame.width(), 28),
        Qt.AlignmentFlag.AlignCenter,
        "or paste one with Ctrl+V",
    )


def hud_rect(metrics: QFontMetrics, text: str, viewport_width: int) -> QRect:
    """Where the heads-up ``text`` is shown: a pill centred near the top of the viewport."""
    width = metrics.horizontalAdvance(text) + 28
    height = metrics.height() + 14
    return QRect((viewport_width - width) // 2, 16, width, height)


def paint_hud(painter: QPainter, rect: QRect, font: QFont, text: str) -> None:
    """The heads-up ``text`` in its dark pill (``rect``, from ``hud_rect``)."""
    box = QRectF(rect)
    path = QPainterPath()
    path.addRoundedRect(box, box.height() / 2, box.height() / 2)
    painter.fillPath(path, QColor(20, 20, 22, 210))
    painter.setPen(QColor(240, 240, 245))
    painter.setFont(font)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
