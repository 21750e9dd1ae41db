"""One pane of the compare widget: a zoomable, pannable view of one picture, of two split
by the wipe, or of a picture under a difference heat map.

A ZoomView (app.ui.zoom_view) like the mask canvas, whose zoom steps, fit, wheel and Space
handling it shares, and with the canvas's photo items: scene units are image pixels, the
wheel zooms to the cursor, pixels are crisp squares from 200 % up. The compare widget locks
two of these together through ``view_moved`` and ``follow``.

Mouse: in a wipe, the left button anywhere moves the divider there and drags it (the whole
picture is the slider's track, so there is no small target to hit); the middle button, or
Space with the left button, pans. Without a wipe the left button pans too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from app.ui.compare.wipe import (
    HANDLE_REACH,
    DimItem,
    SidedPhotoItem,
    divider_edge,
    paint_handle,
    strip,
)
from app.ui.zoom_view import ZoomView

_LABEL_MARGIN = 10


@dataclass(frozen=True)
class Picture:
    """What a pane shows of one picture: its zoom levels (app.ui.canvas.layers.build_levels)
    and, when wanted, an RGBA overlay over it, also as levels."""

    levels: list[QImage]
    overlay: list[QImage] | None = None


class CompareView(ZoomView):
    """A pane showing ``primary`` alone, or ``primary`` left of the divider and
    ``secondary`` right of it (the wipe), or ``primary`` dimmed under a heat map."""

    view_moved = Signal()
    """The zoom or the scroll position changed (not by a resize)."""
    resized = Signal()
    divider_dragged = Signal(float)
    """The user moved the divider to this image x."""

    _fit_margin = 16  # logical pixels around a fitted picture (the canvas leaves 24)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.primary = SidedPhotoItem()
        self.primary_overlay = SidedPhotoItem(overlay=True)
        self.secondary = SidedPhotoItem()
        self.secondary_overlay = SidedPhotoItem(overlay=True)
        self.dim = DimItem()
        self.heat = SidedPhotoItem(overlay=True)
        self._sided = (self.primary, self.primary_overlay, self.secondary, self.secondary_overlay)
        for z, item in enumerate((*self._sided, self.dim, self.heat)):
            item.setZValue(z)
            item.setVisible(False)
            self._scene.addItem(item)
        self.setScene(self._scene)

        self._size = QSize()
        self._wiping = False
        self._divider = 0.0
        self._labels: tuple[str, str] = ("", "")
        self._notice = ""
        self._placeholder = "Pick two pictures to compare"
        self._resizing = False
        self._panning_from: QPointF | None = None
        self._dragging_divider = False
        self._configure()

    def _configure(self) -> None:
        self._configure_zoom_view()
        # A pane that grows or shrinks (a mode switch shows or hides its twin) keeps the
        # picture's point at its centre where it was.
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setMinimumSize(QSize(120, 90))
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._refresh_cursor()

    # --- content -----------------------------------------------------------------------

    @property
    def image_size(self) -> QSize:
        return QSize(self._size)

    def show_pictures(
        self,
        primary: Picture | None,
        secondary: Picture | None = None,
        heat: list[QImage] | None = None,
        *,
        dimmed: bool = False,
    ) -> None:
        """``primary`` alone; with ``secondary``, the two split by the wipe; ``dimmed`` veils
        the primary picture and ``heat`` is drawn over it."""
        size = primary.levels[0].size() if primary else QSize()
        if size != self._size:
            self._size = size
            self._update_scene_rect()
        self._wiping = primary is not None and secondary is not None
        self._set(self.primary, primary.levels if primary else None, "left")
        self._set(self.primary_overlay, primary.overlay if primary else None, "left")
        self._set(self.secondary, secondary.levels if secondary else None, "right")
        self._set(self.secondary_overlay, secondary.overlay if secondary else None, "right")
        self.dim.set_size(size.width(), size.height())
        self.dim.setVisible(dimmed and primary is not None)
        self._set(self.heat, heat, "all")
        self._refresh_cursor()
        self.viewport().update()

    def _set(self, item: SidedPhotoItem, levels: list[QImage] | None, side: str) -> None:
        item.side = side if self._wiping else "all"  # type: ignore[assignment]
        item.divider = self._divider
        if levels is None:
            item.setVisible(False)
            item.set_levels([])
            return
        item.set_levels(levels)
        item.setVisible(True)

    def set_labels(self, left: str, right: str = "") -> None:
        """Captions in the top corners (the right one only in a wipe)."""
        self._labels = (left, right)
        self.viewport().update()

    @property
    def labels(self) -> tuple[str, str]:
        return self._labels

    def set_notice(self, text: str) -> None:
        """A message in the middle of the pane ("Computing the difference…")."""
        self._notice = text
        self.viewport().update()

    @property
    def notice(self) -> str:
        return self._notice

    # --- the divider ---------------------------------------------------------------------

    @property
    def divider(self) -> float:
        """Image x of the wipe's divider."""
        return self._divider

    def divider_column(self) -> int:
        """The viewport column where the right picture starts."""
        return divider_edge(self.viewportTransform(), self._divider)

    def set_divider(self, x: float) -> None:
        if x == self._divider:
            return
        old = self.divider_column()
        self._divider = x
        for item in self._sided:
            item.divider = x
        if self._wiping:
            # Only the strip between the old and the new edge changes: no item.update(),
            # which would repaint the whole picture.
            self.viewport().update(strip(old, self.divider_column(), self.viewport().height()))

    # --- zoom and scroll: ZoomView's, plus the lock between panes ------------------------

    def follow(self, leader: CompareView) -> None:
        """Take the leader's zoom and scroll position: every viewport point then shows the
        same image point in both panes."""
        self.setTransform(leader.transform())
        self.horizontalScrollBar().setValue(leader.horizontalScrollBar().value())
        self.verticalScrollBar().setValue(leader.verticalScrollBar().value())
        self._fit_mode = leader.fit_mode
        self.zoom_changed.emit(self.zoom)

    def _image_size(self) -> QSize:
        return self._size

    def _on_view_scaled(self) -> None:
        super()._on_view_scaled()
        self.view_moved.emit()

    def _zoom_by_wheel(self, zoom: float, anchor: QPointF) -> None:
        # An empty pane has no picture to zoom into: the wheel leaves it as it is.
        if self.has_image():
            super()._zoom_by_wheel(zoom, anchor)

    def _on_scrolled(self, _value: int) -> None:
        if not self._resizing:
            self.view_moved.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        # QGraphicsView scrolls by moving the viewport's pixels and repainting only the
        # strip that came into view. What is pinned to the viewport (the labels, the notice,
        # the knob in the middle of the visible divider) moved with those pixels: repaint
        # it where the scroll carried it and where it belongs.
        pinned = QRegion()
        for rect in self._pinned_rects():
            pinned += rect
            pinned += rect.translated(dx, dy)
        if not pinned.isEmpty():
            self.viewport().update(pinned)

    def _pinned_rects(self) -> list[QRect]:
        """Where the viewport shows what does not scroll with the picture."""
        rects = [self._pill_rect(text, align) for text, align in self._pills()]
        if self._wiping:
            column = self.divider_column()
            rects.append(strip(column, column, self.viewport().height()))
        # A pixel of slack for the antialiased rim of the pills.
        return [rect.adjusted(-1, -1, 1, 1) for rect in rects]

    # --- pointer -------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        button = event.button()
        left = button == Qt.MouseButton.LeftButton
        if left and self._wiping and not self._space_held:
            self._dragging_divider = True
            self._drag_divider(event.position())
        elif button == Qt.MouseButton.MiddleButton or left:
            self._panning_from = event.position()
        self._refresh_cursor()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging_divider:
            self._drag_divider(event.position())
        elif self._panning_from is not None:
            delta = event.position() - self._panning_from
            self._panning_from = event.position()
            self.pan_by(delta.x(), delta.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging_divider:
            self._drag_divider(event.position())
        held = event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.MiddleButton)
        if held == Qt.MouseButton.NoButton:
            self._dragging_divider = False
            self._panning_from = None
        self._refresh_cursor()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.mousePressEvent(event)

    def _drag_divider(self, position: QPointF) -> None:
        x = min(float(self._size.width()), max(0.0, self.to_image(position).x()))
        self.divider_dragged.emit(x)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if self._wiping and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            # Nudge the divider by a screen pixel (ten with Shift), to line it up exactly.
            step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            column = self.divider_column() + (step if key == Qt.Key.Key_Right else -step)
            self._drag_divider(QPointF(column, 0))
            event.accept()
            return
        super().keyPressEvent(event)  # Space, held to pan

    def _refresh_cursor(self) -> None:
        if self._panning_from is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._wiping and not self._space_held:
            shape = Qt.CursorShape.SplitHCursor
        else:
            shape = Qt.CursorShape.OpenHandCursor
        self.viewport().setCursor(shape)

    # --- showing -------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        # A resize is not the user moving the view: the widget re-locks the panes after it.
        self._resizing = True
        try:
            super().resizeEvent(event)  # refits, in fit mode
        finally:
            self._resizing = False
        self.resized.emit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        exposed = self.mapFromScene(rect).boundingRect()
        if self._wiping:
            edge = self.divider_column()
            if exposed.left() - HANDLE_REACH <= edge <= exposed.right() + HANDLE_REACH:
                frame = self.mapFromScene(QRectF(0, 0, self._size.width(), self._size.height()))
                image = frame.boundingRect()
                top = max(0, image.top())
                bottom = min(self.viewport().height(), image.bottom() + 1)
                paint_handle(painter, edge, top, bottom)
        for text, align in self._pills():
            self._paint_pill(painter, exposed, text, align)
        painter.restore()

    def _pills(self) -> list[tuple[str, Qt.AlignmentFlag | None]]:
        """The captions drawn over the picture, and where: top left, top right, centred."""
        left, right = self._labels
        pills: list[tuple[str, Qt.AlignmentFlag | None]] = []
        if left:
            pills.append((left, Qt.AlignmentFlag.AlignLeft))
        if right and self._wiping:
            pills.append((right, Qt.AlignmentFlag.AlignRight))
        if self._notice or not self.has_image():
            pills.append((self._notice or self._placeholder, None))
        return pills

    def _pill_rect(self, text: str, align: Qt.AlignmentFlag | None) -> QRect:
        metrics = self.fontMetrics()
        width = min(metrics.horizontalAdvance(text) + 20, self.viewport().width() // 2 - 16)
        height = metrics.height() + 10
        if align == Qt.AlignmentFlag.AlignLeft:
            return QRect(_LABEL_MARGIN, _LABEL_MARGIN, width, height)
        if align == Qt.AlignmentFlag.AlignRight:
            x = self.viewport().width() - _LABEL_MARGIN - width
            return QRect(x, _LABEL_MARGIN, width, height)
        width = min(metrics.horizontalAdvance(text) + 28, self.viewport().width() - 16)
        return QRect((self.viewport().width() - width) // 2,
                     (self.viewport().height() - height) // 2, width, height)  # fmt: skip

    def _paint_pill(
        self, painter: QPainter, exposed: QRect, text: str, align: Qt.AlignmentFlag | None
    ) -> None:
        box = self._pill_rect(text, align)
        if not box.intersects(exposed):
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = QPainterPath()
        path.addRoundedRect(QRectF(box), box.height() / 2, box.height() / 2)
        painter.fillPath(path, QColor(20, 20, 22, 200))
        painter.setPen(QColor(240, 240, 245))
        painter.setFont(self.font())
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, box.width() - 16)
        painter.drawText(QRectF(box), Qt.AlignmentFlag.AlignCenter, shown)
