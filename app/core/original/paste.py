"""Pasting an sRGB result into the original photo through the feathered mask, at the
photo's own depth and in its own colour space."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from app.core.composite import fit_to, load_rgb, paste_alpha, weight_boxes
from app.core.mask import Box, read_mask
from app.core.original.colour import srgb_into
from app.core.original.reading import Original, read_original
from app.core.original.writing import EXTENSIONS, lossless_format, write_original

DEFAULT_FEATHER_PX = 4
"""The editor's default feather (app.models.settings.FEATHER_PX; a test keeps them equal),
here so that the CLI does not import the editor's Qt models for it."""
_STRIP = 32  # rows per strip when the whole picture is converted (no mask)


def _check(original: Original, result: np.ndarray, weight: np.ndarray | None) -> None:
    width, height = original.size
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
    convert = srgb_into(original, label)
    out = original.pixels.copy()
    planes = out if out.ndim == 3 else out[..., None]  # grey as one plane, a view
    colours = original.colour_channels
    peak = np.float32(65535 if original.bits == 16 else 255)
    boxes = weight_boxes(weight) if weight is not None else _strips(*original.size)
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
        planes[rows, cols] = blended.astype(out.dtype)
    return out


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
