"""The mask canvas: the photo with the mask over it, painted with the mouse or a tablet.

A ZoomView (app.ui.zoom_view, the zoom and scroll it shares with the compare panes): it maps
events to image coordinates, repaints only the regions items mark dirty, and holds the tool
overlays (brush cursor, shape outlines) as items over the picture. Scene units are image
pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QGuiApplication,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPointingDevice,
    QShowEvent,
    QTabletEvent,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QGraphicsScene,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.core.mask import MaskSource
from app.models.brush_settings import BrushSettings
from app.models.document import EditDocument
from app.ui.canvas.actions import CanvasActions
from app.ui.canvas.brush_tool import BrushTool, EraserTool
from app.ui.canvas.cursor import BrushCursorItem
from app.ui.canvas.layers import MaskItem, PhotoItem
from app.ui.canvas.preview import ShapePreviewItem
from app.ui.canvas.shape_tools import EllipseTool, LassoTool, PolygonTool, RectangleTool
from app.ui.canvas.tools import PanTool, PointerInput, Tool, ToolKind
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


class MaskCanvas(ZoomView):
    """The canvas on which the edit mask is painted over the picture being retouched.

    It shows an EditDocument (the picture and the MaskDocument painted into, ``document``)
    and paints with BrushSettings (both are created when omitted). ``confirm_discard(text)
    -> bool`` is asked before a painted mask is dropped for another image; tests pass a
    stub instead of the modal default.
    ``canvas_actions`` (see app.ui.canvas.actions) holds its shortcuts, for menus."""

    tool_changed = Signal(str)
    """The current tool, a ToolKind value."""
    overlay_changed = Signal()
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
        for item in (self.photo, self.mask_item, self.preview, self.brush_cursor):
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
            )
        }
        self._tool = self._tools[ToolKind.BRUSH]
        self._panner = PanTool(self)
        self._panning = False
        self._pointer_inside = False
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

    def _take_focus_unless_typing(self) -> None:
        """The pointer over the picture brings the keyboard with it (Space to pan, tool
        keys), unless the designer is typing in a text field of this window."""
        focused = QApplication.focusWidget()
        typing = isinstance(focused, QLineEdit | QAbstractSpinBox | QPlainTextEdit | QTextEdit)
        if focused is not None and focused.window() is not self.window():
            return  # a dialog or another window has the keyboard
        if not typing and not self.hasFocus():
            self.setFocus(Qt.FocusReason.MouseFocusReason)

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
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance(self._hud_text) + 28
        height = metrics.height() + 14
        return QRect((self.viewport().width() - width) // 2, 16, width, height)

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

    # --- pointer -------------------------------------------------------------------------

    def _pointer(
        self,
        pos: QPointF,
        button: Qt.MouseButton,
        buttons: Qt.MouseButton,
        modifiers: Qt.KeyboardModifier,
        pressure: float = 1.0,
        tablet: bool = False,
        eraser_tip: bool = False,
    ) -> PointerInput:
        scene = self.to_image(pos)
        return PointerInput(pos, scene, button, buttons, modifiers, pressure, tablet, eraser_tip)

    def _mouse(self, event: QMouseEvent) -> PointerInput:
        return self._pointer(event.position(), event.button(), event.buttons(), event.modifiers())

    def _pointer_press(self, pointer: PointerInput, double: bool = False) -> None:
        if self._panning:
            return
        pans = pointer.button == Qt.MouseButton.MiddleButton or (
            self._space_held and pointer.button == Qt.MouseButton.LeftButton
        )
        if pans and not self._tool.busy:
            self._panning = True
            self._panner.press(pointer)
        elif double:
            self._tool.double_click(pointer)
        else:
            self._tool.press(pointer)
        self._refresh_cursor()

    def _pointer_move(self, pointer: PointerInput) -> None:
        self.pointer_moved.emit(pointer.scene)
        if self._panning:
            self._panner.move(pointer)
        elif pointer.buttons != Qt.MouseButton.NoButton:
            self._tool.move(pointer)
        else:
            self._tool.hover(pointer)

    def _pointer_release(self, pointer: PointerInput) -> None:
        if self._panning:
            if pointer.buttons & (Qt.MouseButton.MiddleButton | Qt.MouseButton.LeftButton):
                return
            self._panner.release(pointer)
            self._panning = False
        else:
            self._tool.release(pointer)
        self._refresh_cursor()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._pointer_press(self._mouse(event))
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._pointer_press(self._mouse(event), double=True)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._pointer_move(self._mouse(event))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._pointer_release(self._mouse(event))
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TabletPress, QEvent.Type.TabletMove, QEvent.Type.TabletRelease):
            assert isinstance(event, QTabletEvent)
            # Accepted tablet events are not turned into mouse events, so pressure reaches
            # the brush and nothing is painted twice.
            pointer = self._pointer(
                event.position(),
                event.button(),
                event.buttons(),
                event.modifiers(),
                event.pressure(),
                tablet=True,
                eraser_tip=event.pointerType() == QPointingDevice.PointerType.Eraser,
            )
            if kind == QEvent.Type.TabletPress:
                self._pointer_press(pointer)
            elif kind == QEvent.Type.TabletMove:
                self._pointer_move(pointer)
            else:
                self._pointer_release(pointer)
            event.accept()
            return True
        if kind == QEvent.Type.NativeGesture:
            assert isinstance(event, QNativeGestureEvent)
            if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.set_zoom(self.zoom * (1.0 + event.value()), event.position())
                event.accept()
                return True
        if kind == QEvent.Type.Enter:
            self._pointer_inside = True
            self._refresh_cursor()
            self._take_focus_unless_typing()
        elif kind == QEvent.Type.Leave:
            self._pointer_inside = False
            self._refresh_cursor()
        return super().viewportEvent(event)

    def _refresh_cursor(self) -> None:
        if self._panning:
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._space_held:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.viewport().setCursor(self._tool.cursor)
        shows = (
            self._tool.shows_brush
            and (self._pointer_inside or self._tool.busy)
            and not (self._panning or self._space_held)
            and self.has_image()
        )
        self.brush_cursor.setVisible(shows)

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

    # --- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasImage() or any(url.isLocalFile() for url in mime.urls()):
            self._drop_hover = True
            self.viewport().update()
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._drop_hover = False
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_hover = False
        self.viewport().update()
        mime = event.mimeData()
        local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if local:
            event.acceptProposedAction()
            self.open_file(local[0])
        elif mime.hasImage():
            event.acceptProposedAction()
            self._open_image(
                QImage(mime.imageData()),
                "dropped image",
                "Open the dropped image? The painted mask will be lost.",
            )
        else:
            event.ignore()

    # --- showing -------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # refits first, in fit mode
        self._update_ants_timer()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._ants_timer.stop()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if not self.has_image():
            return
        # A soft shadow lifts the picture off the background.
        frame = self.mapFromScene(self.photo.boundingRect()).boundingRect()
        painter.save()
        painter.resetTransform()
        painter.setPen(Qt.PenStyle.NoPen)
        for spread, alpha in ((7, 10), (5, 18), (3, 30), (1, 60)):
            painter.fillRect(frame.adjusted(-spread, -spread + 2, spread, spread + 2),
                             QColor(0, 0, 0, alpha))  # fmt: skip
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.has_image() and not self._hud_text and not self._drop_hover:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        area = QRectF(self.viewport().rect())
        if (not self.has_image() and self._drop_text_visible) or self._drop_hover:
            self._paint_drop_hint(painter, area)
        if self._hud_text:
            self._paint_hud(painter)
        painter.restore()

    def _paint_drop_hint(self, painter: QPainter, area: QRectF) -> None:
        frame = area.adjusted(18, 18, -18, -18)
        accent = QColor(120, 160, 255) if self._drop_hover else QColor(90, 90, 96)
        pen = QPen(accent, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QColor(255, 255, 255, 10 if self._drop_hover else 0))
        painter.drawRoundedRect(frame, 14, 14)
        if self.has_image() and not self._drop_hover:
            return
        title = QFont(self.font())
        title.setPointSizeF(title.pointSizeF() * 1.5)
        painter.setFont(title)
        painter.setPen(QColor(210, 210, 215))
        middle = frame.center()
        painter.drawText(
            QRectF(frame.left(), middle.y() - 40, frame.width(), 36),
            Qt.AlignmentFlag.AlignCenter,
            "Drop to open" if self._drop_hover else "Drop a photo here",
        )
        painter.setFont(self.font())
        painter.setPen(QColor(150, 150, 158))
        painter.drawText(
            QRectF(frame.left(), middle.y(), frame.width(), 28),
            Qt.AlignmentFlag.AlignCenter,
            "or paste one with Ctrl+V",
        )

    def _paint_hud(self, painter: QPainter) -> None:
        box = QRectF(self._hud_rect())
        path = QPainterPath()
        path.addRoundedRect(box, box.height() / 2, box.height() / 2)
        painter.fillPath(path, QColor(20, 20, 22, 210))
        painter.setPen(QColor(240, 240, 245))
        painter.setFont(self.font())
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self._hud_text)

    # --- actions -------------------------------------------------------------------------

    def action(self, name: str) -> QAction:
        return self.canvas_actions[name]
