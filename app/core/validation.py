"""Checks a request before anything touches the network.

Every check returns all problems at once, each naming the field or file and saying what to
do. The CLI, the editor and the local engine share these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.imageio import ImageFileError, ImageInfo, ImageSource, probe_image
from app.core.mask import compact_mask, limit_text
from app.core.schema import FieldSpec, ModelRules, Schema


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request. ``field`` is a schema field name; ``file`` names
    the offending file when there is one; ``code`` names the kind of problem for machines
    (the local engine answers with it as the OpenAI error code)."""

    field: str
    message: str
    file: str | None = None
    code: str = "invalid_value"

    def __str__(self) -> str:
        return self.message if self.file else f"{self.field}: {self.message}"


@dataclass(frozen=True)
class NamedSource:
    """An image given as a path or as bytes, with the name to use in messages."""

    source: ImageSource
    name: str

    @classmethod
    def of(cls, source: ImageSource | NamedSource) -> NamedSource:
        if isinstance(source, NamedSource):
            return source
        return cls(source, str(source) if isinstance(source, Path) else "image")


def validate_values(values: Mapping[str, Any], schema: Schema) -> list[Problem]:
    """Check every value field against the schema and the chosen model's rules."""
    problems: list[Problem] = []
    known = {spec.name for spec in schema.fields}
    for name in values:
        if name not in known:
            problems.append(
                Problem(name, f"unknown field {name!r}; remove it.", code="unknown_parameter")
            )
    rules = schema.rules_for(values.get("model"))
    for spec in schema.value_fields:
        value = values.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                problems.append(
                    Problem(
                        spec.name,
                        f"{spec.label} is required; fill it in.",
                        code="missing_required_parameter",
                    )
                )
            continue
        message = _value_problem(spec, value, rules)
        if message:
            code = "unsupported_parameter" if not rules.supports(spec.name) else "invalid_value"
            problems.append(Problem(spec.name, message, code=code))
            continue
        for constraint in spec.constraints:
            if not constraint.applies_to(value):
                continue
            for other, accepted in constraint.requires.items():
                other_value = values.get(other, schema.field(other).default)
                if other_value not in accepted:
                    problems.append(
                        Problem(spec.name, constraint.message, code="invalid_parameter_combination")
                    )
    return problems


def value_warnings(values: Mapping[str, Any], schema: Schema) -> list[Problem]:
    """What to know about values that are sent all the same: a size OpenAI marks
    experimental, a choice outside the documented ones for a model the schema does not
    know (a vendor's own). Each names its field."""
    rules = schema.rules_for(values.get("model"))
    found = []
    for spec in schema.value_fields:
        value = values.get(spec.name)
        if value is None or not rules.supports(spec.name):
            continue
        if spec.kind == "size" and isinstance(value, str):
            message = rules.size.warning(value)
            if message:
                found.append(Problem(spec.name, message, code="experimental_size"))
        elif (
            spec.kind == "choice"
            and value not in rules.allowed_choices(spec)
            and not rules.known
            and isinstance(value, str)
            and value
        ):
            found.append(
                Problem(
                    spec.name,
                    f"{value!r} is not one of the documented choices "
                    f"({', '.join(spec.choices)}); it is sent as it is, for "
                    f"{rules.name or 'this model'} to accept or refuse.",
                    code="undocumented_choice",
                )
            )
    return found


def _value_problem(spec: FieldSpec, value: Any, rules: ModelRules) -> str | None:
    reason = rules.reason_unsupported(spec.name)
    if reason:
        return f"not supported by {rules.name}: {reason} Leave it unset."
    match spec.kind:
        case "text" | "model":
            if not isinstance(value, str):
                return f"expected text, got {type(value).__name__}."
            if spec.kind == "model" and not value.strip():
                return "name a model."
            if spec.max_length is not None and len(value) > spec.max_length:
                return (
                    f"{len(value):,} characters is too long; at most {spec.max_length:,}. "
                    "Shorten it."
                )
        case "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"expected a whole number, got {value!r}."
            span = f"use {spec.minimum} to {spec.maximum}"
            if spec.minimum is not None and value < spec.minimum:
                return f"{value} is below the minimum {spec.minimum}; {span}."
            if spec.maximum is not None and value > spec.maximum:
                return f"{value} is above the maximum {spec.maximum}; {span}."
        case "boolean":
            if not isinstance(value, bool):
                return f"expected true or false, got {value!r}."
        case "choice":
            allowed = rules.allowed_choices(spec)
            if value in allowed or (not rules.known and isinstance(value, str) and value):
                return None  # a vendor's own model may take its own values (a warning)
            if value in rules.excluded_choices.get(spec.name, {}):
                return rules.excluded_choices[spec.name][value]
            return f"{value!r} is not one of {', '.join(allowed)}; pick one of them."
        case "size":
            if not isinstance(value, str):
                return f"expected WIDTHxHEIGHT or auto, got {value!r}."
            problem = rules.size.problem(value)
            if problem:
                return f"{problem} ({rules.name or 'this model'})"
    return None


