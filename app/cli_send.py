"""What ``retouch edit`` sends for its images, and what comes back for a region.

Every ``--image`` is sent as its upright 8-bit sRGB working copy (``working_copies``). The
first one is then sent whole, scaled when it is over the API's limits (``fit_first``), or,
with ``--crop-to-mask``, as the region around the mask at a size the model accepts
(``crop_first``, app.core.region and app.core.cropping): the request's ``size`` asks for
exactly that size, each result is measured for drift inside the region, and
``--paste-back`` puts it back into the full-resolution photo (``Cropped.paste``).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.cli_report import Reporter
from app.core.composite import load_rgb
from app.core.cropping import (
    CONTEXT_SIDE,
    CropFiles,
    paste_region_file,
    prepare_crop,
    sent_drift,
    working_pixels,
)
from app.core.imageio import ImageFileError
from app.core.limits import open_pixel_limit
from app.core.mask import read_mask
from app.core.photo import working_copy
from app.core.region import RegionPlan, plan_for_coverage
from app.core.schema import Schema
from app.core.validation import NamedSource, Problem

CROP_FLAGS = ("--padding", "--context-image", "--allow-experimental-size")


def _warn(message: str) -> None:
    print(f"retouch: {message}", file=sys.stderr, flush=True)


# --- the flags ------------------------------------------------------------------------------


def add_crop_flags(edit: argparse.ArgumentParser) -> None:
    crop = edit.add_argument_group("crop to mask")
    crop.add_argument(
        "--crop-to-mask",
        action="store_true",
        help="send only the region around the --mask (with context around it) at a size "
        "the model accepts, and ask for exactly that size: a small edit in a large photo "
        "keeps the model's full detail. Combine with --paste-back for the full-resolution "
        "photo",
    )
    crop.add_argument(
        "--padding",
        type=_padding,
        default=None,
        metavar="PX",
        help="with --crop-to-mask: context on each side of the mask, in photo pixels "
        "(default: the larger of 1/16 of the photo's longer side and half the mask's mean "
        "side, at least 32)",
    )
    crop.add_argument(
        "--context-image",
        action="store_true",
        help=f"with --crop-to-mask: also send the whole photo, {CONTEXT_SIDE} px on its "
        "longer side, as a second input image (costs input tokens)",
    )
    crop.add_argument(
        "--allow-experimental-size",
        action="store_true",
        help="with --crop-to-mask and gpt-image-2: sizes above 2560x1440 (up to 3840x2160), "
        "which OpenAI marks experimental",
    )


def pixels_argument(text: str, *, whole: bool = False, example: float = 256) -> float:
    """An argparse type: a number of pixels, 0 or more (a whole number if ``whole``)."""
    kind = "whole number" if whole else "number"
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a {kind} of pixels; give one such as {example:g}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} pixels: give 0 or more pixels")
    return value


def _padding(text: str) -> int:
    return int(pixels_argument(text, whole=True))


def check_crop_flags(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Refuse (exit 2, as argparse does) crop flags that cannot apply."""
    if not args.crop_to_mask:
        given = [
            flag
            for flag in CROP_FLAGS
            if getattr(args, flag[2:].replace("-", "_")) not in (None, False)
        ]
        if given:
            parser.error(f"argument {given[0]}: only with --crop-to-mask")
    elif args.mask is None:
        parser.error(
            "argument --crop-to-mask: needs --mask (the region sent is planned around the "
            "painted area)"
        )


# --- the whole first image ------------------------------------------------------------------


def working_copies(
    images: list[Path], work_dir: Path, max_pixels: int
) -> tuple[list[NamedSource], list[Problem]]:
    """What is sent for each --image (the file itself, or its working copy, named as the
    designer's file), and the problems of the images that could not be opened."""
    sources, problems = [], []
    for path in images:
        try:
            copy = working_copy(path, work_dir, max_pixels=max_pixels)
        except ImageFileError as exc:
            problems.append(Problem("image", str(exc), file=str(path), code=exc.code))
            copy = path
        sources.append(NamedSource(copy, str(path)))
    return sources, problems


