"""The two scene items under the tools: the photo and the mask drawn over it."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.core.mask import Box
from app.models.mask_document import MaskDocument
from app.ui.canvas.outline import MaskOutline
from app.ui.canvas.overlay import OverlayImage

PIXEL_EXACT_ZOOM = 2.0
"""From this zoom (device pixels per image pixel) up, pixels are drawn as crisp squares."""


def device_zoom(painter: QPainter) -> float:
    return painter.worldTransform().m11() * painter.device().devicePixelRatioF()


def _source_area(option: QStyleOptionGraphicsItem, width: int, height: int) -> QRectF:
    # Two extra pixels around the exposed area: bilinear filtering samples neighbours, and
    # a source rectangle cut at the exposed edge would show seams between repaints.
    exposed = option.exposedRect.adjusted(-2, -2, 2, 2)
    left, top = max(0, math.floor(exposed.left())), max(0, math.floor(exposed.top()))
    right = min(width, math.ceil(exposed.right()))
    bottom = min(height, math.ceil(exposed.bottom()))
    return QRectF(left, top, max(0, right - left), max(0, bottom - top))


class PhotoItem(QGraphicsItem):
    """The picture being masked, at scene (0, 0), one scene unit per image pixel. Under a
    picture with transparency a checkerboard is drawn, unless ``checker`` is False (an
    overlay such as a heat map must stay see-through)."""

    def __init__(self, *, checker: bool = True) -> None:
        super().__init__()
        self._levels: list[QImage] = []
        self._checker = QBrush(_checker_pixmap()) if checker else None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    @property
    def image(self) -> QImage:
        return self._levels[0] if self._levels else QImage()

    @property
    def levels(self) -> list[QImage]:
        return self._levels

    def set_levels(self, levels: list[QImage]) -> None:
        self.prepareGeometryChange()
        self._levels = levels
        self.update()

    def boundingRect(self) -> QRectF:
        image = self.image
        return QRectF(0, 0, image.width(), image.height())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if not self._levels:
            return
        base = self._levels[0]
        area = _source_area(option, base.width(), base.height())
        if area.isEmpty():
            return
        zoom = device_zoom(painter)
        if base.hasAlphaChannel() and self._checker is not None:
            painter.save()
            painter.setBrushOrigin(QPointF(0, 0))
            painter.fillRect(area, self._checker)
            painter.restore()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < PIXEL_EXACT_ZOOM)
        level = 0
        if zoom < 1.0:
            level = min(len(self._levels) - 1, max(0, math.floor(math.log2(1.0 / zoom))))
        image = self._levels[level]
        sx = image.width() / base.width()
        sy = image.height() / base.height()
        source = QRectF(area.x() * sx, area.y() * sy, area.width() * sx, area.height() * sy)
        painter.drawImage(area, image, source)


class MaskItem(QGraphicsItem):
    """The mask over the photo: a coloured fill whose colour and opacity the user sets, or
    the outline of what will be edited as marching ants."""

    def __init__(self, document: MaskDocument, color: QColor, opacity: float) -> None:
        super().__init__()
        self._document = document
        self._overlay = OverlayImage(color, opacity)
        self._edge = QColor(color)
        self._outline = MaskOutline()
        self._outline_mode = False
        self.dash_offset = 0.0
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.attach()

    @property
    def outline_mode(self) -> bool:
        return self._outline_mode

    def set_outline_mode(self, enabled: bool) -> None:
        self._outline_mode = enabled
        self.update()

    def set_style(self, color: QColor, opacity: float) -> None:
        self._overlay.set_style(color, opacity)
        self._edge = QColor(color)
        self.update()

    def attach(self) -> None:
        """Follow the document's current mask array (after a reset)."""
        self.prepareGeometryChange()
        self._overlay.attach(self._document.mask)
        self._outline.attach(self._document.mask)
        self.update()

    def refresh(self, rect: QRect) -> None:
        box = Box(rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1)
        self._overlay.refresh(box)
        self._outline.invalidate(box)
        # The outline is traced at pixel centres and drawn one pixel wide: repaint a pixel
        # more on every side.
        self.update(QRectF(rect).adjusted(-1, -1, 1, 1))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._document.width, self._document.height)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        area = _source_area(option, self._document.width, self._document.height)
        if area.isEmpty():
            return
        box = Box(int(area.left()), int(area.top()), int(area.right()), int(area.bottom()))
        if self._outline_mode:
            light = QPen(QColor(255, 255, 255, 230), 1.0)
            dark = QPen(QColor(0, 0, 0, 230), 1.0, Qt.PenStyle.CustomDashLine)
            dark.setDashPattern([4.0, 4.0])
            dark.setDashOffset(self.dash_offset)
            self._paint_outline(painter, box, [light, dark])
            return
        painter.setRenderHint(
            QPainter.RenderHint.SmoothPixmapTransform, device_zoom(painter) < PIXEL_EXACT_ZOOM
        )
        painter.drawImage(area, self._overlay.image, area)
        # A crisp edge at the 50 % line shows exactly what the exported mask will edit,
        # and keeps the shape readable where the fill colour resembles the photo's.
        self._paint_outline(painter, box, [QPen(self._edge, 1.0)])

    def _paint_outline(self, painter: QPainter, box: Box, pens: list[QPen]) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for pen in pens:
            pen.setCosmetic(True)
        for tile, path in self._outline.paths(box):
            painter.save()
            painter.setClipRect(tile, Qt.ClipOperation.IntersectClip)
            for pen in pens:
                painter.setPen(pen)
                painter.drawPath(path)
            painter.restore()


def _checker_pixmap() -> QPixmap:
    pixmap = QPixmap(16, 16)
    pixmap.fill(QColor(204, 204, 204))
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, 8, 8, QColor(153, 153, 153))
    painter.fillRect(8, 8, 8, 8, QColor(153, 153, 153))
    painter.end()
    return pixmap
