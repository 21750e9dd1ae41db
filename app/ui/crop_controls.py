"""Crop to mask in the Prompt dock: the switch, the line that says what is sent from which
region ("sends 1536x1024 from a 2304x1536 region (0.67×)"), and the option to add the
whole photo as a second input for context. The state is app.models.crop's."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from app.core.region import Rect
from app.models.crop import CropModel
from app.ui.canvas.view import MaskCanvas


class CropControls(QWidget):
    def __init__(self, crop: CropModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._crop = crop
        self.switch = QCheckBox("Crop to mask", self)
        self.switch.setToolTip(
            "Send only the region around the mask, at the model's full detail, and paste "
            "the results back into the full-resolution photo. Drag the region with the "
            "Region tool (C). Off: the whole photo is sent."
        )
        self.line = QLabel(self)
        self.line.setObjectName("crop-line")
        self.line.setWordWrap(True)
        self.line.setProperty("role", "hint")
        self.context = QCheckBox("Add the whole photo for context (costs input tokens)", self)
        self.context.setToolTip(
            "Send the whole photo, downscaled, as a second input image, so the model sees "
            "the scene around the region. It is billed as input tokens."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for widget in (self.switch, self.line, self.context):
            layout.addWidget(widget)
        self.switch.toggled.connect(crop.set_enabled)
        self.context.toggled.connect(crop.set_context_image)
        crop.changed.connect(self.render)
        self.render()

    def render(self) -> None:
        crop = self._crop
        self.switch.blockSignals(True)
        self.switch.setChecked(crop.enabled)
        self.switch.blockSignals(False)
        self.context.blockSignals(True)
        self.context.setChecked(crop.context_image)
        self.context.blockSignals(False)
        text = crop.text()
        self.line.setText(text)
        self.line.setVisible(bool(text))
        self.context.setVisible(crop.enabled)


def connect_canvas(canvas: MaskCanvas, crop: CropModel) -> None:
    """The canvas draws the planned region; a region dragged with the Region tool is
    planned again from there."""
    _CanvasFrame(canvas, crop)


class _CanvasFrame(QObject):
    """Owned by the canvas, so the model's signal stops reaching it with the canvas."""

    def __init__(self, canvas: MaskCanvas, crop: CropModel) -> None:
        super().__init__(canvas)
        self._canvas, self._crop = canvas, crop
        crop.changed.connect(self.show)
        canvas.region_dragged.connect(lambda region: crop.set_frame(Rect(*region)))
        self.show()

    def show(self) -> None:
        plan = self._crop.plan if self._crop.enabled else None
        self._canvas.show_region(tuple(plan.region) if plan is not None else None)