def probe_file(
    source: ImageSource | NamedSource, schema: Schema, *, deep: bool = False
) -> ImageInfo:
    named = NamedSource.of(source)
    return probe_image(
        named.source,
        name=named.name,
        max_pixels=schema.files.max_pixels,
        max_bytes=schema.files.max_file_bytes,
        deep=deep,
    )


def validate_files(
    images: Sequence[ImageSource | NamedSource],
    mask: ImageSource | NamedSource | None,
    schema: Schema,
    *,
    deep: bool = False,
    as_received: bool = False,
) -> tuple[list[Problem], list[ImageInfo | None]]:
    """Check the input images and the mask by their bytes. Returns the problems and, for
    each image, its header info (None where it could not be read).

    The mask has its own byte limit (the mask field's ``max_file_bytes``). A client sends
    every mask compactly (``app.core.mask.compact_mask``), so by default that encoding is
    what is checked; ``as_received`` (the local engine, checking an upload) checks the
    mask's bytes as they arrived, as the API does."""
    problems: list[Problem] = []
    spec = schema.image_field
    if len(images) < max(1, spec.min_items):
        problems.append(
            Problem(
                spec.name,
                "at least one input image is needed; add one.",
                code="missing_required_parameter",
            )
        )
    if spec.max_items is not None and len(images) > spec.max_items:
        problems.append(
            Problem(
                spec.name,
                f"{len(images)} images given; at most {spec.max_items}. Remove some.",
                code="too_many_images",
            )
        )
    infos: list[ImageInfo | None] = []
    for image in images:
        named = NamedSource.of(image)
        try:
            info = probe_file(named, schema, deep=deep)
        except ImageFileError as exc:
            problems.append(Problem(spec.name, str(exc), file=named.name, code=exc.code))
            infos.append(None)
            continue
        if info.format not in schema.files.formats:
            problems.append(
                Problem(
                    spec.name,
                    f"{named.name}: {info.format} is not accepted.",
                    named.name,
                    code="invalid_image_format",
                )
            )
        infos.append(info)
    if mask is not None:
        first = infos[0] if infos else None
        problems.extend(_mask_problems(NamedSource.of(mask), first, schema, deep, as_received))
    return problems, infos


def _mask_problems(
    mask: NamedSource, first: ImageInfo | None, schema: Schema, deep: bool, as_received: bool
) -> list[Problem]:
    try:
        info = probe_file(mask, schema, deep=deep)
    except ImageFileError as exc:
        return [Problem("mask", str(exc), file=mask.name, code=exc.code)]
    problems = []
    if info.format != "png":
        problems.append(
            Problem(
                "mask",
                f"{mask.name}: the mask is a {info.format.upper()}; it must be a PNG with "
                "an alpha channel. Export the mask as PNG.",
                mask.name,
                code="mask_not_png",
            )
        )
    elif not info.has_alpha:
        problems.append(
            Problem(
                "mask",
                f"{mask.name}: the mask has no alpha channel ({info.mode}); transparent "
                "pixels mark where to edit, so save it as an RGBA PNG.",
                mask.name,
                code="invalid_mask_image_format",
            )
        )
    if first is not None and (info.width, info.height) != (first.width, first.height):
        problems.append(
            Problem(
                "mask",
                f"{mask.name}: the mask is {info.width}x{info.height} but the first image is "
                f"{first.width}x{first.height}; they must be the same size.",
                mask.name,
                code="mask_size_mismatch",
            )
        )
    if not problems:
        problems.extend(_mask_bytes_problems(mask, info, schema, as_received))
    return problems


def _mask_bytes_problems(
    mask: NamedSource, info: ImageInfo, schema: Schema, as_received: bool
) -> list[Problem]:
    """The mask's own byte limit, on the bytes that travel (see ``validate_files``)."""
    spec = schema.mask_field
    limit = spec.max_file_bytes if spec is not None else None
    if limit is None:
        return []
    if as_received:
        if info.byte_size < limit:
            return []
        return [
            Problem(
                "mask",
                f"{mask.name}: the mask is {info.byte_size / 1024 / 1024:.1f} MB; masks must "
                f"be under {limit_text(limit)}. Only its alpha channel is read: send it as a "
                "grey+alpha PNG with black grey (or RGBA with black colour), which compresses "
                "far better.",
                mask.name,
                code="mask_too_large",
            )
        ]
    try:
        compact_mask(
            mask.source, name=mask.name, max_pixels=schema.files.max_pixels, max_bytes=limit
        )
    except ImageFileError as exc:
        return [Problem("mask", str(exc), file=mask.name, code=exc.code)]
    return []


def validate_request(
    values: Mapping[str, Any],
    images: Sequence[ImageSource | NamedSource],
    mask: ImageSource | NamedSource | None,
    schema: Schema,
    *,
    deep: bool = False,
) -> list[Problem]:
    file_problems, _ = validate_files(images, mask, schema, deep=deep)
    return validate_values(values, schema) + file_problems
