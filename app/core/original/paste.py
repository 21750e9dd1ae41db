"""Pasting an sRGB result into the original photo through the feathered mask, at the
photo's own depth and in its own colour space: a result at the photo's size
(``paste_into``), or one at the size of a region of it (``paste_region``, crop to mask),
whose blend weight ``region_weight`` computes from the region and a margin only."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from app.core.composite import fit_to, load_rgb, paste_alpha, weight_boxes
from app.core.mask import Box, check_mask, read_mask
from app.core.original.colour import Convert, srgb_into
from app.core.original.reading import Original, read_original
from app.core.original.writing import EXTENSIONS, lossless_format, write_original
from app.core.region import Rect, place_back

DEFAULT_FEATHER_PX = 4
"""The editor's default feather (app.models.settings.FEATHER_PX; a test keeps them equal),
here so that the CLI does not import the editor's Qt models for it."""
_STRIP = 32  # rows per strip when the whole picture is converted (no mask)


def _check(
    original: Original,
    result: np.ndarray,
    weight: np.ndarray | None,
    size: tuple[int, int] | None = None,
) -> None:
    width, height = size or original.size
    if result.dtype != np.uint8 or result.ndim != 3 or result.shape[2] not in (3, 4):
        raise ValueError(
            f"the result must be an (H, W, 3) or (H, W, 4) uint8 sRGB image, got "
            f"{result.dtype} with shape {result.shape}"
        )
    if result.shape[:2] != (height, width):
        raise ValueError(
            f"the result is {result.shape[1]}x{result.shape[0]} but the photo is "
            f"{width}x{height}; fit it to the photo's size first (composite.fit_to)"
        )
    if weight is not None and (weight.dtype != np.float32 or weight.shape != (height, width)):
        raise ValueError(
            f"weight must be a float32 array of shape {(height, width)}, got "
            f"{weight.dtype} with shape {weight.shape}"
        )


def _strips(width: int, height: int) -> Iterator[Box]:
    for y0 in range(0, height, _STRIP):
        yield Box(0, y0, width, min(height, y0 + _STRIP))


def _paste(
    original: Original, result: np.ndarray, weight: np.ndarray | None, label: str = "the photo"
) -> np.ndarray:
    _check(original, result, weight)
    out = original.pixels.copy()
    planes = out if out.ndim == 3 else out[..., None]  # grey as one plane, a view
    _blend(original, planes, result, weight, srgb_into(original, label))
    return out


def _blend(
    original: Original,
    planes: np.ndarray,
    result: np.ndarray,
    weight: np.ndarray | None,
    convert: Convert,
) -> None:
    """``result`` (sRGB, the size of ``planes``) converted and blended into ``planes`` (a
    view of the photo's pixels with a channel axis, or of a region of them), in place."""
    colours = original.colour_channels
    peak = np.float32(65535 if original.bits == 16 else 255)
    height, width = result.shape[:2]
    boxes = weight_boxes(weight) if weight is not None else _strips(width, height)
    # Box by box (strips of up to 32 rows): only the pixels near the mask are converted,
    # and no float copy of the whole photo is ever made.
    for box in boxes:
        rows, cols = box.slices
        target = np.empty(planes[rows, cols].shape, np.float32)
        target[..., :colours] = convert(result[rows, cols, :3])
        if original.has_alpha:  # the result's alpha, opaque when it has none
            alpha = result[rows, cols, 3] if result.shape[2] == 4 else np.uint8(255)
            target[..., colours] = np.float32(alpha) * (peak / 255)
        if weight is None:
            blended = target
        else:
            # o + (t - o) * w in float32: exactly o where w == 0 (every value of 16 bits is
            # exact in float32) and t where w == 1, the linear blend between.
            blended = planes[rows, cols].astype(np.float32)
            blended += (target - blended) * weight[rows, cols][..., None]
        np.clip(np.rint(blended, out=blended), 0, peak, out=blended)
        planes[rows, cols] = blended.astype(planes.dtype)


