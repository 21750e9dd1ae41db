"""Compare, drift and paste-back math for variants, with no Qt.

Images are (height, width, 3 or 4) uint8 arrays (RGB or RGBA, not premultiplied); the mask
is the document's coverage layer ((height, width) uint8, 255 = edit, see ``app.core.mask``).

GPT image models redraw the whole picture, whatever the mask says, and return fixed sizes.
So a result is first fitted to the original's size (``fit_to``), then either measured
against the original outside the mask (``drift_map``) or pasted back onto it through the
mask (``paste_alpha`` and ``paste_back``).

Paste-back guarantee: every pixel whose coverage is 0 (not painted at all) comes out
bit-identical to the original. The feather therefore lies *inside* the painted area: the
blend weight is 0 on the mask's outer edge and reaches the coverage ``feather_px`` pixels
inwards. A painted area narrower than twice the feather never reaches full strength.

Drift: a pixel outside the mask has changed visibly when its largest channel difference
exceeds ``DRIFT_THRESHOLD`` (12 of 255) both on its own and averaged over its 3x3
neighbourhood. The second condition makes the figure deaf to codec noise (re-encoding a photo
as JPEG at quality 85 leaves 1-12 % of its pixels over 12 on their own, under 1 % after
averaging) while a changed area is still counted up to its edge. The mask and a band of
``DRIFT_BAND_PX`` pixels around it are not measured, so the resampling blur of the edit
across the mask's edge is not counted as drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from app.core.imageio import ImageSource, decode_image
from app.core.mask import Box, check_mask, nonzero_box

DRIFT_THRESHOLD = 12
"""A max-channel difference above this (of 255, about 5 %) counts as visibly changed."""
DRIFT_BAND_PX = 2
"""Pixels this close to the mask are not measured for drift (resampling blur, the 3x3
average); a caller may widen it for a result that was enlarged a lot."""


def _check_image(image: np.ndarray, name: str) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(
            f"{name} must be an (H, W, 3) or (H, W, 4) uint8 image, "
            f"got {image.dtype} with shape {image.shape}"
        )


def _check_pair(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    _check_image(a, names[0])
    _check_image(b, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}; "
            "fit the variant to the original's size first (fit_to)"
        )


# --- difference -------------------------------------------------------------------------------


def _channel_max(diff: np.ndarray) -> np.ndarray:
    # Pairwise maxima of the channel planes are several times faster than ndarray.max(axis=2),
    # which reduces over the short innermost axis one pixel at a time.
    heat = np.maximum(diff[..., 0], diff[..., 1])
    for channel in range(2, diff.shape[2]):
        np.maximum(heat, diff[..., channel], out=heat)
    return heat


def difference_heat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel difference of two same-size images (H, W, 3|4) uint8 -> (H, W) uint8, 0 =
    identical, 255 = maximal: the largest |a - b| over the RGB channels, and over alpha when
    both images have one (a pixel turning transparent is a change too).

    The max over channels rather than a perceptual distance such as CIE ΔE: it is exact,
    cheap at 4K, and a change in a single channel (a colour cast, a red logo on grey)
    counts in full instead of being averaged away."""
    _check_image(a, "a")
    _check_image(b, "b")
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(
            f"a and b must have the same size, got {a.shape[1]}x{a.shape[0]} and "
            f"{b.shape[1]}x{b.shape[0]}; fit the variant to the original's size first (fit_to)"
        )
    channels = min(a.shape[2], b.shape[2])
    return _channel_max(cv2.absdiff(a[..., :channels], b[..., :channels]))


# Control points of the heat colour map: (heat, R, G, B, share of the way from the alpha
# floor to opaque). Grain and codec noise (1-4) stay a faint veil, so that a redraw that
# differs everywhere a little does not hide the picture; from the drift threshold on a
# change is clearly yellow, and large changes go through orange to red.
_HEAT_STOPS = np.array(
    [
        (0, 0, 0, 0, 0.0),
        (4, 120, 110, 0, 0.1),
        (12, 255, 230, 0, 0.6),
        (32, 255, 200, 0, 0.8),
        (96, 255, 120, 0, 0.95),
        (255, 255, 0, 0, 1.0),
    ],
    np.float64,
)


