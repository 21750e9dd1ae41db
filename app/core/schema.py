"""The request field schema, loaded from ``resources/schema/image_edits.json``.

Everything that knows which fields a request has (the parameter panel, the validator,
the CLI flags, the local engine's checks) reads them from here; no other module keeps a
list of field names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.resources import resource_path

FIELD_KINDS = frozenset(
    {"text", "integer", "choice", "size", "image_list", "mask", "boolean", "model"}
)
FILE_KINDS = frozenset({"image_list", "mask"})
_SIZE_RE = re.compile(r"^\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class SchemaError(ValueError):
    """The schema file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Constraint:
    """A rule tying one field's value to another's (``requires``), optionally only
    for some of its values (``when``)."""

    requires: Mapping[str, tuple[Any, ...]]
    message: str
    when: tuple[Any, ...] | None = None

    def applies_to(self, value: Any) -> bool:
        return value is not None and (self.when is None or value in self.when)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    label: str
    help: str = ""
    default: Any = None
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    min_items: int = 0
    max_items: int | None = None
    max_file_bytes: int | None = None  # a file field's own byte limit (the mask: under 4 MB)
    multiline: bool = False
    advanced: bool = False
    constraints: tuple[Constraint, ...] = ()

    @property
    def is_file(self) -> bool:
        return self.kind in FILE_KINDS

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str) -> Any:
        """Turn text typed by a user (a CLI flag, a form field) into this field's value.

        Raises ValueError with a message that says what is expected."""
        if self.kind == "integer":
            try:
                return int(text.strip())
            except ValueError:
                raise ValueError(f"expected a whole number, got {text!r}") from None
        if self.kind == "boolean":
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(f"expected true or false, got {text!r}")
        return text

    def encode(self, value: Any) -> str:
        """The value as the text part that travels in the multipart body."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


@dataclass(frozen=True)
class SizeRule:
    """Which ``size`` values a model accepts: a fixed list, or a grammar of limits."""

    grammar: str  # "fixed" or "free"
    choices: tuple[str, ...] = ()
    max_edge: int | None = None
    multiple_of: int = 1
    max_ratio: float | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    experimental_above: tuple[int, int] | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    """Where a limit comes from (``"min_pixels": "the seed vendor"``), said with it."""

    def _from(self, limit: str) -> str:
        source = self.sources.get(limit)
        return f" ({source})" if source else ""

    def problem(self, value: str) -> str | None:
        """Why ``value`` is refused, or None when it is accepted."""
        text = value.strip().lower()
        if self.grammar == "fixed":
            if text in self.choices:
                return None
            return f"{value!r} is not offered; choose one of {', '.join(self.choices)}."
        if text == "auto":
            return None
        parsed = parse_size(text)
        if parsed is None:
            return f"{value!r} is not a size; write WIDTHxHEIGHT, for example 1024x1536, or auto."
        width, height = parsed
        if width <= 0 or height <= 0:
            return "width and height must be positive."
        if self.max_edge and max(width, height) > self.max_edge:
            return (
                f"the longest edge is {max(width, height)} px; at most {self.max_edge} px"
                f"{self._from('max_edge')}."
            )
        if self.multiple_of > 1 and (width % self.multiple_of or height % self.multiple_of):
            snapped = self.snap(width, height)
            return (
                f"both edges must be multiples of {self.multiple_of} px"
                f"{self._from('multiple_of')}; the nearest accepted size is "
                f"{snapped[0]}x{snapped[1]}."
            )
        if self.max_ratio and max(width, height) / min(width, height) > self.max_ratio + 1e-9:
            return (
                f"the long edge may be at most {self.max_ratio:g} times the short edge"
                f"{self._from('max_ratio')}."
            )
        pixels = width * height
        if self.min_pixels and pixels < self.min_pixels:
            return (
                f"{pixels:,} pixels is too small; at least {self.min_pixels:,} pixels"
                f"{self._from('min_pixels')}."
            )
        if self.max_pixels and pixels > self.max_pixels:
            return (
                f"{pixels:,} pixels is too large; at most {self.max_pixels:,} pixels"
                f"{self._from('max_pixels')}."
            )
        return None

    def is_experimental(self, value: str) -> bool:
        """Above ``experimental_above`` (its area, so 1440x2560 is as good as 2560x1440)."""
        parsed = parse_size(value)
        if parsed is None or self.experimental_above is None:
            return False
        limit_w, limit_h = self.experimental_above
        return parsed[0] * parsed[1] > limit_w * limit_h

    def warning(self, value: str) -> str | None:
        """What to know about an accepted size (it is sent all the same), or None."""
        if not self.is_experimental(value) or self.problem(value) is not None:
            return None
        width, height = self.experimental_above or (0, 0)
        return (
            f"{value} is above {width}x{height}, which OpenAI marks experimental: results may "
            "be less consistent."
        )

    def snap(self, width: int, height: int) -> tuple[int, int]:
        """The nearest size on this rule's grid (multiples of ``multiple_of``, within
        the edge limit)."""
        step = max(1, self.multiple_of)
        top = self.max_edge or max(width, height, step)

        def one(edge: int) -> int:
            return min(max(step, round(edge / step) * step), (top // step) * step)

        return one(width), one(height)


@dataclass(frozen=True)
class ModelRules:
    name: str
    size: SizeRule
    unsupported: Mapping[str, str] = field(default_factory=dict)
    excluded_choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    provider: str | None = None
    known: bool = True
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """A field's choices for this model, when they are not the field's own (quality)."""
    aliases: tuple[str, ...] = ()

    def supports(self, field_name: str) -> bool:
        return field_name not in self.unsupported

    def reason_unsupported(self, field_name: str) -> str | None:
        return self.unsupported.get(field_name)

    def allowed_choices(self, spec: FieldSpec) -> tuple[str, ...]:
        excluded = self.excluded_choices.get(spec.name, {})
        offered = self.choices.get(spec.name, spec.choices)
        return tuple(c for c in offered if c not in excluded)


@dataclass(frozen=True)
class FileLimits:
    formats: tuple[str, ...]
    max_file_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class Schema:
    fields: tuple[FieldSpec, ...]
    models: tuple[ModelRules, ...]
    files: FileLimits
    default_path: str
    known_paths: tuple[str, ...]
    patterns: tuple[ModelPattern, ...] = ()
    unknown_size: SizeRule = field(default_factory=lambda: SizeRule("free"))
    api_default_model: str | None = None
    """The model the API uses when a request names none (its rules apply then)."""

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def has_field(self, name: str) -> bool:
        return any(spec.name == name for spec in self.fields)

    @property
    def value_fields(self) -> tuple[FieldSpec, ...]:
        """The fields that travel as text parts (everything but the files)."""
        return tuple(spec for spec in self.fields if not spec.is_file)

    @property
    def image_field(self) -> FieldSpec:
        return next(spec for spec in self.fields if spec.kind == "image_list")

    @property
    def mask_field(self) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.kind == "mask"), None)

    def model_names(self, provider: str | None = None) -> tuple[str, ...]:
        return tuple(m.name for m in self.models if m.provider == provider)

    def rules_for(self, model: str | None) -> ModelRules:
        """The rules for a model name: a known model's, an alias's model's, or, for a name
        a pattern of the schema matches (``-plus``, a dated snapshot), the rules of the
        name without it plus the pattern's own. No name: the API's default model's. An
        unknown name gets the most permissive rules."""
        name = (model or "").strip() or (self.api_default_model or "")
        known = {m.name: m for m in self.models}
        known.update({alias: m for m in self.models for alias in m.aliases})
        matching = [p for p in self.patterns if p.base_of(name) is not None]
        bases = [name] + [p.base_of(name) or "" for p in matching]
        bases += [p.base_of(b) or "" for b in bases[1:] for p in self.patterns if p.base_of(b)]
        base = next((known[b] for b in bases if b in known), None)
        if base is None:
            base = ModelRules(name=name, size=self.unknown_size, known=False)
        extra = {key: why for p in matching for key, why in p.unsupported.items()}
        return ModelRules(
            name=name,
            size=base.size,
            unsupported={**base.unsupported, **extra},
            excluded_choices=base.excluded_choices,
            provider=base.provider,
            known=base.known,
            choices=base.choices,
        )


@dataclass(frozen=True)
class ModelPattern:
    """Model names the schema knows by their ending: a literal ``suffix`` (``-plus``) or a
    ``regex`` (a dated snapshot). A matching name takes the rules of the name without
    that ending, plus ``unsupported``."""

    suffix: str | None = None
    regex: re.Pattern[str] | None = None
    unsupported: Mapping[str, str] = field(default_factory=dict)

    def base_of(self, name: str) -> str | None:
        """The name without this pattern's ending, or None when it does not match."""
        if self.suffix and name.endswith(self.suffix) and len(name) > len(self.suffix):
            return name[: -len(self.suffix)]
        if self.regex is not None:
            found = self.regex.search(name)
            if found and found.start() > 0:
                return name[: found.start()]
        return None


