"""A mask canvas on screen (offscreen) with a known picture, for widget tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from app.ui.canvas import MaskCanvas
from tests.support.images import gradient


def qimage(array: np.ndarray) -> QImage:
    """A QImage owning a copy of an (h, w, 3) uint8 RGB array."""
    rgb = np.ascontiguousarray(array, np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def gradient_image(width: int = 320, height: int = 240) -> QImage:
    return qimage(np.asarray(gradient(width, height)))


def make_canvas(
    qtbot: QtBot,
    image: QImage | None = None,
    *,
    size: tuple[int, int] = (480, 360),
    confirm: Callable[[str], bool] | None = None,
) -> MaskCanvas:
    canvas = MaskCanvas(confirm_discard=confirm or (lambda text: True))
    qtbot.addWidget(canvas)
    canvas.resize(*size)
    canvas.set_image(image if image is not None else gradient_image(), "test image")
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.activateWindow()
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    canvas.fit()
    return canvas


def scene_point(canvas: MaskCanvas, point: QPoint | tuple[int, int]) -> tuple[float, float]:
    """Where Qt's own view transform puts a viewport pixel in the image."""
    position = QPointF(point if isinstance(point, QPoint) else QPoint(*point))
    inverse, invertible = canvas.viewportTransform().inverted()
    assert invertible
    mapped = inverse.map(position)
    return mapped.x(), mapped.y()


def viewport_point(canvas: MaskCanvas, x: float, y: float) -> QPoint:
    """The viewport pixel showing image point (x, y)."""
    return canvas.viewportTransform().map(QPointF(x, y)).toPoint()
