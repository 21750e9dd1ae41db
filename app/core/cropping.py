"""Crop to mask (issue 14), from the photo to the request and back: the files sent for a
planned region, each result put back into the region, and the drift measured there. Used
by ``retouch edit --crop-to-mask`` and the editor alike; no Qt.

The way through, once ``app.core.region`` has planned the region (``plan_for_coverage``):

1. ``prepare_crop(photo, coverage, plan, work_dir)``: the region of the photo's *working
   pixels* (upright 8-bit sRGB, what whole-image mode sends; ``working_pixels``) scaled
   to ``plan.output``, written as PNG (JPEG or WebP at quality 95 when the PNG would be
   over the API's byte limit; ``encode_crop``), with the region's mask at the same size
   as the API mask PNG; optionally the whole photo downscaled (``context_image``) as a
   second input image. The request then asks for ``size = plan.size``.
2. ``result_to_region(result, plan)``: each result (at the size sent, or any size) scaled
   to the region's size, area averaging where it shrinks and bicubic where it grows.
3. Kept at full resolution: ``app.core.original.paste.paste_region`` pastes it at the
   region's place in the original photo (its profile, depth and mode, exact wherever the
   feathered weight is 0) through ``region_weight``; ``paste_region_file`` does all of it
   from files. They are re-exported here.
4. ``sent_drift`` (at the size sent) or ``region_drift`` (at the photo's resolution): how
   much the result changed the picture inside the region, outside the mask (outside the
   region the pasted photo is the photo's own).
"""

from __future__ import annotations

import io
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.core.composite import DRIFT_BAND_PX, Drift, drift_map, fit_to
from app.core.imageio import write_atomic
from app.core.mask import check_mask, to_api_png
from app.core.original.paste import paste_region, paste_region_file, region_weight
from app.core.photo import (
    Prepared,
    display_pixels,
    needs_working_copy,
    open_photo,
    to_working_pixels,
)
from app.core.region import Rect, RegionPlan, crop, crop_mask, place_back
from app.core.schema import load_schema
from app.core.sending import JPEG_QUALITY, WEBP_QUALITY

CONTEXT_SIDE = 1024
"""The longest side of the whole photo sent for context: enough to see the scene, and few
input tokens (the editor and ``retouch edit --context-image`` alike)."""

__all__ = [
    "CONTEXT_SIDE",
    "CropFiles",
    "context_image",
    "drift_band",
    "encode_crop",
    "paste_region",
    "paste_region_file",
    "prepare_crop",
    "region_drift",
    "region_weight",
    "result_to_region",
    "sent_drift",
    "working_pixels",
]


@dataclass(frozen=True)
class CropFiles:
    """What crop to mask sends: ``image``, the region at ``size`` (the plan's output);
    ``mask``, the region's API mask PNG at the same size; ``context``, the whole photo
    downscaled, or None. ``pixels`` and ``coverage`` are the picture and the mask as sent
    ((h, w, 3|4) uint8 and (h, w) uint8 at ``size``), what ``sent_drift`` compares each
    result with."""

    image: Path
    mask: Path
    context: Path | None
    size: tuple[int, int]
    pixels: np.ndarray = field(repr=False)
    coverage: np.ndarray = field(repr=False)


def working_pixels(photo: Path, *, max_pixels: int | None = None) -> np.ndarray:
    """The photo as whole-image mode sends it: upright, 8-bit sRGB, (H, W, 3) RGB or
    (H, W, 4) RGBA uint8, decoded once (no working-copy file is written). ImageFileError
    names the file. Slow for a large photo: run it in a worker."""
    path = Path(photo)
    label = str(path)
    with open_photo(path, max_pixels=max_pixels) as image:
        if needs_working_copy(image, label):
            converted = to_working_pixels(image, label)
            return display_pixels(Prepared(path, converted, "PNG", converted.mode))
        fmt, mode = (image.format or "").upper(), image.mode
    return display_pixels(Prepared(path, None, fmt, mode), max_pixels=max_pixels)


def context_image(pixels: np.ndarray, max_side: int = CONTEXT_SIDE) -> np.ndarray:
    """The whole picture ((H, W, 3|4) uint8) scaled by one factor so that its longer side
    is at most ``max_side`` (area averaging); the picture itself when it is no larger."""
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    height, width = pixels.shape[:2]
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return fit_to(pixels, *size).pixels


def prepare_crop(
    photo: Path | np.ndarray,
    coverage: np.ndarray,
    plan: RegionPlan,
    work_dir: Path,
    *,
    max_bytes: int | None = None,
    context_side: int | None = None,
    max_pixels: int | None = None,
) -> CropFiles:
    """Write the files crop to mask sends for ``plan`` into ``work_dir``, under names no
    other run uses: the region of ``photo`` (its path, read with ``working_pixels``, or its
    working pixels already decoded) at ``plan.output``, and the region of ``coverage``
    ((H, W) uint8 at the photo's size, 255 = edit) at the same size as the API mask (a
    pixel is painted wherever any coverage lay under it, so no thin stroke is lost).
    ``max_bytes``: the API's per-file limit (default: the schema's); ``context_side``: also
    write the whole photo with that longer side (``context_image``). Slow for a large
    photo: run it in a worker."""
    pixels = working_pixels(photo, max_pixels=max_pixels) if isinstance(photo, Path) else photo
    check_mask(coverage)
    height, width = pixels.shape[:2]
    if coverage.shape != (height, width) or plan.photo != (width, height):
        raise ValueError(
            f"the photo is {width}x{height}, the mask {coverage.shape[1]}x{coverage.shape[0]} "
            f"and the plan was made for {plan.photo[0]}x{plan.photo[1]}; they must agree"
        )
    limit = load_schema().files.max_file_bytes if max_bytes is None else max_bytes
    work_dir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    sent = crop(pixels, plan.region, plan.output)
    data, suffix = encode_crop(sent, limit)
    image = write_atomic(work_dir / f"crop-{tag}{suffix}", data)
    sent_coverage = crop_mask(coverage, plan.region, plan.output)
    mask = write_atomic(work_dir / f"crop-mask-{tag}.png", to_api_png(sent_coverage))
    context = None
    if context_side is not None:
        data, suffix = encode_crop(context_image(pixels, context_side), limit)
        context = write_atomic(work_dir / f"context-{tag}{suffix}", data)
    return CropFiles(image, mask, context, plan.output, sent, sent_coverage)