def heat_lut(alpha_floor: int = 0) -> np.ndarray:
    """The (256, 4) uint8 RGBA colour map that ``heat_to_rgba`` applies."""
    if not 0 <= alpha_floor <= 255:
        raise ValueError(f"alpha_floor must be within 0..255, got {alpha_floor}")
    levels = np.arange(256, dtype=np.float64)
    lut = np.empty((256, 4), np.float64)
    for channel in range(3):
        lut[:, channel] = np.interp(levels, _HEAT_STOPS[:, 0], _HEAT_STOPS[:, channel + 1])
    share = np.interp(levels, _HEAT_STOPS[:, 0], _HEAT_STOPS[:, 4])
    lut[:, 3] = alpha_floor + (255 - alpha_floor) * share
    return np.rint(lut).astype(np.uint8)


def heat_to_rgba(heat: np.ndarray, *, alpha_floor: int = 0) -> np.ndarray:
    """(H, W) uint8 heat -> (H, W, 4) uint8 RGBA colour map: transparent black for 0, then
    yellow, orange and red as the heat grows; not premultiplied. Zero heat gets alpha
    ``alpha_floor`` (255 gives an opaque black background for a standalone difference view)."""
    if heat.dtype != np.uint8 or heat.ndim != 2:
        raise ValueError(
            f"heat must be a 2-D uint8 array, got {heat.dtype} with shape {heat.shape}"
        )
    # One 32-bit lookup per pixel: indexing a uint32 view of the table is ~6x faster than
    # indexing the (256, 4) table row by row.
    lut = np.ascontiguousarray(heat_lut(alpha_floor)).view(np.uint32).reshape(256)
    return lut[heat].view(np.uint8).reshape(*heat.shape, 4)


# --- fitting fixed-size results ---------------------------------------------------------------


@dataclass(frozen=True)
class Fitted:
    """A result at the original's size; ``pixels`` is the variant itself (not a copy) when
    it already had that size."""

    pixels: np.ndarray  # (H, W, C) uint8 at the original's size
    scaled: bool  # True when the variant had another size and was resized
    source_size: tuple[int, int]  # (width, height) of the variant as received


def _interpolation(source: int, target: int) -> int:
    # Area averaging when shrinking (no aliasing), bicubic when enlarging (sharper than
    # bilinear; its overshoot is clamped by the uint8 saturation).
    return cv2.INTER_AREA if target <= source else cv2.INTER_CUBIC


