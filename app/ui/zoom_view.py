"""The zoom and scroll shared by the mask canvas and the compare panes.

A QGraphicsView whose scene units are image pixels and whose zoom counts device pixels per
image pixel, so that 100 % puts one image pixel on one screen pixel on a high-DPI screen
too. It zooms in steps or to the cursor (the wheel), fits the picture without enlarging it
past 100 %, scrolls (touchpad, ``pan_by``), refits on a resize until the user zooms or
scrolls, and tracks Space held down (Space with the left button pans in both views).

A subclass says how large its picture is (``_image_size``), calls ``_configure_zoom_view``
once its scene is set, and may react to a new scale (``_on_view_scaled``), to a wheel zoom
(``_zoom_by_wheel``) and to Space (``_refresh_cursor``).
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

ZOOM_STEPS = (
    1 / 32, 1 / 24, 1 / 16, 1 / 12, 1 / 8, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3,
    1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0,
)  # fmt: skip
MIN_ZOOM, MAX_ZOOM = 1 / 64, 64.0
WHEEL_STEP = 1.2  # zoom factor per wheel notch
SCENE_MARGIN = 100_000.0  # room to scroll the picture anywhere, even far zoomed out
BACKGROUND = QColor(40, 40, 43)


class ZoomView(QGraphicsView):
    """A zoomable, scrollable view of one picture at scene (0, 0), one scene unit per image
    pixel. Subclasses implement ``_image_size``."""

    zoom_changed = Signal(float)
    """Device pixels per image pixel (1.0 = 100 %)."""

    _fit_margin: ClassVar[int] = 24
    """Logical pixels around a fitted picture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fit_mode = True
        self._space_held = False

    def _configure_zoom_view(self) -> None:
        """The view settings the zoom relies on. Call it once the scene is set: applied
        before, the frame's removal moves the first centring of an empty view by a pixel."""
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # set_zoom and fit place the picture themselves (``_put``, ``centerOn``).
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setBackgroundBrush(BACKGROUND)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # --- hooks ---------------------------------------------------------------------------

    def _image_size(self) -> QSize:
        """The picture's size in image pixels; empty when there is none."""
        raise NotImplementedError

    def _scene_size(self) -> QSize:
        """What the scroll room is laid around (``_update_scene_rect``)."""
        return self._image_size()

    def _on_view_scaled(self) -> None:
        """After every change of scale (set_zoom, fit)."""
        self.zoom_changed.emit(self.zoom)

    def _zoom_by_wheel(self, zoom: float, anchor: QPointF) -> None:
        """A wheel notch (or Ctrl+scroll) asks for ``zoom`` around the cursor."""
        self.set_zoom(zoom, anchor)

    def _refresh_cursor(self) -> None:
        """Show the pointer shape for the current state (Space held or not, ...)."""

    # --- zoom and scroll -----------------------------------------------------------------

    def has_image(self) -> bool:
        return not self._image_size().isEmpty()

    @property
    def zoom(self) -> float:
        return self.transform().m11() * self._dpr()

    def view_scale(self) -> float:
        """Logical (screen) pixels per image pixel, as mouse positions count them."""
        return self.transform().m11()

    @property
    def fit_mode(self) -> bool:
        """Whether the picture is fitted, and refitted when the view is resized."""
        return self._fit_mode

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` device pixels per image pixel, keeping the image point under
        ``anchor`` (viewport coordinates; default the centre) where it is."""
        zoom = min(MAX_ZOOM, max(self._min_zoom(), zoom))
        if anchor is None:
            anchor = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        fixed = self.to_image(anchor)
        scale = zoom / self._dpr()
        self.setTransform(QTransform.fromScale(scale, scale))
        self._put(fixed, anchor)
        self._fit_mode = False
        self._on_view_scaled()

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_STEPS if z > self.zoom * 1.001), MAX_ZOOM))

    def zoom_out(self) -> None:
        lower = [z for z in ZOOM_STEPS if z < self.zoom / 1.001]
        self.set_zoom(lower[-1] if lower else self._min_zoom())

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def fit(self) -> None:
        """Show the whole picture, never enlarged past 100 %."""
        if not self.has_image():
            self._fit_mode = True
            return
        size = self._image_size()
        width, height = size.width(), size.height()
        room_w = max(1, self.viewport().width() - 2 * self._fit_margin)
        room_h = max(1, self.viewport().height() - 2 * self._fit_margin)
        scale = min(room_w / width, room_h / height, 1.0 / self._dpr())
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(QPointF(width / 2, height / 2))
        self._fit_mode = True
        self._on_view_scaled()

    def zoom_to_rect(self, rect: QRectF) -> None:
        """Show ``rect`` (image coordinates) as large as the view allows, centred."""
        if not self.has_image() or rect.isEmpty():
            return
        room_w = max(1, self.viewport().width() - 2 * self._fit_margin)
        room_h = max(1, self.viewport().height() - 2 * self._fit_margin)
        zoom = min(room_w / rect.width(), room_h / rect.height()) * self._dpr()
        scale = min(MAX_ZOOM, max(self._min_zoom(), zoom)) / self._dpr()
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(rect.center())
        self._fit_mode = False
        self._on_view_scaled()

    def pan_by(self, dx: float, dy: float) -> None:
        # Out of fit mode before the scroll bars move: their listeners (the compare widget
        # locking its panes) read fit_mode.
        self._fit_mode = False
        horizontal, vertical = self.horizontalScrollBar(), self.verticalScrollBar()
        horizontal.setValue(horizontal.value() - round(dx))
        vertical.setValue(vertical.value() - round(dy))

    def to_image(self, viewport_pos: QPointF) -> QPointF:
        """Viewport (logical pixels, as mouse events) to image coordinates, unrounded."""
        inverse, _ = self.viewportTransform().inverted()
        return inverse.map(QPointF(viewport_pos))

    def to_viewport(self, image_pos: QPointF) -> QPointF:
        return self.viewportTransform().map(QPointF(image_pos))

    def _put(self, image_pos: QPointF, viewport_pos: QPointF) -> None:
        landed = self.to_viewport(image_pos)
        horizontal, vertical = self.horizontalScrollBar(), self.verticalScrollBar()
        horizontal.setValue(horizontal.value() + round(landed.x() - viewport_pos.x()))
        vertical.setValue(vertical.value() + round(landed.y() - viewport_pos.y()))

    def _dpr(self) -> float:
        return self.viewport().devicePixelRatioF()

    def _min_zoom(self) -> float:
        if not self.has_image():
            return MIN_ZOOM
        size = self._image_size()
        fit = min(self.viewport().width() / size.width(), self.viewport().height() / size.height())
        return max(MIN_ZOOM, min(fit * self._dpr() / 2, 1 / 32))

    def _update_scene_rect(self) -> None:
        size = self._scene_size()
        m = SCENE_MARGIN
        self.setSceneRect(QRectF(0, 0, size.width(), size.height()).adjusted(-m, -m, m, m))

    # --- events --------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        scrolling = event.phase() != Qt.ScrollPhase.NoScrollPhase
        if scrolling and not event.pixelDelta().isNull() and not control:
            # Two fingers on a touchpad scroll the view; the mouse wheel (which has no
            # scroll phase) and Ctrl+scroll zoom.
            delta = event.pixelDelta()
            self.pan_by(delta.x(), delta.y())
        else:
            notches = event.angleDelta().y() / 120.0
            if notches:
                self._zoom_by_wheel(self.zoom * WHEEL_STEP**notches, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                self._refresh_cursor()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._refresh_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # A Space released in another window never reaches us.
        self._space_held = False
        self._refresh_cursor()
        super().focusOutEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_mode:
            self.fit()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, BACKGROUND)
