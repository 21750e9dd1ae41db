"""The canvas's toolbars: a palette of tools and a bar of options (brush, overlay, mask
operations). Both are QToolBars, so the editor window can dock them; they only talk to the
canvas, its BrushSettings and its MaskDocument."""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolBar,
    QToolButton,
    QWidget,
)

from app.models.brush_settings import MAX_SIZE, MIN_SIZE
from app.ui.canvas.actions import TOOLS
from app.ui.canvas.view import MaskCanvas

OVERLAY_PRESETS = (
    ("Blue", QColor(40, 110, 255)),
    ("Red", QColor(255, 48, 64)),
    ("Green", QColor(40, 220, 120)),
    ("Magenta", QColor(236, 64, 220)),
    ("Yellow", QColor(255, 214, 10)),
)
_SLIDER_STEPS = 1000


class ValueSlider(QWidget):
    """A label, a compact slider and its value as text; ``value_edited`` fires only for the
    user's changes, so model updates never echo back."""

    value_edited = Signal(float)

    def __init__(
        self,
        label: str,
        minimum: float,
        maximum: float,
        *,
        logarithmic: bool = False,
        suffix: str = "",
        percent: bool = False,
        width: int = 80,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._min, self._max = minimum, maximum
        self._log = logarithmic
        self._suffix = suffix
        self._percent = percent
        self._label = QLabel(label)
        self._label.setProperty("role", "caption")
        self._label.setVisible(bool(label))
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, _SLIDER_STEPS)
        self._slider.setFixedWidth(width)
        self._slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._value = QLabel()
        sample = "100%" if percent else f"{maximum:.0f}{suffix}"
        self._value.setMinimumWidth(self.fontMetrics().horizontalAdvance(sample) + 2)
        self._value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(5)
        layout.addWidget(self._label)
        layout.addWidget(self._slider)
        layout.addWidget(self._value)
        self._slider.valueChanged.connect(self._on_slider_moved)

    @property
    def slider(self) -> QSlider:
        return self._slider

    def value(self) -> float:
        return self._from_position(self._slider.value())

    def set_value(self, value: float) -> None:
        with QSignalBlocker(self._slider):
            self._slider.setValue(self._to_position(value))
        self._show(value)

    def _to_position(self, value: float) -> int:
        value = min(self._max, max(self._min, value))
        if self._log:
            share = math.log(value / self._min) / math.log(self._max / self._min)
        else:
            share = (value - self._min) / (self._max - self._min)
        return round(share * _SLIDER_STEPS)

    def _from_position(self, position: int) -> float:
        share = position / _SLIDER_STEPS
        if self._log:
            return self._min * (self._max / self._min) ** share
        return self._min + share * (self._max - self._min)

    def _show(self, value: float) -> None:
        self._value.setText(f"{value:.0%}" if self._percent else f"{value:.0f}{self._suffix}")

    def _on_slider_moved(self, position: int) -> None:
        value = self._from_position(position)
        self._show(value)
        self.value_edited.emit(value)


def swatch_icon(color: QColor, size: int = 16) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QColor(255, 255, 255, 90))
    painter.setBrush(color)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


class ToolPalette(QToolBar):
    """The tools, one checkable button each, then undo and redo; vertical by default."""

    def __init__(self, canvas: MaskCanvas, parent: QWidget | None = None) -> None:
        super().__init__("Tools", parent)
        self.setObjectName("canvas-tools")
        self.setOrientation(Qt.Orientation.Vertical)
        self.setIconSize(QSize(22, 22))
        self.setMovable(False)
        for kind, _text, _key in TOOLS:
            self.addAction(canvas.action(f"tool.{kind.value}"))
        self.addSeparator()
        for name in ("undo", "redo"):
            self.addAction(canvas.action(name))


class ToolOptionsBar(QToolBar):
    """Brush size, hardness and opacity; overlay colour, opacity and outline; mask
    operations."""

    def __init__(self, canvas: MaskCanvas, parent: QWidget | None = None) -> None:
        super().__init__("Tool options", parent)
        self.setObjectName("canvas-options")
        self.setIconSize(QSize(20, 20))
        self.setMovable(False)
        self._canvas = canvas
        brush = canvas.brush

        self.size_slider = ValueSlider("Size", MIN_SIZE, MAX_SIZE, logarithmic=True, suffix=" px")
        self.hardness_slider = ValueSlider("Hardness", 0.0, 1.0, percent=True, width=60)
        self.opacity_slider = ValueSlider("Opacity", 0.01, 1.0, percent=True, width=60)
        self.size_slider.value_edited.connect(brush.set_size)
        self.hardness_slider.value_edited.connect(brush.set_hardness)
        self.opacity_slider.value_edited.connect(brush.set_opacity)
        for widget in (self.size_slider, self.hardness_slider, self.opacity_slider):
            self.addWidget(widget)
        self.addSeparator()

        self.color_button = QToolButton()
        self.color_button.setToolTip("Overlay colour")
        self.color_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.color_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        menu = QMenu(self.color_button)
        for name, color in OVERLAY_PRESETS:
            action = menu.addAction(swatch_icon(color), name)
            action.triggered.connect(lambda _checked=False, c=color: canvas.set_overlay_color(c))
        menu.addSeparator()
        menu.addAction("Custom…").triggered.connect(self._on_custom_color_requested)
        self.color_button.setMenu(menu)
        self.addWidget(self.color_button)
        # The colour swatch before it says what this slider is; its tooltip says it too.
        self.overlay_slider = ValueSlider("", 0.05, 1.0, percent=True, width=56)
        self.overlay_slider.setToolTip("Overlay opacity")
        self.overlay_slider.value_edited.connect(canvas.set_overlay_opacity)
        self.addWidget(self.overlay_slider)
        outline = canvas.action("view.outline")
        self.addAction(outline)
        outline_button = self.widgetForAction(outline)
        if isinstance(outline_button, QToolButton):
            outline_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            outline_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addSeparator()

        for name in ("mask.invert", "mask.clear", "mask.fill"):
            self.addAction(canvas.action(name))
        self.amount = QSpinBox()
        self.amount.setRange(1, 500)
        self.amount.setValue(8)
        self.amount.setSuffix(" px")
        self.amount.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setFixedWidth(self.fontMetrics().horizontalAdvance("500 px") + 16)
        self.amount.setToolTip("How far Grow, Shrink and Feather reach")
        for text, tip, slot in (
            ("Grow", "Grow the mask", canvas.document.grow),
            ("Shrink", "Shrink the mask", canvas.document.shrink),
            ("Feather", "Soften the mask's edge", canvas.document.feather),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _checked=False, op=slot: op(self.amount.value()))
            self.addWidget(button)
        self.addWidget(self.amount)

        brush.changed.connect(self._on_brush_changed)
        canvas.overlay_changed.connect(self._on_overlay_changed)
        self._on_brush_changed()
        self._on_overlay_changed()

    def _on_brush_changed(self) -> None:
        brush = self._canvas.brush
        self.size_slider.set_value(brush.size)
        self.hardness_slider.set_value(brush.hardness)
        self.opacity_slider.set_value(brush.opacity)

    def _on_overlay_changed(self) -> None:
        self.color_button.setIcon(swatch_icon(self._canvas.overlay_color, 18))
        self.overlay_slider.set_value(self._canvas.overlay_opacity)

    def _on_custom_color_requested(self) -> None:
        color = QColorDialog.getColor(self._canvas.overlay_color, self, "Overlay colour")
        if color.isValid():
            self._canvas.set_overlay_color(color)