def paste_into(original: Original, result_srgb: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``result_srgb`` ((H, W, 3|4) uint8 sRGB at the photo's upright size, see
    composite.fit_to) pasted into the photo through ``weight`` ((H, W) float32 in [0, 1],
    from composite.paste_alpha). Returns pixels in the photo's mode and depth: exactly the
    photo's where the weight is 0; inside, the result converted into the photo's colour
    space and depth, blended at that depth and rounded. An alpha channel is kept outside
    and blended with the result's (opaque when it has none) inside."""
    return _paste(original, result_srgb, weight)


def convert_whole(original: Original, result_srgb: np.ndarray) -> np.ndarray:
    """The whole result converted into the photo's mode, depth and colour space (no mask),
    strip by strip."""
    return _paste(original, result_srgb, None)


def _rect(region: Rect | tuple[int, int, int, int], size: tuple[int, int]) -> Rect:
    rect = Rect(*(int(v) for v in region))
    if rect.is_empty or not Rect.of_size(size).contains(rect):
        raise ValueError(f"the region {rect} is not inside the {size[0]}x{size[1]} photo")
    return rect


def region_weight(
    coverage: np.ndarray, region: Rect | tuple[int, int, int, int], feather_px: float
) -> np.ndarray:
    """The blend weight of ``region`` (x, y, w, h): ``composite.paste_alpha(coverage,
    feather_px)[region.slices]``, the same values, computed on the region and a margin of
    the feather plus two pixels only (a few milliseconds at 48 MP, with no full-size
    array). Around a region whose border is the mask's own edge (crop to mask with
    padding 0) the feather therefore still starts at that edge, where ``paste_alpha`` of
    the cropped coverage alone would take the crop's border for the picture's and paste
    at full strength up to it. ``coverage``: the (H, W) uint8 layer at the photo's size."""
    check_mask(coverage)
    height, width = coverage.shape
    rect = _rect(region, (width, height))
    if not (math.isfinite(feather_px) and feather_px >= 0):
        raise ValueError(f"feather_px must be a finite number >= 0, got {feather_px}")
    # The feather's distance transform sees at most feather + 1 pixels (paste_alpha clamps
    # it there) and its chamfer distance is never below the chessboard one: a margin of
    # feather + 2 holds every pixel that can decide a weight inside the region.
    window = rect.expanded(math.ceil(feather_px) + 2).intersect(Rect.of_size((width, height)))
    weight = paste_alpha(coverage[window.slices], feather_px)
    x, y = rect.x - window.x, rect.y - window.y
    return np.ascontiguousarray(weight[y : y + rect.height, x : x + rect.width])


def paste_region(
    original: Original,
    result_srgb: np.ndarray,
    region: Rect | tuple[int, int, int, int],
    weight: np.ndarray,
    *,
    out: np.ndarray | None = None,
    label: str = "the photo",
) -> np.ndarray:
    """``result_srgb`` ((h, w, 3|4) uint8 sRGB at the ``region``'s size, see
    ``app.core.cropping.result_to_region``) pasted into the photo at the region's place
    through ``weight`` ((h, w) float32, ``region_weight``), as ``paste_into`` pastes a
    whole-size result: converted into the photo's colour space and depth, blended there
    and rounded; exactly the photo's where the weight is 0, and everywhere outside the
    region. Works in the region, strip by strip; the only full-size array is the copy of
    the photo's pixels returned. With ``out`` there is none: ``out`` holds the photo's
    pixels (``original.pixels`` itself, to paste in place; or an earlier paste), its
    region is blended with the result, and it is returned."""
    width, height = original.size
    rect = _rect(region, (width, height))
    if result_srgb.ndim == 3 and result_srgb.shape[:2] != (rect.height, rect.width):
        raise ValueError(
            f"the result is {result_srgb.shape[1]}x{result_srgb.shape[0]} but the region is "
            f"{rect.width}x{rect.height}; scale it to the region first "
            "(app.core.cropping.result_to_region)"
        )
    _check(original, result_srgb, weight, rect.size)
    if out is None:
        out = original.pixels.copy()
    elif out.shape != original.pixels.shape or out.dtype != original.pixels.dtype:
        raise ValueError(
            f"out must be a {original.pixels.dtype} array of shape {original.pixels.shape}, "
            f"got {out.dtype} {out.shape}"
        )
    planes = out if out.ndim == 3 else out[..., None]
    _blend(original, planes[rect.slices], result_srgb, weight, srgb_into(original, label))
    return out


def _pasted_path(result: Path, target: Path, fmt: str) -> Path:
    if target.is_dir():
        return target / f"{result.stem}-pasted{EXTENSIONS[fmt]}"
    return target.with_suffix(EXTENSIONS[fmt])


def paste_back_file(
    original_path: Path,
    result_path: Path,
    mask_path: Path | None,
    feather_px: float,
    target: Path,
    *,
    max_pixels: int,
) -> Path:
    """The result at ``result_path`` pasted onto the photo at ``original_path`` (see
    ``pasted_pixels``), written losslessly (PNG, or TIFF for CMYK) with the photo's
    profile, depth and EXIF. ``target`` is a folder (the file is then named
    ``<result stem>-pasted.png`` or ``.tif``) or a file name whose suffix is set to the
    format's. Returns the path written. Slow for a large photo: run it in a worker."""
    pixels, original = pasted_pixels(
        original_path, result_path, mask_path, feather_px, max_pixels=max_pixels
    )
    fmt = lossless_format(original)
    return write_original(_pasted_path(Path(result_path), Path(target), fmt), pixels, original, fmt)


def pasted_pixels(
    original_path: Path,
    result_path: Path,
    mask_path: Path | None,
    feather_px: float,
    *,
    max_pixels: int,
) -> tuple[np.ndarray, Original]:
    """The result at ``result_path`` pasted onto the photo at ``original_path`` through
    the API mask at ``mask_path`` (transparent = edited, at the photo's upright size),
    feathered ``feather_px`` pixels inwards, in the photo's mode, depth and colour space;
    without a mask, the whole result converted into the photo's space. Returns the pixels
    and the photo they belong to. Slow for a large photo: run it in a worker."""
    original = read_original(Path(original_path), max_pixels=max_pixels)
    width, height = original.size
    result = load_rgb(Path(result_path), max_pixels=max_pixels, alpha=original.has_alpha)
    fitted = fit_to(result, width, height).pixels
    weight = None
    if mask_path is not None:
        coverage = read_mask(Path(mask_path), (width, height), mode="alpha", max_pixels=max_pixels)
        weight = paste_alpha(coverage, feather_px)
    return _paste(original, fitted, weight, str(original_path)), original


def paste_region_file(
    original_path: Path,
    result_path: Path,
    mask: Path | np.ndarray,
    region: Rect | tuple[int, int, int, int],
    feather_px: float,
    target: Path,
    *,
    max_pixels: int,
) -> Path:
    """Crop to mask's ``paste_back_file``: the result at ``result_path`` (the model's image
    for ``region``, at the size sent) scaled to the region and pasted at its place in the
    photo at ``original_path`` through the feathered mask, written losslessly (PNG, or
    TIFF for CMYK) at the photo's full size with its profile, depth and EXIF. ``mask`` is
    the API mask file at the photo's upright size, or its coverage layer ((H, W) uint8,
    255 = edit) already read. ``target``: as for ``paste_back_file``. Every painted pixel
    must lie inside the region (``plan_for_coverage`` plans it so); outside it nothing
    changes. Slow for a large photo: run it in a worker."""
    original = read_original(Path(original_path), max_pixels=max_pixels)
    width, height = original.size
    rect = _rect(region, (width, height))
    if isinstance(mask, np.ndarray):
        coverage = mask
    else:
        coverage = read_mask(Path(mask), (width, height), mode="alpha", max_pixels=max_pixels)
    if coverage.shape != (height, width):
        raise ValueError(
            f"the mask is {coverage.shape[1]}x{coverage.shape[0]} but the photo is {width}x{height}"
        )
    result = load_rgb(Path(result_path), max_pixels=max_pixels, alpha=original.has_alpha)
    placed = place_back(result, rect)
    weight = region_weight(coverage, rect, feather_px)
    # The photo was read for this paste alone: its own pixels take the result in place
    # (unless the decoder handed them over read-only).
    own = original.pixels if original.pixels.flags.writeable else None
    pixels = paste_region(original, placed, rect, weight, out=own, label=str(original_path))
    fmt = lossless_format(original)
    return write_original(_pasted_path(Path(result_path), Path(target), fmt), pixels, original, fmt)
