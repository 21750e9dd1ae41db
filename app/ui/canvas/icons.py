"""Line icons from resources/icons, drawn in the palette's text colour so they suit light
and dark themes. The SVGs use ``currentColor``, replaced here before rendering."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.core.resources import resource_path

_SIZES = (16, 20, 24, 32, 48)


@cache
def _svg(name: str) -> str:
    return resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")


def _render(name: str, color: QColor, size: int) -> QPixmap:
    data = _svg(name).replace("currentColor", color.name(QColor.NameFormat.HexRgb))
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    if color.alphaF() < 1.0:
        faded = QPixmap(size, size)
        faded.fill(Qt.GlobalColor.transparent)
        painter = QPainter(faded)
        painter.setOpacity(color.alphaF())
        painter.drawPixmap(0, 0, pixmap)
        painter.end()
        return faded
    return pixmap


def icon(name: str, color: QColor | None = None) -> QIcon:
    """The icon ``name`` (a file in resources/icons), in ``color`` or the palette's."""
    palette = QGuiApplication.palette()
    normal = color or palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
    disabled = QColor(normal)
    disabled.setAlphaF(0.35)
    result = QIcon()
    for size in _SIZES:
        result.addPixmap(_render(name, normal, size), QIcon.Mode.Normal)
        result.addPixmap(_render(name, disabled, size), QIcon.Mode.Disabled)
    return result