def parse_size(text: str) -> tuple[int, int] | None:
    match = _SIZE_RE.match(text)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def default_schema_path() -> Path:
    return resource_path("schema", "image_edits.json")


def load_schema(path: Path | None = None) -> Schema:
    path = path or default_schema_path()
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path}: the schema file does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"{path}: cannot read the schema ({exc}).") from None
    return schema_from_dict(raw, source=str(path))


def schema_from_dict(raw: Mapping[str, Any], source: str = "schema") -> Schema:
    try:
        fields = tuple(_field(item) for item in raw["fields"])
        models = tuple(_model(item) for item in raw.get("models", []))
        files = raw["files"]
        endpoint = raw.get("endpoint", {})
        schema = Schema(
            fields=fields,
            models=models,
            files=FileLimits(
                formats=tuple(files["formats"]),
                max_file_bytes=int(files["max_file_bytes"]),
                max_pixels=int(files["max_pixels"]),
            ),
            default_path=endpoint.get("default_path", "/v1/images/edits"),
            known_paths=tuple(endpoint.get("known_paths", ())),
            patterns=tuple(_pattern(p) for p in raw.get("model_patterns", [])),
            unknown_size=_size(raw.get("unknown_model", {}).get("size", {"grammar": "free"})),
            api_default_model=raw.get("api_default_model"),
        )
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise SchemaError(f"{source}: malformed schema ({type(exc).__name__}: {exc}).") from None
    _check_consistency(schema, source)
    return schema