def _resize(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    source_height, source_width = pixels.shape[:2]
    across = _interpolation(source_width, width)
    down = _interpolation(source_height, height)
    if across == down:
        return cv2.resize(pixels, (width, height), interpolation=across)
    # One axis shrinks while the other grows (a 3:2 result for a 2:1 original): each axis
    # gets its own filter, or the shrinking one aliases.
    wide = cv2.resize(pixels, (width, source_height), interpolation=across)
    return cv2.resize(wide, (width, height), interpolation=down)


def _resize_premultiplied(rgba: np.ndarray, width: int, height: int) -> np.ndarray:
    # Straight-alpha resampling drags the colour of invisible pixels into the visible edge
    # (dark fringes); resampling premultiplied colour does not.
    alpha = rgba[..., 3:].astype(np.float32)
    premultiplied = np.concatenate([rgba[..., :3] * (alpha / 255.0), alpha], axis=2)
    resized = _resize(premultiplied, width, height)
    out_alpha = np.clip(resized[..., 3:], 0.0, 255.0)
    colour = resized[..., :3] * (255.0 / np.maximum(out_alpha, 0.5))
    out = np.concatenate([np.clip(colour, 0.0, 255.0), out_alpha], axis=2)
    return np.rint(out).astype(np.uint8)


def fit_to(variant: np.ndarray, width: int, height: int) -> Fitted:
    """Resize a result to the original's size (the API returns fixed sizes such as 1024x1024
    or 1536x1024 whatever the input).

    A plain resize that stretches when the aspect ratios differ: the model draws the whole
    input scene into the frame it was asked for (the local engine stretches exactly so), so
    stretching it back lines it up with the original, where cropping or padding would shift
    it. Whatever misalignment remains shows in the drift map, which is what it is for."""
    _check_image(variant, "variant")
    if width <= 0 or height <= 0:
        raise ValueError(f"the target size must be positive, got {width}x{height}")
    source_height, source_width = variant.shape[:2]
    if (source_width, source_height) == (width, height):
        return Fitted(variant, False, (source_width, source_height))
    if variant.shape[2] == 4 and variant[..., 3].min() < 255:
        pixels = _resize_premultiplied(variant, width, height)
    else:
        pixels = _resize(variant, width, height)
    return Fitted(np.ascontiguousarray(pixels), True, (source_width, source_height))


def load_rgb(
    source: ImageSource, *, max_pixels: int, name: str | None = None, alpha: bool = False
) -> np.ndarray:
    """Decode an image file (path or bytes) to (H, W, 3) RGB, or (H, W, 4) RGBA with
    ``alpha``, after imageio's checks (ImageFileError names the file). Slow: never on the
    UI thread."""
    with decode_image(source, name=name, max_pixels=max_pixels) as image:
        converted: Image.Image = image.convert("RGBA" if alpha else "RGB")
        return np.array(converted)


# --- paste-back -------------------------------------------------------------------------------


# Float tables indexed by 8-bit levels: coverage / 255 and the smoothstep of ramp / 255.
# Both are exactly 0.0 at level 0 and exactly 1.0 at level 255, so their product is too.
_UNIT = (np.arange(256, dtype=np.float32) / np.float32(255)).reshape(1, 256)
_SMOOTHSTEP = (3.0 - 2.0 * _UNIT) * _UNIT * _UNIT


def paste_alpha(coverage: np.ndarray, feather_px: float) -> np.ndarray:
    """The blend weight (H, W) float32 in [0, 1] from the mask coverage: where to take the
    variant.

    The feather lies inside the painted area: the weight is the coverage (as 0..1) times a
    smoothstep ramp that starts at 0 on the outer edge of the painted area (coverage > 0)
    and reaches 1 ``feather_px`` pixels inwards. The weight is therefore 0 wherever the
    coverage is 0, and those pixels stay the original's after ``paste_back``. The picture's
    own border is no edge: a mask painted up to it stays at full strength there.
    ``feather_px`` 0 takes the coverage as it is."""
    check_mask(coverage)
    if not (math.isfinite(feather_px) and feather_px >= 0):
        raise ValueError(f"feather_px must be a finite number >= 0, got {feather_px}")
    height, width = coverage.shape
    weight = np.zeros((height, width), np.float32)
    # One pixel of margin so that the distance transform sees the unpainted pixels around
    # the mask; clipped at the picture's border, which is why that border is no edge.
    box = nonzero_box(coverage).expanded(1).clipped(width, height)
    if box.is_empty:
        return weight
    part = coverage[box.slices]
    if feather_px == 0:
        weight[box.slices] = cv2.LUT(part, _UNIT)
        return weight
    # numpy, not cv2.compare: OpenCV takes the scalar 0 for a 1x1 array and then refuses a
    # 1x1 ``part`` as being of another size.
    painted = (part > 0).view(np.uint8)
    # The 5x5 chamfer distance is within 2 % of the Euclidean one and several times faster
    # than the precise transform; a feather needs no better.
    distance = cv2.distanceTransform(painted, cv2.DIST_L2, 5)
    # With no unpainted pixel at all (the whole picture painted) every distance is
    # FLT_MAX, which overflows the scaling below; the ramp ends at feather_px anyway.
    np.minimum(distance, feather_px + 1, out=distance)
    # A painted pixel next to an unpainted one is at distance 1 and its outer edge at 0.5,
    # where the ramp starts. The ramp is quantised to 8 bits, finer than the images' own
    # steps, so that the smoothstep is a table lookup.
    ramp = cv2.convertScaleAbs(distance, alpha=255 / feather_px, beta=-127.5 / feather_px)
    weight[box.slices] = cv2.multiply(cv2.LUT(part, _UNIT), cv2.LUT(ramp, _SMOOTHSTEP))
    return weight


_STRIP = 32  # rows per strip when looking for the weight's extent
_GAP = 64  # a run of zero weight at least this wide splits a strip into two blends


def _runs(columns: np.ndarray) -> list[tuple[int, int]]:
    """Half-open runs covering the sorted column indices, joined across gaps under _GAP."""
    breaks = np.flatnonzero(np.diff(columns) > _GAP)
    starts = np.concatenate(([columns[0]], columns[breaks + 1]))
    ends = np.concatenate((columns[breaks], [columns[-1]])) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def weight_boxes(weight: np.ndarray) -> list[Box]:
    """Boxes (strips of up to 32 rows) that together hold every pixel of weight > 0;
    everything outside them has weight 0."""
    boxes = []
    height = weight.shape[0]
    for y0 in range(0, height, _STRIP):
        y1 = min(height, y0 + _STRIP)
        columns = np.flatnonzero(cv2.reduce(weight[y0:y1], 0, cv2.REDUCE_MAX)[0] > 0)
        if columns.size:
            boxes.extend(Box(x0, y0, x1, y1) for x0, x1 in _runs(columns))
    return boxes


def paste_back(original: np.ndarray, variant: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``original`` and ``variant`` (H, W, C) uint8 of the same shape (C 3 or 4) blended by
    ``weight`` ((H, W) float32 in [0, 1], from ``paste_alpha``) into a new uint8 image: the
    original where the weight is 0 (bit-exact), the variant where it is 1 (bit-exact), the
    rounded linear blend between (alpha too, for RGBA). Only the strips that hold weight > 0
    are computed; the rest is a copy of the original."""
    _check_pair(original, variant, ("original", "variant"))
    if weight.dtype != np.float32 or weight.shape != original.shape[:2]:
        raise ValueError(
            f"weight must be a float32 array of shape {original.shape[:2]} (the images' "
            f"height and width), got {weight.dtype} with shape {weight.shape}"
        )
    out = original.copy()
    for box in weight_boxes(weight):
        rows, cols = box.slices
        w = weight[rows, cols]
        # blendLinear rounds (v * w + o * (1 - w)) / (1 + 1e-5): with w exactly 0 or 1 the
        # 1e-5 moves a value by under 0.003, so it rounds back to the original's or the
        # variant's own value (the unit tests check this bit for bit).
        out[rows, cols] = cv2.blendLinear(variant[rows, cols], original[rows, cols], w, 1.0 - w)
    return out


# --- drift ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """How far a variant strayed from the original outside the mask."""

    heat: np.ndarray  # (H, W) uint8 difference_heat, 0 in the mask and the band around it
    share: float  # fraction of the measured pixels that changed visibly (0..1)
    threshold: int  # the max-channel difference counted as visibly changed (DRIFT_THRESHOLD)


def _measured(coverage: np.ndarray, band_px: int) -> np.ndarray:
    """255 where drift is measured: coverage 0 and farther than ``band_px`` from the mask."""
    height, width = coverage.shape
    measured = np.full((height, width), 255, np.uint8)
    box = nonzero_box(coverage).expanded(band_px).clipped(width, height)
    if box.is_empty:
        return measured
    painted = cv2.compare(coverage[box.slices], 0, cv2.CMP_GT)
    if band_px > 0:
        size = 2 * band_px + 1
        painted = cv2.dilate(painted, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    measured[box.slices] = cv2.bitwise_not(painted)
    return measured


def drift_map(
    original: np.ndarray,
    variant: np.ndarray,
    coverage: np.ndarray,
    *,
    band_px: int = DRIFT_BAND_PX,
) -> Drift:
    """How much a variant changed the original outside the mask (same sizes: ``fit_to``
    first). ``share`` is the fraction of the pixels outside the mask and its ``band_px``
    band whose difference exceeds ``DRIFT_THRESHOLD`` both on its own and averaged over 3x3
    (see the module's notes); 0.0 when no pixel is measured."""
    _check_pair(original, variant, ("original", "variant"))
    check_mask(coverage)
    if coverage.shape != original.shape[:2]:
        raise ValueError(
            f"the mask is {coverage.shape[1]}x{coverage.shape[0]} but the images are "
            f"{original.shape[1]}x{original.shape[0]}; they must be the same size"
        )
    if band_px < 0:
        raise ValueError(f"band_px must be >= 0, got {band_px}")
    measured = _measured(coverage, band_px)
    heat = cv2.bitwise_and(difference_heat(original, variant), measured)
    measured_count = cv2.countNonZero(measured)
    _, changed = cv2.threshold(heat, DRIFT_THRESHOLD, 255, cv2.THRESH_BINARY)
    box = nonzero_box(changed)
    if measured_count == 0 or box.is_empty:
        return Drift(heat, 0.0, DRIFT_THRESHOLD)
    # The 3x3 average only where something crossed the threshold, with a pixel of context
    # so that the box's own edge averages over real neighbours.
    height, width = heat.shape
    near = box.expanded(1).clipped(width, height)
    averaged = difference_heat(
        cv2.blur(original[near.slices], (3, 3)), cv2.blur(variant[near.slices], (3, 3))
    )
    _, steady = cv2.threshold(averaged, DRIFT_THRESHOLD, 255, cv2.THRESH_BINARY)
    visible = cv2.countNonZero(cv2.bitwise_and(changed[near.slices], steady))
    return Drift(heat, visible / measured_count, DRIFT_THRESHOLD)
