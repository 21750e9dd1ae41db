"""The mask canvas: the photo with the mask over it, painted with the mouse or a tablet.

A ZoomView (app.ui.zoom_view, the zoom and scroll it shares with the compare panes): it maps
events to image coordinates, repaints only the regions items mark dirty, and holds the tool
overlays (brush cursor, shape outlines) as items over the picture. Scene units are image
pixels. Its pointer events are handled in pointer_events, drag and drop in drop, and what it
paints over the picture (drop hint, heads-up text) in hints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QHideEvent,
    QImage,
    QKeyEvent,
    QPainter,
    QShowEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsScene, QMessageBox, QWidget

from app.core.mask import MaskSource
from app.models.brush_settings import BrushSettings
from app.models.document import EditDocument
from app.ui.canvas.actions import CanvasActions
from app.ui.canvas.brush_tool import BrushTool, EraserTool
from app.ui.canvas.cursor import BrushCursorItem
from app.ui.canvas.drop import DropMixin
from app.ui.canvas.hints import hud_rect, paint_drop_hint, paint_hud, paint_picture_shadow
from app.ui.canvas.layers import MaskItem, PhotoItem
from app.ui.canvas.pointer_events import PointerEventsMixin
from app.ui.canvas.preview import ShapePreviewItem
from app.ui.canvas.region_frame import RegionFrameItem, RegionTool
from app.ui.canvas.shape_tools import EllipseTool, LassoTool, PolygonTool, RectangleTool
from app.ui.canvas.tools import PanTool, Tool, ToolKind
from app.ui.zoom_view import ZoomView

_HUD_MS = 1100
_ANTS_MS = 140

DEFAULT_OVERLAY_COLOR = QColor(40, 110, 255)
DEFAULT_OVERLAY_OPACITY = 0.55


def ask_to_discard(parent: QWidget, text: str) -> bool:
    """The default confirmation before a painted mask is thrown away."""
    answer = QMessageBox.question(
        parent,
        "Replace the image?",
        text,
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard


def ask_to_scale_mask(parent: QWidget, message: str) -> bool:
    """Asked when a mask file has another size than the picture: scale it to fit?"""
    answer = QMessageBox.question(
        parent,
        "Mask of another size",
        f"{message}\n\nScale the mask to the picture?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


class MaskCanvas(PointerEventsMixin, DropMixin, ZoomView):
    """The canvas on which the edit mask is painted over the picture being retouched.

    It shows an EditDocument (the picture and the MaskDocument painted into, ``document``)
    and paints with BrushSettings (both are created when omitted). ``confirm_discard(text)
    -> bool`` is asked before a painted mask is dropped for another image; tests pass a
    stub instead of the modal default.
    ``canvas_actions`` (see app.ui.canvas.actions) holds its shortcuts, for menus."""

    tool_changed = Signal(str)
    """The current tool, a ToolKind value."""
    overlay_changed = Signal()
    region_dragged = Signal(object)  # (x, y, w, h): the Region tool moved or resized the frame
    image_opened = Signal(str)
    """A picture is shown (its file's path, or a name); see EditDocument.opened."""
    image_open_failed = Signal(str)
    mask_loaded = Signal(str)
    mask_load_failed = Signal(str, bool)
    """Why a mask file was refused, and whether only its size is wrong (so that offering
    to scale it makes sense). The current mask is kept."""
    pointer_moved = Signal(QPointF)
    """The pointer's position in image coordinates."""

    def __init__(
        self,
        edit: EditDocument | None = None,
        brush: BrushSettings | None = None,
        parent: QWidget | None = None,
        *,
        confirm_discard: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.edit = edit or EditDocument(parent=self)
        self.document = self.edit.mask
        self.brush = brush or BrushSettings(self)
        # None asks with a dialog (no lambda over self: a reference cycle through the canvas).
        self.confirm_discard: Callable[[str], bool] | None = confirm_discard

        self._overlay_color = QColor(DEFAULT_OVERLAY_COLOR)
        self._overlay_opacity = DEFAULT_OVERLAY_OPACITY
        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.photo = PhotoItem()
        self.mask_item = MaskItem(self.document, self._overlay_color, self._overlay_opacity)
        self.preview = ShapePreviewItem()
        self.brush_cursor = BrushCursorItem()
        self.brush_cursor.setVisible(False)
        self.region_frame = RegionFrameItem()
        for item in (self.photo, self.mask_item, self.region_frame, self.preview,
                     self.brush_cursor):  # fmt: skip
            self._scene.addItem(item)
        self.setScene(self._scene)

        self._tools: dict[ToolKind, Tool] = {
            tool.kind: tool
            for tool in (
                BrushTool(self),
                EraserTool(self),
                RectangleTool(self),
                EllipseTool(self),
                LassoTool(self),
                PolygonTool(self),
                PanTool(self),
                RegionTool(self, self.region_frame),
            )
        }
        self._tool = self._tools[ToolKind.BRUSH]
        self._init_pointer_events()
        self._drop_hover = False
        self._hud_text = ""
        self._hud_timer = QTimer(self, singleShot=True, interval=_HUD_MS)
        self._hud_timer.timeout.connect(self._on_hud_expired)
        self._ants_timer = QTimer(self, interval=_ANTS_MS)
        self._ants_timer.timeout.connect(self._on_ants_tick)

        self._drop_text_visible = True
        self.edit.about_to_change.connect(self.cancel_current)
        self.edit.picture_changed.connect(self._on_picture_changed)
        self.edit.notice.connect(self.show_hud)
        for source, relay in (
            (self.edit.opened, self.image_opened),
            (self.edit.open_failed, self.image_open_failed),
            (self.edit.mask_loaded, self.mask_loaded),
            (self.edit.mask_load_failed, self.mask_load_failed),
        ):
            source.connect(relay)

        self.document.mask_changed.connect(self._on_mask_changed)
        self.document.mask_reset.connect(self._on_mask_reset)
        self.brush.changed.connect(self._on_brush_changed)

        self._configure_view()
        self.canvas_actions = CanvasActions(self)
        self._tool.activate()
        self._refresh_cursor()

    def _configure_view(self) -> None:
        self._configure_zoom_view()
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setTabletTracking(True)
        self.viewport().setTabletTracking(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setMinimumSize(QSize(160, 120))
        self._update_scene_rect()

    # --- image ----------------------------------------------------------------------------

    def image(self) -> QImage:
        return self.photo.image

    def set_image(self, image: QImage, name: str = "image") -> None:
        """Show a picture and reset the mask to its size at once (no confirmation: the
        caller decided). Its zoom levels are built here; ``open_file`` builds them in the
        background."""
        self.edit.set_image(image, name)

    def open_file(self, path: Path | str) -> bool:
        """Open a picture, after confirming that a painted mask may be dropped; decoded in
        the background, reported by image_opened / image_open_failed."""
        path = Path(path)
        if not self._may_discard(f"Open {path.name}? The painted mask will be lost."):
            return False
        self.edit.open(path)
        return True

    def paste(self) -> bool:
        """Open the clipboard's image (or image file)."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasImage():
            return self._open_image(
                QImage(mime.imageData()),
                "pasted image",
                "Paste the clipboard's image? The painted mask will be lost.",
            )
        if mime is not None and mime.hasUrls():
            local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
            if local:
                return self.open_file(local[0])
        self.show_hud("The clipboard holds no image")
        return False

    def _open_image(self, image: QImage, name: str, question: str) -> bool:
        if image.isNull() or not self._may_discard(question):
            return False
        self.edit.open_image(image, name)
        return True

    def load_mask_file(
        self, path: Path | str, *, mode: MaskSource = "auto", scale: bool = False
    ) -> None:
        """Make a mask file the mask (one undo step; see EditDocument.load_mask)."""
        self.edit.load_mask(path, mode=mode, scale=scale)

    def wait_for_loads(self, msecs: int = -1) -> bool:
        """Block until decoding in flight ends, then deliver its answer (tests)."""
        done = self.edit.wait(None if msecs < 0 else msecs / 1000)
        QApplication.processEvents()
        return done

    def set_drop_text_visible(self, visible: bool) -> None:
        """Whether an empty canvas invites a drop (off while a welcome card covers it)."""
        self._drop_text_visible = visible
        self.viewport().update()

    def _may_discard(self, text: str) -> bool:
        if not self.document.has_painting():
            return True
        return self.confirm_discard(text) if self.confirm_discard else ask_to_discard(self, text)

    def _on_picture_changed(self, refit: bool) -> None:
        picture = self.edit.picture
        if picture is None:
            self.photo.set_levels([])
        else:
            self.photo.set_levels(picture.levels)
        self._update_scene_rect()
        if refit:
            self.fit()

    # --- tools ----------------------------------------------------------------------------

    @property
    def tool(self) -> ToolKind:
        return self._tool.kind

    def show_region(self, region: tuple[int, int, int, int] | None) -> None:
        """Draw the region crop to mask sends (None: no frame)."""
        size = self._scene_size()
        bounds = QRectF(0, 0, size.width(), size.height())
        self.region_frame.set_rect(QRectF(*region) if region else None, bounds)

    def set_tool(self, kind: ToolKind | str) -> None:
        kind = ToolKind(kind)
        if kind == self._tool.kind:
            return
        self._tool.deactivate()
        self._tool = self._tools[kind]
        self._tool.activate()
        self._refresh_cursor()
        self.tool_changed.emit(kind.value)

    def swap_brush_and_eraser(self) -> None:
        self.set_tool(ToolKind.ERASER if self.tool == ToolKind.BRUSH else ToolKind.BRUSH)

    def cancel_current(self) -> bool:
        """Esc: abort the stroke or shape in progress."""
        return self._tool.cancel()

    # --- overlay --------------------------------------------------------------------------

    @property
    def overlay_color(self) -> QColor:
        return QColor(self._overlay_color)

    @property
    def overlay_opacity(self) -> float:
        return self._overlay_opacity

    @property
    def outline_mode(self) -> bool:
        return self.mask_item.outline_mode

    def set_overlay_color(self, color: QColor) -> None:
        self._overlay_color = QColor(color)
        self.mask_item.set_style(self._overlay_color, self._overlay_opacity)
        self.overlay_changed.emit()

    def set_overlay_opacity(self, opacity: float) -> None:
        self._overlay_opacity = min(1.0, max(0.0, float(opacity)))
        self.mask_item.set_style(self._overlay_color, self._overlay_opacity)
        self.overlay_changed.emit()

    def set_outline_mode(self, enabled: bool) -> None:
        if enabled == self.outline_mode:
            return
        self.mask_item.set_outline_mode(enabled)
        self._update_ants_timer()
        self.overlay_changed.emit()

    # --- zoom and scroll (ZoomView's hooks) ------------------------------------------------

    def _image_size(self) -> QSize:
        return self.photo.image.size()

    def _scene_size(self) -> QSize:
        # The mask, not the photo: a document reset on its own still gets its scroll room.
        return QSize(self.document.width, self.document.height)

    def _on_view_scaled(self) -> None:
        scale = self.view_scale()
        self.brush_cursor.set_view_scale(scale)
        self.preview.set_view_scale(scale)
        self.region_frame.set_view_scale(scale)
        super()._on_view_scaled()

    def _zoom_by_wheel(self, zoom: float, anchor: QPointF) -> None:
        super()._zoom_by_wheel(zoom, anchor)
        self.show_hud(f"{self.zoom:.0%}")

    # --- heads-up text ---------------------------------------------------------------------

    def show_hud(self, text: str) -> None:
        """A short message over the canvas (brush size while resizing, zoom, ...)."""
        self._update_hud_area()
        self._hud_text = text
        self._update_hud_area()
        self._hud_timer.start()

    @property
    def hud_text(self) -> str:
        return self._hud_text

    def _on_hud_expired(self) -> None:
        self._update_hud_area()
        self._hud_text = ""

    def _hud_rect(self) -> QRect:
        return hud_rect(self.fontMetrics(), self._hud_text, self.viewport().width())

    def _update_hud_area(self) -> None:
        if self._hud_text:
            self.viewport().update(self._hud_rect().adjusted(-2, -2, 2, 2))

    # --- model signals ---------------------------------------------------------------------

    def _on_mask_changed(self, rect: QRect) -> None:
        self.mask_item.refresh(rect)

    def _on_mask_reset(self, size: QSize) -> None:
        self.mask_item.attach()
        self._update_scene_rect()

    def _on_brush_changed(self) -> None:
        erase = self._tool.kind == ToolKind.ERASER
        self.brush_cursor.set_brush(self.brush.radius, self.brush.hardness, erase=erase)

    def _on_ants_tick(self) -> None:
        self.mask_item.dash_offset = (self.mask_item.dash_offset + 1.0) % 8.0
        self.mask_item.update()

    def _update_ants_timer(self) -> None:
        if self.outline_mode and self.isVisible():
            self._ants_timer.start()
        else:
            self._ants_timer.stop()

    # --- keys ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # ZoomView's, last, takes Space (held to pan): no tool wants that key.
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.cancel_current()
            self._refresh_cursor()
            event.accept()
            return
        if self._tool.key_press(key):
            event.accept()
            return
        super().keyPressEvent(event)

    # --- showing and painting ------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # refits first, in fit mode
        self._update_ants_timer()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._ants_timer.stop()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if self.has_image():
            frame = self.mapFromScene(self.photo.boundingRect()).boundingRect()
            paint_picture_shadow(painter, frame)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.has_image() and not self._hud_text and not self._drop_hover:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        area = QRectF(self.viewport().rect())
        if (not self.has_image() and self._drop_text_visible) or self._drop_hover:
            hover, has_image = self._drop_hover, self.has_image()
            paint_drop_hint(painter, area, self.font(), hover=hover, has_image=has_image)
        if self._hud_text:
            paint_hud(painter, self._hud_rect(), self.font(), self._hud_text)
        painter.restore()

    # --- actions -------------------------------------------------------------------------

    def action(self, name: str) -> QAction:
        return self.canvas_actions[name]
