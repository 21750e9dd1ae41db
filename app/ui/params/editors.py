"""One editor widget per schema field, made by a single factory from the field's kind."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from app.core.schema import FieldSpec, ModelRules, parse_size

NOT_SET = "(not set)"


class FieldEditor(QWidget):
    """A widget that edits one field's value. ``edited`` fires only on user edits,
    never when the model pushes a value in (no feedback loops)."""

    edited = Signal(object)

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setToolTip(spec.help)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def apply_rules(self, rules: ModelRules, allowed: tuple[str, ...]) -> None:
        """Adapt to the current model (choices it allows, its size grammar)."""

    def _emit(self, *_: Any) -> None:
        self.edited.emit(self.value())


class TextEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        if spec.multiline:
            self.box: QLineEdit | QPlainTextEdit = QPlainTextEdit()
            self.box.setTabChangesFocus(True)
            self.box.textChanged.connect(self._emit)
        else:
            self.box = QLineEdit()
            if spec.max_length:
                self.box.setMaxLength(spec.max_length)
            self.box.textEdited.connect(self._emit)
        self.box.setPlaceholderText(spec.help.split(".")[0])
        self.layout().addWidget(self.box)

    def value(self) -> str | None:
        text = self.box.toPlainText() if isinstance(self.box, QPlainTextEdit) else self.box.text()
        return text if text or self.spec.required else None

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            if isinstance(self.box, QPlainTextEdit):
                if self.box.toPlainText() != (value or ""):
                    self.box.setPlainText(value or "")
            else:
                self.box.setText(value or "")


class IntegerEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QSpinBox()
        low = spec.minimum if spec.minimum is not None else -(2**31) + 1
        self._nullable = spec.default is None and not spec.required
        # One step below the minimum stands for "not set" in a nullable field.
        self.box.setRange(low - 1 if self._nullable else low, spec.maximum or 2**31 - 1)
        if self._nullable:
            self.box.setSpecialValueText(NOT_SET)
        self.box.valueChanged.connect(self._emit)
        self.layout().addWidget(self.box)

    def value(self) -> int | None:
        if self._nullable and self.box.value() == self.box.minimum():
            return None
        return self.box.value()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setValue(self.box.minimum() if value is None else int(value))


class ChoiceEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox()
        self._nullable = spec.default is None and not spec.required
        self._fill(spec.choices)
        self.box.currentIndexChanged.connect(self._emit)
        self.layout().addWidget(self.box)

    def _fill(self, choices: tuple[str, ...]) -> None:
        with QSignalBlocker(self.box):
            current = self.box.currentData()
            self.box.clear()
            if self._nullable:
                self.box.addItem(NOT_SET, None)
            for choice in choices:
                self.box.addItem(choice, choice)
            index = self.box.findData(current)
            self.box.setCurrentIndex(max(0, index))

    def value(self) -> str | None:
        return self.box.currentData()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setCurrentIndex(max(0, self.box.findData(value)))

    def apply_rules(self, rules: ModelRules, allowed: tuple[str, ...]) -> None:
        self._fill(allowed)


class BooleanEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox()
        self.box.toggled.connect(self._emit)
        self.layout().addWidget(self.box)

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setChecked(bool(value))


class ModelEditor(FieldEditor):
    """An editable list of known models: any other name may be typed."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox()
        self.box.setEditable(True)
        self.box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.box.currentTextChanged.connect(self._emit)
        self.layout().addWidget(self.box)

    def set_known_models(self, names: tuple[str, ...]) -> None:
        with QSignalBlocker(self.box):
            text = self.box.currentText()
            self.box.clear()
            self.box.addItems(list(names))
            self.box.setEditText(text)

    def value(self) -> str:
        return self.box.currentText().strip()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setEditText(value or "")


class SizeEditor(FieldEditor):
    """A width x height editor snapping to the model's grid, or a list of fixed sizes."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.stack = QStackedWidget()
        free = QWidget()
        row = QHBoxLayout(free)
        row.setContentsMargins(0, 0, 0, 0)
        self.auto = QCheckBox("auto")
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(16, 16384)
            box.setSuffix(" px")
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._on_edge_changed)
        self.auto.toggled.connect(self._on_auto_toggled)
        row.addWidget(self.auto)
        row.addWidget(self.width_box)
        row.addWidget(QLabel("×"))
        row.addWidget(self.height_box)
        self.fixed = QComboBox()
        self.fixed.currentIndexChanged.connect(self._emit)
        self.stack.addWidget(free)
        self.stack.addWidget(self.fixed)
        self.layout().addWidget(self.stack)
        self._step = 1
        self.width_box.setValue(1024)
        self.height_box.setValue(1024)

    @property
    def is_fixed(self) -> bool:
        return self.stack.currentWidget() is self.fixed

    def apply_rules(self, rules: ModelRules, allowed: tuple[str, ...]) -> None:
        size = rules.size
        current = self.value()
        with QSignalBlocker(self.fixed):
            self.fixed.clear()
            self.fixed.addItems(list(size.choices))
        self.stack.setCurrentWidget(self.fixed if size.grammar == "fixed" else self.stack.widget(0))
        self._step = max(1, size.multiple_of)
        for box in (self.width_box, self.height_box):
            with QSignalBlocker(box):
                box.setSingleStep(self._step)
                box.setMaximum(size.max_edge or 16384)
                box.setMinimum(self._step)
        self.set_value(current)

    def _on_auto_toggled(self, on: bool) -> None:
        self.width_box.setEnabled(not on)
        self.height_box.setEnabled(not on)
        self._emit()

    def _on_edge_changed(self, _: int) -> None:
        for box in (self.width_box, self.height_box):
            snapped = max(self._step, round(box.value() / self._step) * self._step)
            if snapped != box.value():
                with QSignalBlocker(box):
                    box.setValue(snapped)
        self._emit()

    def value(self) -> str:
        if self.is_fixed:
            return self.fixed.currentText() or "auto"
        if self.auto.isChecked():
            return "auto"
        return f"{self.width_box.value()}x{self.height_box.value()}"

    def set_value(self, value: Any) -> None:
        text = str(value or "auto")
        with QSignalBlocker(self.fixed), QSignalBlocker(self.auto):
            self.fixed.setCurrentIndex(max(0, self.fixed.findText(text)))
            parsed = parse_size(text)
            self.auto.setChecked(parsed is None)
            self.width_box.setEnabled(parsed is not None)
            self.height_box.setEnabled(parsed is not None)
            if parsed:
                for box, edge in zip((self.width_box, self.height_box), parsed, strict=True):
                    with QSignalBlocker(box):
                        box.setValue(edge)


def editor_for(spec: FieldSpec, parent: QWidget | None = None) -> FieldEditor:
    """The one place that maps a field kind to a widget."""
    match spec.kind:
        case "text":
            return TextEditor(spec, parent)
        case "integer":
            return IntegerEditor(spec, parent)
        case "choice":
            return ChoiceEditor(spec, parent)
        case "boolean":
            return BooleanEditor(spec, parent)
        case "model":
            return ModelEditor(spec, parent)
        case "size":
            return SizeEditor(spec, parent)
    raise ValueError(f"no editor for field {spec.name!r} of kind {spec.kind!r}")
