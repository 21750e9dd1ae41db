"""One image-edit request: its parts checked with the same schema and validation functions
as the client, its images decoded, and then its work as a generator of events (partial and
completed images), one stage of work per ``next()``.

Everything here is synchronous and CPU-bound: the server runs it in worker threads. A
request's work stops soon after the asyncio task that asked for it ends (its client left):
see ``app.engine.cancel``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from app.core.events import CompletedImage, ImageEvent, PartialImage, Usage
from app.core.imageio import MIME_TYPES, ImageFileError
from app.core.schema import Schema, parse_size
from app.core.validation import NamedSource, Problem, probe_file, validate_files, validate_values
from app.engine import codec
from app.engine.cancel import Cancel, Cancelled, bind_to_current_task
from app.engine.errors import EngineError
from app.engine.fills.base import hole_from_alpha, partial_scales
from app.engine.upload import FilePart, Upload
from app.engine.usage import usage
from app.engine.variants import variant, warm_up_fills

IMAGE_PARTS = ("image", "image[]")
MASK_PART = "mask"
_ACCEPTED_TYPES = {*MIME_TYPES.values(), "image/jpg"}
# OpenAI files this one under a separate type, and clients use it to tell user errors apart.
_USER_ERROR_CODES = {"invalid_mask_image_format"}
T = TypeVar("T")


@dataclass(frozen=True)
class Edit:
    """A checked, decoded request, ready to render."""

    prompt: str
    model: str
    n: int
    stream: bool
    partials: int
    output_format: str
    compression: int | None
    background: str  # as resolved: "transparent" or "opaque"
    pixels: np.ndarray  # the first image: HxWx3 RGB, or HxWx4 RGBA for transparent output
    hole: np.ndarray | None  # HxW bool, None without a mask
    out_size: tuple[int, int]
    input_sizes: tuple[tuple[int, int], ...]
    first_variant: int = 0  # variant index of the first image (see VARIANT_HEADER)
    png: codec.PngRows | None = None  # PNG output at the input size: the shared encoder

    @property
    def size_text(self) -> str:
        return f"{self.out_size[0]}x{self.out_size[1]}"

    @property
    def quality(self) -> str:
        # The engine has one quality level; it returns full-resolution pixels, so "high".
        return "high"

    def total_usage(self) -> Usage:
        return usage(prompt=self.prompt, inputs=self.input_sizes, outputs=[self.out_size] * self.n)


def local_models(schema: Schema) -> tuple[str, ...]:
    return schema.model_names("local")


def prepare_edit(upload: Upload, schema: Schema, first_variant: int = 0) -> Edit:
    """Check and decode a request. Raises EngineError (400) naming the field at fault."""
    images, mask = _files(upload)
    values = _values(upload, schema)
    models = local_models(schema)
    model = values.setdefault("model", models[0])
    if model not in models:
        raise EngineError(
            400,
            f"The model {model!r} does not exist on the local engine; use "
            f"{', '.join(repr(m) for m in models)}.",
            param="model",
            code="model_not_found",
        )
    _raise_first(validate_values(values, schema))
    named = [
        NamedSource(part.data, part.filename or f"image {number}")
        for number, part in enumerate(images, 1)
    ]
    named_mask = NamedSource(mask.data, mask.filename or "mask") if mask else None
    # The mask is checked as it arrived, against the API's limit for masks (under 4 MB).
    problems, infos = validate_files(named, named_mask, schema, as_received=True)
    _raise_first(problems)
    first = infos[0]
    assert first is not None  # validate_files reported it otherwise
    for extra in named[1:]:
        _decode_check(lambda source=extra: probe_file(source, schema, deep=True), "image")

    output_format = values.get("output_format", "png")
    requested = values.get("background", "auto")
    transparent = requested == "transparent" or (
        requested == "auto" and first.has_alpha and output_format in ("png", "webp")
    )
    max_pixels = schema.files.max_pixels
    if named_mask is not None:
        warm_up_fills()  # the PatchMatch fill's child processes, while this request decodes
    # The mask decodes on another core while this thread decodes the image: at 4K each takes
    # a large share of the fill's time. Both go through the same header gate first.
    mask_job = (
        codec.background(
            lambda: codec.mask_alpha(named_mask.source, name=named_mask.name, max_pixels=max_pixels)
        )
        if named_mask is not None
        else None
    )
    pixels = _decode_check(
        lambda: codec.decode_pixels(
            named[0].source, name=named[0].name, max_pixels=max_pixels, alpha=first.has_alpha
        ),
        "image",
    )  # an image error is reported first; an abandoned mask decode just ends
    alpha = None if mask_job is None else _decode_check(mask_job.result, "mask")
    if first.has_alpha and not transparent:
        pixels = codec.flatten(pixels)
    elif transparent and pixels.shape[2] == 3:
        pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    hole = None
    if named_mask is not None and alpha is not None:
        hole = hole_from_alpha(alpha)
        if hole.all():
            raise EngineError(
                400,
                f"{named_mask.name}: every pixel of the mask is transparent, so there is "
                "nothing around the hole to fill it from (the local engine fills holes from "
                "their surroundings). Leave part of the mask opaque.",
                param="mask",
                code="mask_covers_image",
            )
    size = values.get("size", "auto")
    out_size = (first.width, first.height) if size == "auto" else parse_size(size)
    assert out_size is not None  # validate_values checked the size
    stream = bool(values.get("stream", False))
    png = None
    if output_format == "png" and out_size == (pixels.shape[1], pixels.shape[0]):
        # Rows without a hole pixel come out of every fill unchanged: their PNG strips are
        # encoded now, on a spare core, while the fill runs (see codec.PngRows).
        png = codec.PngRows(pixels, None if hole is None else hole.any(axis=1))
    return Edit(
        prompt=values["prompt"],
        model=model,
        n=values.get("n", 1),
        stream=stream,
        partials=(values.get("partial_images") or 0) if stream else 0,
        output_format=output_format,
        compression=values.get("output_compression"),
        background="transparent" if transparent else "opaque",
        pixels=pixels,
        hole=hole,
        out_size=out_size,
        input_sizes=tuple((info.width, info.height) for info in infos if info is not None),
        first_variant=first_variant,
        png=png,
    )


def edit_events(edit: Edit) -> list[Iterator[ImageEvent]]:
    """The request's work, lazily, one sequence per variant: its partial images (coarse to
    fine, if streaming), then its completed image. In a stream the first completed event
    carries the input tokens and later ones only their output, so the events' usage adds up
    to the request's. Called from the task that serves the request, the work stops (the
    sequences end early) soon after that task ends."""
    cancel = Cancel()
    bind_to_current_task(cancel)
    return [_variant_events(edit, index, cancel) for index in range(edit.n)]


def _variant_events(edit: Edit, index: int, cancel: Cancel) -> Iterator[ImageEvent]:
    try:
        yield from _stage_events(edit, index, cancel)
    except Cancelled:
        return  # nobody reads the rest


def _stage_events(edit: Edit, index: int, cancel: Cancel) -> Iterator[ImageEvent]:
    scales = partial_scales(edit.partials)
    chosen = variant(edit.first_variant + index)
    if edit.hole is None:
        stages = chosen.retouch.stages(edit.pixels, scales)
    else:
        stages = chosen.fill.stages(edit.pixels, edit.hole, scales, cancel)
    for stage, pixels in enumerate(stages):
        if edit.png is not None:
            data = edit.png.encode(pixels)
        else:
            data = codec.encode(
                codec.resize(pixels, *edit.out_size), edit.output_format, edit.compression
            )
        common: dict[str, Any] = {
            "variant": index,
            "output_format": edit.output_format,
            "size": edit.size_text,
        }
        if stage < len(scales):
            yield PartialImage(data=data, partial_index=stage, **common)
            continue
        cost = usage(
            prompt=edit.prompt,
            inputs=edit.input_sizes,
            outputs=[edit.out_size],
            partials=len(scales),
            count_input=index == 0,
        )
        yield CompletedImage(data=data, usage=cost, **common)


def _files(upload: Upload) -> tuple[list[FilePart], FilePart | None]:
    images = [part for part in upload.files if part.field in IMAGE_PARTS]
    masks = [part for part in upload.files if part.field == MASK_PART]
    for part in upload.files:
        if part.field not in (*IMAGE_PARTS, MASK_PART):
            raise EngineError(
                400,
                f"Unknown file part {part.field!r}; send images as image or image[] and the "
                "mask as mask.",
                param=part.field,
                code="unknown_parameter",
            )
        if part.content_type not in _ACCEPTED_TYPES:
            shown = part.content_type or "no content type"
            raise EngineError(
                400,
                f"{part.filename or part.field}: the part was sent as {shown}; send it with "
                "its image type (image/png, image/jpeg or image/webp).",
                param=part.field,
                code="unsupported_file_mimetype",
            )
    bare = sum(part.field == "image" for part in images)
    if bare > 1 or (bare and len(images) > bare):
        raise EngineError(
            400,
            "Duplicate parameter: 'image'. Send one image as image, or several as image[].",
            param="image",
            code="duplicate_parameter",
        )
    if len(masks) > 1:
        raise EngineError(
            400,
            "Duplicate parameter: 'mask'. Send one mask.",
            param="mask",
            code="duplicate_parameter",
        )
    return images, (masks[0] if masks else None)


def _values(upload: Upload, schema: Schema) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, text in upload.texts:
        if name in values:
            raise EngineError(
                400,
                f"Duplicate parameter: {name!r}. Send it once.",
                param=name,
                code="duplicate_parameter",
            )
        if name in (*IMAGE_PARTS, MASK_PART):
            raise EngineError(
                400,
                f"{name} was sent as text; send the image file itself as a file part.",
                param=name,
                code="invalid_value",
            )
        if not schema.has_field(name):
            values[name] = text  # validate_values reports it as unknown
            continue
        try:
            values[name] = schema.field(name).parse(text)
        except ValueError as exc:
            raise EngineError(400, f"{name}: {exc}.", param=name, code="invalid_value") from None
    return values


def _raise_first(problems: list[Problem]) -> None:
    if not problems:
        return
    first = problems[0]
    message = "; ".join(str(problem) for problem in problems)
    kind = "image_generation_user_error" if first.code in _USER_ERROR_CODES else None
    raise EngineError(
        400, message, param=first.field, code=first.code, type=kind or "invalid_request_error"
    )


def _decode_check(action: Callable[[], T], param: str) -> T:
    try:
        return action()
    except ImageFileError as exc:
        raise EngineError(400, str(exc), param=param, code=exc.code) from None
