"""An image-edit request as plain data, and its encoding into text parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.schema import Schema


@dataclass(frozen=True)
class EditRequest:
    """What to send: the input image files, an optional mask file, and every set value
    field (``prompt``, ``model``, ``n`` ... as named in the schema). Unset fields are absent
    or None and are not sent."""

    images: tuple[Path, ...]
    values: Mapping[str, Any] = field(default_factory=dict)
    mask: Path | None = None

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def with_values(self, **changes: Any) -> EditRequest:
        return replace(self, values={**self.values, **changes})


def text_parts(values: Mapping[str, Any], schema: Schema) -> list[tuple[str, str]]:
    """The multipart text parts, in schema order: every set value field, encoded as text.
    Files are not included; values of names the schema does not know are dropped."""
    parts = []
    for spec in schema.value_fields:
        value = values.get(spec.name)
        if value is None or (isinstance(value, str) and value == "" and not spec.required):
            continue
        parts.append((spec.name, spec.encode(value)))
    return parts
