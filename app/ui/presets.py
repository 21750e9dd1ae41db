"""The Parameters dock: named presets above the schema-generated parameter panel, which
scrolls rather than pushing the window past a 720-pixel-high screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.models.parameters import ParametersModel
from app.models.settings import Settings
from app.ui.params import ParameterPanel


class PresetsPanel(QWidget):
    """``message(text)``: a note for the status bar (what a preset could not set);
    ``dialog_closed()``: the name question is gone (the window gives the keyboard back)."""

    message = Signal(str)
    dialog_closed = Signal()

    def __init__(
        self, params: ParametersModel, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._params_model, self._settings = params, settings
        self.presets = QComboBox(self)
        self.presets.setObjectName("presets")
        self.presets.setPlaceholderText("Presets")
        save = QPushButton("Save…", self)
        save.setToolTip("Save these parameters as a named preset")
        delete = QPushButton("Delete", self)
        save.clicked.connect(self._ask_name)
        delete.clicked.connect(self._delete)
        self.presets.textActivated.connect(self._apply)
        row = QHBoxLayout()
        row.addWidget(self.presets, 1)
        row.addWidget(save)
        row.addWidget(delete)
        self.params = ParameterPanel(params)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.params)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(scroll, 1)
        self._fill()

    def _fill(self) -> None:
        self.presets.clear()
        self.presets.addItems(sorted(self._settings.presets()))
        self.presets.setCurrentIndex(-1)

    def _apply(self, name: str) -> None:
        preset = self._settings.presets().get(name)
        if preset is not None:
            skipped = self._params_model.apply_preset(preset)
            if skipped:
                self.message.emit(f"Preset {name}: ignored {', '.join(skipped)}")

    def _ask_name(self) -> None:
        # Window-modal without a nested event loop, and deleted by Qt when it closes (see
        # gui._open_settings for why not exec()).
        dialog = QInputDialog(self.window())
        dialog.setWindowTitle("Save preset")
        dialog.setLabelText("Name of the preset:")
        dialog.textValueSelected.connect(self._save)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self.dialog_closed)
        dialog.open()

    def _save(self, name: str) -> None:
        if name.strip():
            self._settings.save_preset(name.strip(), self._params_model.to_preset())
            self._fill()
            self.presets.setCurrentText(name.strip())

    def _delete(self) -> None:
        name = self.presets.currentText()
        if name:
            self._settings.delete_preset(name)
            self._fill()
