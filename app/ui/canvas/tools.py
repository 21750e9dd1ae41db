"""What every canvas tool shares: the pointer input it receives, the canvas services it
uses, and the base class. The tools themselves live in brush_tool and shape_tools."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QCursor

from app.models.brush_settings import BrushSettings
from app.models.mask_document import MaskDocument
from app.ui.canvas.cursor import BrushCursorItem
from app.ui.canvas.preview import ShapePreviewItem


class ToolKind(StrEnum):
    BRUSH = "brush"
    ERASER = "eraser"
    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    LASSO = "lasso"
    POLYGON = "polygon"
    PAN = "pan"
    REGION = "region"  # crop to mask: move or resize the region sent


@dataclass(frozen=True)
class PointerInput:
    """A mouse or tablet event, already mapped to image coordinates (``scene``).
    ``button`` is the button that was pressed or released (NoButton for a move);
    ``pressure`` is the pen's (1.0 for a mouse)."""

    pos: QPointF
    scene: QPointF
    button: Qt.MouseButton
    buttons: Qt.MouseButton
    modifiers: Qt.KeyboardModifier
    pressure: float = 1.0
    tablet: bool = False
    eraser_tip: bool = False
    """A stylus turned over: its eraser end erases with any tool of the brush family."""

    def has(self, modifier: Qt.KeyboardModifier) -> bool:
        return bool(self.modifiers & modifier)

    def xy(self) -> tuple[float, float]:
        return self.scene.x(), self.scene.y()


class ToolHost(Protocol):
    """The canvas as the tools see it."""

    document: MaskDocument
    brush: BrushSettings
    brush_cursor: BrushCursorItem
    preview: ShapePreviewItem

    def view_scale(self) -> float:
        """Screen pixels per image pixel (logical, as mouse positions are)."""
        ...

    def pan_by(self, dx: float, dy: float) -> None: ...

    def show_hud(self, text: str) -> None: ...


class Tool:
    kind: ClassVar[ToolKind]

    def __init__(self, host: ToolHost) -> None:
        self.host = host

    @property
    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.CrossCursor)

    @property
    def shows_brush(self) -> bool:
        return False

    @property
    def busy(self) -> bool:
        """A stroke or shape is in progress."""
        return False

    def activate(self) -> None:
        """Called when the tool becomes current."""

    def deactivate(self) -> None:
        self.cancel()

    def press(self, event: PointerInput) -> None: ...

    def move(self, event: PointerInput) -> None: ...

    def release(self, event: PointerInput) -> None: ...

    def hover(self, event: PointerInput) -> None: ...

    def double_click(self, event: PointerInput) -> None:
        self.press(event)

    def key_press(self, key: int) -> bool:
        """Handle Enter, Backspace and friends; True when used."""
        return False

    def cancel(self) -> bool:
        """Drop what is in progress (Esc); True when there was something to drop."""
        return False


class PanTool(Tool):
    """Drag to move the view (the hand)."""

    kind = ToolKind.PAN

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._last: QPointF | None = None

    @property
    def cursor(self) -> QCursor:
        shape = Qt.CursorShape.ClosedHandCursor if self._last else Qt.CursorShape.OpenHandCursor
        return QCursor(shape)

    @property
    def busy(self) -> bool:
        return self._last is not None

    def press(self, event: PointerInput) -> None:
        self._last = event.pos

    def move(self, event: PointerInput) -> None:
        if self._last is not None:
            delta = event.pos - self._last
            self._last = event.pos
            self.host.pan_by(delta.x(), delta.y())

    def release(self, event: PointerInput) -> None:
        self._last = None

    def double_click(self, event: PointerInput) -> None:
        self.press(event)

    def cancel(self) -> bool:
        dragging, self._last = self._last is not None, None
        return dragging
