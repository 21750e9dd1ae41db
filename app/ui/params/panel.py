"""The parameter panel: a form of schema-generated editors bound to a ParametersModel."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from app.models.parameters import ParametersModel
from app.ui.params.editors import FieldEditor, ModelEditor, editor_for

_NOTE_COLOURS = {
    "error": "color: #d9534f;",
    "warning": "color: #c8891a;",  # amber: sent all the same
    "info": "color: palette(mid);",
}


class ParameterPanel(QWidget):
    """One row per value field of the schema (minus ``exclude``), each with its editor,
    the reason it is disabled, and its validation problem shown beneath it."""

    def __init__(
        self,
        model: ParametersModel,
        *,
        exclude: Iterable[str] = ("prompt",),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.editors: dict[str, FieldEditor] = {}
        self.notes: dict[str, QLabel] = {}
        outer = QVBoxLayout(self)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        outer.addStretch(1)
        skipped = set(exclude)
        specs = [s for s in model.schema.value_fields if s.name not in skipped]
        for spec in sorted(specs, key=lambda s: s.advanced):
            editor = editor_for(spec, self)
            editor.setObjectName(f"field-{spec.name}")
            editor.edited.connect(lambda value, name=spec.name: model.set_value(name, value))
            note = QLabel()
            note.setObjectName(f"note-{spec.name}")
            note.setWordWrap(True)
            note.setProperty("role", "field-note")
            note.hide()
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(editor)
            column.addWidget(note)
            label = QLabel(spec.label)
            label.setToolTip(spec.help)
            form.addRow(label, column)
            self.editors[spec.name] = editor
            self.notes[spec.name] = note
        model.value_changed.connect(self._on_value_changed)
        model.states_changed.connect(self._on_states_changed)
        model.problems_changed.connect(self._on_problems_changed)
        for name, editor in self.editors.items():
            editor.set_value(model.value(name))
        self._on_states_changed()
        self._on_problems_changed()

    def set_known_models(self, names: tuple[str, ...]) -> None:
        editor = self.editors.get("model")
        if isinstance(editor, ModelEditor):
            editor.set_known_models(names)

    def _on_value_changed(self, name: str, value: object) -> None:
        editor = self.editors.get(name)
        if editor is not None and editor.value() != value:
            editor.set_value(value)

    def _on_states_changed(self) -> None:
        rules = self.model.rules
        for name, editor in self.editors.items():
            spec = editor.spec
            editor.apply_rules(rules, self.model.allowed_choices(spec))
            editor.set_value(self.model.value(name))
            state = self.model.state(name)
            editor.setEnabled(state.enabled)
            editor.setToolTip(spec.help if state.enabled else f"{state.reason}\n\n{spec.help}")

    def _on_problems_changed(self) -> None:
        for name, note in self.notes.items():
            state = self.model.state(name)
            problem = self.model.problem_for(name)
            warning = self.model.warning_for(name) if state.enabled else None
            text = problem or (state.reason if not state.enabled else warning)
            severity = "error" if problem else "warning" if warning else "info"
            note.setProperty("severity", severity)
            note.setStyleSheet(_NOTE_COLOURS[severity])
            note.setText(text or "")
            note.setVisible(bool(text))