def encode_crop(pixels: np.ndarray, max_bytes: int) -> tuple[bytes, str]:
    """A picture to send ((h, w, 3|4) uint8 sRGB) as PNG, by OpenCV with its own
    defaults (zlib level 1 with the run-length strategy: about half the time of Pillow's
    fastest PNG, for a file some 15 % larger; tests/benchmarks/bench_crop.py); over
    ``max_bytes``, as JPEG (opaque) or WebP (with alpha) at quality 95, as
    ``sending.encode_for_sending`` does. Returns the bytes and the extension."""
    code = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(pixels, code))
    if ok and encoded.size < max_bytes:
        return encoded.tobytes(), ".png"
    buffer = io.BytesIO()
    image = Image.fromarray(pixels)
    if pixels.shape[2] == 4:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY)
        return buffer.getvalue(), ".webp"
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), ".jpg"


def result_to_region(
    result: np.ndarray, plan: RegionPlan | Rect | tuple[int, int, int, int]
) -> np.ndarray:
    """A result ((h, w, 3|4) uint8 sRGB, at the size sent or any other) scaled to the
    region's size (``plan.region``, or a region given as x, y, w, h): area averaging on an
    axis that shrinks, bicubic on one that grows, premultiplied where it is transparent.
    Ready for ``paste_region`` and ``region_drift``."""
    region = plan.region if isinstance(plan, RegionPlan) else Rect(*(int(v) for v in plan))
    return place_back(result, region)


def drift_band(plan: RegionPlan) -> int:
    """The band around the mask that drift skips for this plan: ``DRIFT_BAND_PX``, widened
    by the blur of scaling a reduced region's result back up (about one region pixel per
    output pixel)."""
    if plan.scale >= 1:
        return DRIFT_BAND_PX
    return DRIFT_BAND_PX + math.ceil(1 / plan.scale) - 1


def sent_drift(files: CropFiles, result: np.ndarray, *, band_px: int = DRIFT_BAND_PX) -> Drift:
    """How much a result changed what was sent, outside the mask sent: ``drift_map`` of
    the result (scaled to the size sent if it came back at another) against
    ``files.pixels``, outside ``files.coverage``. The region's drift measured at the size
    sent, where nothing has been resampled yet; ``region_drift`` measures it at the
    photo's resolution."""
    width, height = files.size
    channels = min(files.pixels.shape[2], result.shape[2])
    fitted = fit_to(result, width, height).pixels
    return drift_map(
        np.ascontiguousarray(files.pixels[..., :channels]),
        np.ascontiguousarray(fitted[..., :channels]),
        files.coverage,
        band_px=band_px,
    )


def region_drift(
    photo_region: np.ndarray,
    placed: np.ndarray,
    coverage: np.ndarray,
    region: Rect | tuple[int, int, int, int],
    *,
    band_px: int = DRIFT_BAND_PX,
) -> Drift:
    """How much a result changed the picture inside ``region``, outside the mask:
    ``composite.drift_map`` of ``placed`` (the result at the region's size,
    ``result_to_region``) against ``photo_region`` (the working pixels of the region, or
    the whole working picture, which is then cut to the region), with ``coverage`` the
    photo's whole (H, W) layer. ``share`` is the part of the region's pixels outside the
    mask (and its ``band_px`` band) that changed visibly; ``heat`` is the region's.
    Outside the region a pasted photo is the photo's own, so this is all the drift there
    is to see. A reduced region's result is blurred by its scaling back: widen ``band_px``
    to ``drift_band(plan)``."""
    check_mask(coverage)
    height, width = coverage.shape
    rect = Rect(*(int(v) for v in region))
    if rect.is_empty or not Rect.of_size((width, height)).contains(rect):
        raise ValueError(f"the region {rect} is not inside the {width}x{height} mask")
    if photo_region.shape[:2] == (height, width) and rect.size != (width, height):
        photo_region = photo_region[rect.slices]
    if photo_region.shape[:2] != (rect.height, rect.width):
        raise ValueError(
            f"the picture is {photo_region.shape[1]}x{photo_region.shape[0]}; give the "
            f"region's {rect.width}x{rect.height} pixels or the whole {width}x{height} picture"
        )
    channels = min(photo_region.shape[2], placed.shape[2])
    if placed.shape[:2] != photo_region.shape[:2]:
        placed = fit_to(placed, rect.width, rect.height).pixels
    return drift_map(
        np.ascontiguousarray(photo_region[..., :channels]),
        np.ascontiguousarray(placed[..., :channels]),
        np.ascontiguousarray(coverage[rect.slices]),
        band_px=band_px,
    )