def fit_first(
    sources: list[NamedSource], mask: Path | None, schema: Schema, work_dir: Path, report: Reporter
) -> tuple[list[NamedSource], Path | None, list[Problem]]:
    """A first image over the API's limits is sent scaled, with its mask scaled to match
    (app.core.sending); the mask given is in the photo's upright coordinates."""
    from PIL import Image

    from app.core.sending import fit_for_sending

    first = sources[0]
    path = Path(first.source)
    files = schema.files
    try:
        with Image.open(path) as header:
            size = header.size
    except (OSError, Image.DecompressionBombError):
        return sources, mask, []  # validation names the problem
    if size[0] * size[1] <= files.max_pixels and path.stat().st_size < files.max_file_bytes:
        return sources, mask, []
    coverage = None
    try:
        if mask is not None:
            coverage = read_mask(mask, size, mode="alpha", max_pixels=open_pixel_limit())
        sent = fit_for_sending(
            path, coverage, work_dir, max_pixels=files.max_pixels, max_bytes=files.max_file_bytes
        )
    except ImageFileError as exc:
        field_name = "mask" if coverage is None and mask is not None else "image"
        named = str(mask) if field_name == "mask" else first.name
        return sources, mask, [Problem(field_name, str(exc), file=named)]
    report.scaled(first.name, size, sent.size)
    return [NamedSource(sent.image, first.name), *sources[1:]], sent.mask, []


# --- crop to mask ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cropped:
    """The region sent for the first image: its plan, the files, and the photo's whole
    coverage layer (for drift and paste-back)."""

    photo: Path  # the designer's file
    plan: RegionPlan
    files: CropFiles
    coverage: np.ndarray

    def drift(self, result: Path) -> float | None:
        """The share of the pixels sent, outside the mask sent, that the result changed
        visibly (None when the result cannot be read)."""
        try:
            pixels = load_rgb(result, max_pixels=open_pixel_limit())
        except ImageFileError:
            return None
        return sent_drift(self.files, pixels).share

    def paste(self, result: Path, feather: float) -> Path:
        """``<result>-pasted.png`` (or .tif) beside the result: the result scaled to the
        region and pasted there into the full-resolution photo through the mask."""
        return paste_region_file(
            self.photo, result, self.coverage, self.plan.region, feather, result.parent,
            max_pixels=open_pixel_limit(),
        )  # fmt: skip


def crop_first(
    args: argparse.Namespace,
    values: dict[str, Any],
    schema: Schema,
    work_dir: Path,
    report: Reporter,
) -> tuple[Cropped | None, list[Problem]]:
    """Plan the region around ``--mask`` for the model in ``values``, write the crop, its
    mask (and the context image) into ``work_dir`` and report the plan; ``values["size"]``
    becomes the size sent. None and the problems when it cannot be done."""
    first, mask = Path(args.image[0]), Path(args.mask)
    limit = open_pixel_limit()
    try:
        pixels = working_pixels(first, max_pixels=limit)
    except ImageFileError as exc:
        return None, [Problem("image", str(exc), file=str(first), code=exc.code)]
    height, width = pixels.shape[:2]
    try:
        coverage = read_mask(mask, (width, height), mode="alpha", max_pixels=limit)
    except ImageFileError as exc:
        return None, [Problem("mask", str(exc), file=str(mask), code=exc.code)]
    files = schema.files
    try:
        plan = plan_for_coverage(
            coverage,
            schema.rules_for(values.get("model")),
            padding=args.padding,
            allow_experimental=args.allow_experimental_size,
            max_pixels=files.max_pixels,
        )
    except ValueError as exc:  # a model with no size to crop to
        return None, [Problem("model", f"--crop-to-mask: {exc}.")]
    if plan is None:
        return None, [
            Problem(
                "mask",
                f"{mask}: no pixel is marked for editing (transparent: alpha under 128), so "
                "--crop-to-mask has no region to send; paint the area to change.",
                file=str(mask),
            )
        ]
    asked = values.get("size")
    if asked not in (None, "auto", plan.size):
        return None, [
            Problem(
                "size",
                f"--size {asked}: --crop-to-mask asks for exactly the size it sends, "
                f"{plan.size} for this mask and model; leave --size out.",
            )
        ]
    side = CONTEXT_SIDE if args.context_image else None
    sent = prepare_crop(pixels, coverage, plan, work_dir, max_bytes=files.max_file_bytes,
                        context_side=side)  # fmt: skip
    values["size"] = plan.size
    report.cropped(str(first), plan, context=sent.context is not None)
    return Cropped(first, plan, sent, coverage), []


def crop_sources(cropped: Cropped, rest: list[NamedSource]) -> tuple[list[NamedSource], Path]:
    """The images and mask sent for a region: the crop, the context image, the others."""
    name = str(cropped.photo)
    sources = [NamedSource(cropped.files.image, name)]
    if cropped.files.context is not None:
        sources.append(NamedSource(cropped.files.context, f"{name} (whole, for context)"))
    return [*sources, *rest], cropped.files.mask