def _field(item: Mapping[str, Any]) -> FieldSpec:
    kind = item["kind"]
    if kind not in FIELD_KINDS:
        raise ValueError(f"field {item.get('name')!r} has unknown kind {kind!r}")
    return FieldSpec(
        name=item["name"],
        kind=kind,
        label=item.get("label", item["name"].replace("_", " ").capitalize()),
        help=item.get("help", ""),
        default=item.get("default"),
        required=bool(item.get("required", False)),
        minimum=item.get("min"),
        maximum=item.get("max"),
        max_length=item.get("max_length"),
        choices=tuple(item.get("choices", ())),
        min_items=int(item.get("min_items", 0)),
        max_items=item.get("max_items"),
        max_file_bytes=item.get("max_file_bytes"),
        multiline=bool(item.get("multiline", False)),
        advanced=bool(item.get("advanced", False)),
        constraints=tuple(
            Constraint(
                requires={k: tuple(v) for k, v in c["requires"].items()},
                message=c["message"],
                when=tuple(c["when"]) if "when" in c else None,
            )
            for c in item.get("constraints", ())
        ),
    )


def _size(item: Mapping[str, Any]) -> SizeRule:
    above = item.get("experimental_above")
    return SizeRule(
        grammar=item.get("grammar", "free"),
        choices=tuple(item.get("choices", ())),
        max_edge=item.get("max_edge"),
        multiple_of=int(item.get("multiple_of", 1)),
        max_ratio=item.get("max_ratio"),
        min_pixels=item.get("min_pixels"),
        max_pixels=item.get("max_pixels"),
        experimental_above=tuple(above) if above else None,
        sources=dict(item.get("sources", {})),
    )


def _pattern(item: Mapping[str, Any]) -> ModelPattern:
    if ("suffix" in item) == ("regex" in item):
        raise ValueError(f"a model pattern needs a suffix or a regex, not both: {dict(item)}")
    regex = item.get("regex")
    return ModelPattern(
        suffix=item.get("suffix"),
        regex=re.compile(regex) if regex else None,
        unsupported=dict(item.get("unsupported", {})),
    )


def _model(item: Mapping[str, Any]) -> ModelRules:
    return ModelRules(
        name=item["name"],
        size=_size(item.get("size", {"grammar": "free"})),
        unsupported=dict(item.get("unsupported", {})),
        excluded_choices={k: dict(v) for k, v in item.get("excluded_choices", {}).items()},
        provider=item.get("provider"),
        choices={k: tuple(v) for k, v in item.get("choices", {}).items()},
        aliases=tuple(item.get("aliases", ())),
    )


def _check_consistency(schema: Schema, source: str) -> None:
    names = [f.name for f in schema.fields]
    if len(set(names)) != len(names):
        raise SchemaError(f"{source}: a field name appears twice.")
    if sum(f.kind == "image_list" for f in schema.fields) != 1:
        raise SchemaError(f"{source}: exactly one field must be of kind image_list.")
    for spec in schema.fields:
        for constraint in spec.constraints:
            for other in constraint.requires:
                if other not in names:
                    raise SchemaError(
                        f"{source}: field {spec.name!r} refers to unknown field {other!r}."
                    )
        if spec.max_file_bytes is not None and (
            not spec.is_file
            or isinstance(spec.max_file_bytes, bool)
            or not isinstance(spec.max_file_bytes, int)
            or spec.max_file_bytes <= 0
        ):
            raise SchemaError(
                f"{source}: field {spec.name!r}: max_file_bytes must be a positive whole "
                "number of bytes, on a file field."
            )
        if spec.kind == "choice" and not spec.choices:
            raise SchemaError(f"{source}: choice field {spec.name!r} has no choices.")
        bounded = spec.minimum is not None and spec.maximum is not None
        if spec.kind == "integer" and bounded and spec.minimum > spec.maximum:
            raise SchemaError(f"{source}: field {spec.name!r} has min above max.")
