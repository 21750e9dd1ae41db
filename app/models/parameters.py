"""The request parameters the designer is editing, driven entirely by the field schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.schema import FieldSpec, ModelRules, Schema
from app.core.validation import Problem, validate_values, value_warnings


@dataclass(frozen=True)
class FieldState:
    """Whether a field can be edited now, and if not, why (shown beside it)."""

    enabled: bool
    reason: str | None = None


class ParametersModel(QObject):
    """Holds one value per schema value field and keeps the model's rules applied.

    A field the current model does not support, or whose requirement on another field
    does not hold (compression without jpeg/webp output, partial images without
    streaming), is disabled with the reason and is not sent."""

    value_changed = Signal(str, object)
    states_changed = Signal()
    problems_changed = Signal()

    def __init__(self, schema: Schema, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self._values: dict[str, Any] = {s.name: s.default for s in schema.value_fields}
        self._problems: list[Problem] = []
        self._warnings: list[Problem] = []
        self._held: dict[str, str] = {}
        self._revalidate()

    @property
    def schema(self) -> Schema:
        return self._schema

    @property
    def rules(self) -> ModelRules:
        return self._schema.rules_for(self._values.get("model"))

    def value(self, name: str) -> Any:
        return self._values.get(name)

    def set_value(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise KeyError(f"{name!r} is not a field of the schema")
        if self._values[name] == value and type(self._values[name]) is type(value):
            return
        self._values[name] = value
        self.value_changed.emit(name, value)
        if name == "model":
            self._drop_excluded_choices()
        self._revalidate()

    def values(self) -> dict[str, Any]:
        """Every field's value, the prompt included."""
        return dict(self._values)

    def restore_values(self, values: Mapping[str, Any], models: Sequence[str] = ()) -> None:
        """Put values back (a saved session, a reopened job, its undo): the model first,
        since another model resets some choices, then the fields the schema knows, then the
        prompt. A model outside ``models`` (when given) is left as it is."""
        values = dict(values)
        model = values.pop("model", None)
        if model is not None and (not models or model in models):
            self.set_value("model", model)
        for name, value in values.items():
            if name != "prompt" and name in self._values:
                self.set_value(name, value)
        if "prompt" in values:
            self.set_value("prompt", values["prompt"])

    def hold(self, name: str, reason: str | None) -> None:
        """Another control sets this field for now (crop to mask sets ``size``): shown
        disabled with ``reason``, its own value kept for later. None releases it."""
        if self._held.get(name) != reason:
            if reason is None:
                self._held.pop(name, None)
            else:
                self._held[name] = reason
            self._revalidate()  # the states and the notes beneath the fields

    def state(self, name: str) -> FieldState:
        held = self._held.get(name)
        if held:
            return FieldState(False, held)
        reason = self.rules.reason_unsupported(name)
        if reason:
            return FieldState(False, reason)
        spec = self._schema.field(name)
        for constraint in spec.constraints:
            if constraint.when is not None:
                continue
            for other, accepted in constraint.requires.items():
                if self._values.get(other) not in accepted:
                    return FieldState(False, constraint.message)
        return FieldState(True)

    def allowed_choices(self, spec: FieldSpec) -> tuple[str, ...]:
        return self.rules.allowed_choices(spec)

    def request_values(self) -> dict[str, Any]:
        """What to send: required fields, and every enabled field whose value differs
        from the schema default (the provider applies its own defaults)."""
        sent = {}
        for spec in self._schema.value_fields:
            value = self._values.get(spec.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if not self.state(spec.name).enabled:
                continue
            if spec.required or value != spec.default:
                sent[spec.name] = value
        return sent

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def problem_for(self, name: str) -> str | None:
        return next((p.message for p in self._problems if p.field == name), None)

    def warning_for(self, name: str) -> str | None:
        """What to know about a value that is sent all the same (an experimental size)."""
        return next((w.message for w in self._warnings if w.field == name), None)

    # --- presets ---------------------------------------------------------------------

    def to_preset(self) -> dict[str, Any]:
        """The values worth saving in a preset: everything but the prompt."""
        return {k: v for k, v in self._values.items() if k != "prompt" and v is not None}

    def apply_preset(self, preset: dict[str, Any]) -> list[str]:
        """Apply the fields the schema knows; returns the names it skipped."""
        skipped = []
        for name, value in preset.items():
            if name == "prompt" or not self._schema.has_field(name):
                skipped.append(name)
                continue
            self.set_value(name, value)
        return skipped

    # --- internals -------------------------------------------------------------------

    def _drop_excluded_choices(self) -> None:
        """After a model change, values the new model refuses go back to their default
        (a fixed-size model cannot show a free size, for instance)."""
        rules = self.rules
        for spec in self._schema.value_fields:
            value = self._values[spec.name]
            if value is None:
                continue
            refused = (spec.kind == "choice" and value not in rules.allowed_choices(spec)) or (
                spec.kind == "size" and rules.size.problem(str(value)) is not None
            )
            if refused:
                allowed = rules.allowed_choices(spec) if spec.kind == "choice" else ()
                # Back to the default, or, when the model refuses that too, its first choice.
                fallback = allowed[0] if allowed and spec.default not in allowed else spec.default
                self._values[spec.name] = fallback
                self.value_changed.emit(spec.name, fallback)

    def _revalidate(self) -> None:
        sent = self.request_values()
        sent.setdefault("prompt", self._values.get("prompt"))
        self._problems = validate_values(sent, self._schema)
        self._warnings = value_warnings(sent, self._schema)
        self.states_changed.emit()
        self.problems_changed.emit()
