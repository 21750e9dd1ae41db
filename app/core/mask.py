"""The edit mask's pixel math, with no Qt: coverage, brush dabs and strokes, shape fills,
whole-mask operations, and conversion to and from the API's mask PNG.

The mask is a coverage layer: a (height, width) uint8 array the size of the first input
image, 0 = keep, 255 = fully painted (edit). Soft brushes and feathering leave partial
coverage, which is kept for pasting results back through a soft edge.

Conventions
- Pixel (x, y) covers [x, x+1) x [y, y+1) in image coordinates; its centre is (x+0.5, y+0.5).
  Points given to dabs and shapes are image coordinates (the canvas's scene coordinates).
- Every operation reports the box it touched (``Box``, half-open) so that undo can keep only
  those pixels and the canvas can repaint only that rectangle.
- Operations other than strokes do not modify the mask: they return an ``Edit`` (the box and
  its new pixels) that the caller applies with ``apply``. The undo model needs the old pixels
  before they are overwritten, and a pure function is easy to test.

Accumulation (as in Photoshop and Krita): within one stroke, dabs combine by *max* into a
stroke layer, so overlapping dabs never exceed the brush opacity and the spacing of the
dabs does not show; the stroke layer is then composited *over* the pixels the stroke started
from (painting: b + (255 - b) * a, erasing: b * (1 - a), a = layer * opacity). Two strokes
at 50 % therefore build up to 75 %, like two passes of an airbrush.

API export rule: the OpenAI-compatible endpoints treat only alpha 0 as "edit", and any other
alpha as "keep". The export is thresholded: coverage >= 128 (at least half painted) becomes
alpha 0, everything else alpha 255. A soft edge is edited where it is at least half painted;
the graded coverage itself stays in the document for paste-back compositing.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import cv2
import numpy as np
from PIL import Image

from app.core.imageio import ImageFileError, ImageSource, decode_image
from app.core.schema import load_schema

FULL = 255
EDIT_THRESHOLD = 128
"""Coverage at or above this exports as alpha 0 (edit)."""

MaskSource = Literal["auto", "alpha", "white", "black"]
"""How to read a mask file: ``alpha`` = API mask (transparent = edit), ``white`` / ``black``
= a greyscale picture whose white / black means edit, ``auto`` = ``alpha`` when the file has
an alpha channel, else ``white``."""


class MaskSizeError(ImageFileError):
    """A mask file whose size differs from the image's; it may be scaled on request."""


_TILE = 64  # stroke undo granularity: a diagonal stroke keeps tiles, not its whole bbox


@dataclass(frozen=True)
class Box:
    """A half-open pixel rectangle [x0, x1) x [y0, y1); empty when x1 <= x0 or y1 <= y0."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def empty(cls) -> Box:
        return cls(0, 0, 0, 0)

    @classmethod
    def of_size(cls, width: int, height: int) -> Box:
        return cls(0, 0, width, height)

    @property
    def width(self) -> int:
        return max(0, self.x1 - self.x0)

    @property
    def height(self) -> int:
        return max(0, self.y1 - self.y0)

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def is_empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def union(self, other: Box) -> Box:
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def intersect(self, other: Box) -> Box:
        box = Box(
            max(self.x0, other.x0),
            max(self.y0, other.y0),
            min(self.x1, other.x1),
            min(self.y1, other.y1),
        )
        return Box.empty() if box.is_empty else box

    def clipped(self, width: int, height: int) -> Box:
        return self.intersect(Box.of_size(width, height))

    def expanded(self, pixels: int) -> Box:
        if self.is_empty:
            return self
        return Box(self.x0 - pixels, self.y0 - pixels, self.x1 + pixels, self.y1 + pixels)

    def translated(self, dx: int, dy: int) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


class Edit(NamedTuple):
    """The result of an operation: the box it touches and the new pixels of that box."""

    box: Box
    pixels: np.ndarray


@dataclass(frozen=True)
class Brush:
    """A round brush. ``radius`` in image pixels; ``hardness`` 0..1 is the part of the radius
    painted at full strength (the rest fades out smoothly); ``opacity`` 0..1 caps what one
    stroke adds; ``spacing`` is the distance between dabs as a fraction of the diameter."""

    radius: float
    hardness: float = 0.8
    opacity: float = 1.0
    spacing: float = 0.1

    def __post_init__(self) -> None:
        if not self.radius > 0:
            raise ValueError(f"brush radius must be positive, got {self.radius}")
        if not 0.0 <= self.hardness <= 1.0:
            raise ValueError(f"brush hardness must be within 0..1, got {self.hardness}")
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"brush opacity must be within 0..1, got {self.opacity}")
        if not 0.0 < self.spacing <= 1.0:
            raise ValueError(f"brush spacing must be within (0, 1], got {self.spacing}")


def new_mask(width: int, height: int) -> np.ndarray:
    return np.zeros((height, width), np.uint8)


def check_mask(mask: np.ndarray) -> None:
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise ValueError(f"a mask is a 2-D uint8 array, got {mask.dtype} with shape {mask.shape}")


def nonzero_box(mask: np.ndarray) -> Box:
    """The smallest box holding every non-zero pixel (empty for an empty mask)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return Box.empty()
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def changed_box(old: np.ndarray, new: np.ndarray, offset: Box | None = None) -> Box:
    """The box of the pixels that differ between two same-shaped arrays, in the coordinates of
    ``offset`` (the box the arrays were cut from)."""
    box = nonzero_box((old != new).view(np.uint8))
    if offset is None or box.is_empty:
        return box
    return box.translated(offset.x0, offset.y0)


def apply(mask: np.ndarray, edit: Edit) -> Box:
    """Write an edit into the mask and return the box it touched."""
    if not edit.box.is_empty:
        mask[edit.box.slices] = edit.pixels
    return edit.box


# --- brush ----------------------------------------------------------------------------


def dab_box(x: float, y: float, radius: float, width: int, height: int) -> Box:
    reach = radius + 0.5
    box = Box(
        math.floor(x - reach), math.floor(y - reach), math.ceil(x + reach), math.ceil(y + reach)
    )
    return box.clipped(width, height)


def dab_coverage(
    x: float, y: float, radius: float, hardness: float, width: int, height: int
) -> tuple[Box, np.ndarray]:
    """One round dab centred on (x, y): its box in the image and its coverage there (float32,
    0..1). Full strength inside ``radius * hardness``, then a smoothstep down to 0 at
    ``radius``; a hard brush still gets a one-pixel anti-aliased rim centred on ``radius``."""
    box = dab_box(x, y, radius, width, height)
    if box.is_empty:
        return box, np.zeros((0, 0), np.float32)
    inner, outer = radius * hardness, radius
    if outer - inner < 1.0:
        inner, outer = radius - 0.5, radius + 0.5
    xs = np.arange(box.x0, box.x1, dtype=np.float32) + np.float32(0.5 - x)
    ys = np.arange(box.y0, box.y1, dtype=np.float32) + np.float32(0.5 - y)
    distance = np.sqrt(xs[np.newaxis, :] ** 2 + ys[:, np.newaxis] ** 2)
    t = np.clip((outer - distance) / np.float32(outer - inner), 0.0, 1.0)
    return box, t * t * (3.0 - 2.0 * t)


@dataclass
class _Point:
    x: float
    y: float
    pressure: float


@dataclass(eq=False)
class Stroke:
    """A brush stroke in progress on ``mask``, modified in place as points are added.

    The stroke remembers, per 64x64 tile it touched, the tile's pixels before the stroke and
    its own max-accumulated coverage; ``restore`` puts the old pixels back (abort) and
    ``changed_tiles`` hands them to the undo history on commit. ``pressure`` (0..1, from a
    tablet) scales the radius."""

    mask: np.ndarray
    brush: Brush
    erase: bool = False
    box: Box = field(default_factory=Box.empty)
    _before: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _layer: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _last: _Point | None = field(default=None, repr=False)
    _to_next: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        check_mask(self.mask)

    def radius_at(self, pressure: float) -> float:
        return max(0.5, self.brush.radius * min(1.0, max(0.0, pressure)))

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> Box:
        """Extend the stroke to (x, y), laying dabs every ``spacing`` along the way; returns
        the box repainted."""
        point = _Point(x, y, pressure)
        last, self._last = self._last, point
        if last is None:
            self._to_next = self._spacing(pressure)
            return self._dab(point)
        dx, dy = x - last.x, y - last.y
        distance = math.hypot(dx, dy)
        touched = Box.empty()
        travelled = self._to_next
        while travelled <= distance:
            f = travelled / distance
            p = last.pressure + (pressure - last.pressure) * f
            touched = touched.union(self._dab(_Point(last.x + dx * f, last.y + dy * f, p)))
            travelled += self._spacing(p)
        self._to_next = travelled - distance
        return touched

    def add_points(self, points: Iterable[tuple[float, float]]) -> Box:
        touched = Box.empty()
        for x, y in points:
            touched = touched.union(self.add_point(x, y))
        return touched

    def restore(self) -> Box:
        """Put back every pixel the stroke changed (abort); returns the box to repaint."""
        for key, before in self._before.items():
            self.mask[self._tile_box(key).slices] = before
        touched, self.box = self.box, Box.empty()
        self._before.clear()
        self._layer.clear()
        return touched

    def changed_tiles(self) -> list[tuple[Box, np.ndarray]]:
        """The tiles whose pixels the stroke changed, each with its pixels before the stroke."""
        tiles = []
        for key, before in self._before.items():
            box = self._tile_box(key)
            if not np.array_equal(before, self.mask[box.slices]):
                tiles.append((box, before))
        return tiles

    def _spacing(self, pressure: float) -> float:
        return max(0.5, 2.0 * self.radius_at(pressure) * self.brush.spacing)

    def _tile_box(self, key: tuple[int, int]) -> Box:
        ty, tx = key
        height, width = self.mask.shape
        return Box(
            tx * _TILE, ty * _TILE, min(width, (tx + 1) * _TILE), min(height, (ty + 1) * _TILE)
        )

    def _dab(self, point: _Point) -> Box:
        height, width = self.mask.shape
        box, coverage = dab_coverage(
            point.x, point.y, self.radius_at(point.pressure), self.brush.hardness, width, height
        )
        if box.is_empty:
            return box
        dab = np.rint(coverage * 255.0).astype(np.uint8)
        strength = np.float32(self.brush.opacity / 255.0)
        for ty in range(box.y0 // _TILE, (box.y1 - 1) // _TILE + 1):
            for tx in range(box.x0 // _TILE, (box.x1 - 1) // _TILE + 1):
                key = (ty, tx)
                tile = self._tile_box(key)
                part = tile.intersect(box)
                if key not in self._before:
                    self._before[key] = self.mask[tile.slices].copy()
                    self._layer[key] = np.zeros((tile.height, tile.width), np.uint8)
                in_tile = part.translated(-tile.x0, -tile.y0).slices
                in_dab = part.translated(-box.x0, -box.y0).slices
                layer = self._layer[key][in_tile]
                np.maximum(layer, dab[in_dab], out=layer)
                alpha = layer * strength
                before = self._before[key][in_tile].astype(np.float32)
                if self.erase:
                    before *= 1.0 - alpha
                else:
                    before += (255.0 - before) * alpha
                self.mask[part.slices] = np.rint(before)
        self.box = self.box.union(box)
        return box


def paint_stroke(
    mask: np.ndarray,
    points: Sequence[tuple[float, float]],
    brush: Brush,
    *,
    erase: bool = False,
) -> Box:
    """Paint a whole stroke through ``points`` in place; returns the box it touched."""
    return Stroke(mask, brush, erase=erase).add_points(points)


# --- shapes ---------------------------------------------------------------------------


def _combine(mask: np.ndarray, box: Box, coverage: np.ndarray, subtract: bool) -> Edit:
    """Add (max) or subtract (min with the complement) a shape's coverage in ``box``."""
    if box.is_empty:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    current = mask[box.slices]
    pixels = np.minimum(current, FULL - coverage) if subtract else np.maximum(current, coverage)
    return Edit(box, pixels)


def rect_box(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> Box:
    """The pixels of a rectangle dragged between two points, snapped to the pixel grid."""
    left, right = sorted((x0, x1))
    top, bottom = sorted((y0, y1))
    return Box(round(left), round(top), round(right), round(bottom)).clipped(width, height)


def filled_rect(
    mask: np.ndarray, x0: float, y0: float, x1: float, y1: float, *, subtract: bool = False
) -> Edit:
    """Paint (or erase) a rectangle; its edges snap to the pixel grid, so it is hard-edged."""
    height, width = mask.shape
    box = rect_box(x0, y0, x1, y1, width, height)
    return _combine(mask, box, np.full((box.height, box.width), FULL, np.uint8), subtract)


def ellipse_coverage(
    x0: float, y0: float, x1: float, y1: float, width: int, height: int
) -> tuple[Box, np.ndarray]:
    """Anti-aliased coverage (uint8) of the ellipse inscribed in a rectangle."""
    left, right = sorted((x0, x1))
    top, bottom = sorted((y0, y1))
    rx, ry = (right - left) / 2.0, (bottom - top) / 2.0
    if rx < 0.5 or ry < 0.5:
        return Box.empty(), np.zeros((0, 0), np.uint8)
    cx, cy = left + rx, top + ry
    box = Box(
        math.floor(left - 1), math.floor(top - 1), math.ceil(right + 1), math.ceil(bottom + 1)
    ).clipped(width, height)
    if box.is_empty:
        return box, np.zeros((0, 0), np.uint8)
    u = (np.arange(box.x0, box.x1, dtype=np.float64) + 0.5 - cx)[np.newaxis, :] / rx
    v = (np.arange(box.y0, box.y1, dtype=np.float64) + 0.5 - cy)[:, np.newaxis] / ry
    level = u * u + v * v - 1.0
    # First-order signed distance to the curve: level / |grad level|.
    gradient = 2.0 * np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
    distance = level / np.maximum(gradient, 1e-9)
    coverage = np.clip(0.5 - distance, 0.0, 1.0)
    return box, np.rint(coverage * FULL).astype(np.uint8)


def filled_ellipse(
    mask: np.ndarray, x0: float, y0: float, x1: float, y1: float, *, subtract: bool = False
) -> Edit:
    height, width = mask.shape
    box, coverage = ellipse_coverage(x0, y0, x1, y1, width, height)
    return _combine(mask, box, coverage, subtract)


_SUBPIXEL_BITS = 8
_SUPERSAMPLE = 4
_BAND_PIXELS = 1 << 22  # supersampled pixels rendered at a time, to bound memory


def polygon_coverage(
    points: Sequence[tuple[float, float]], width: int, height: int, *, antialias: bool = True
) -> tuple[Box, np.ndarray]:
    """Coverage (uint8) of a closed polygon (lasso or polygon tool), even-odd filled.

    Anti-aliasing renders 4x4 samples per pixel and averages them. OpenCV's own LINE_AA
    fill, like its plain fill, includes every pixel the edge touches, which swells a shape
    by half a pixel all round (+4.6 % area on a 80 px quadrilateral); at 4x the swelling is
    an eighth of a pixel."""
    if len(points) < 3:
        return Box.empty(), np.zeros((0, 0), np.uint8)
    xy = np.asarray(points, dtype=np.float64)
    box = Box(
        math.floor(xy[:, 0].min()) - 1,
        math.floor(xy[:, 1].min()) - 1,
        math.ceil(xy[:, 0].max()) + 1,
        math.ceil(xy[:, 1].max()) + 1,
    ).clipped(width, height)
    if box.is_empty:
        return box, np.zeros((0, 0), np.uint8)
    factor = _SUPERSAMPLE if antialias else 1
    # OpenCV puts sample centres on integers; ours sit at +0.5.
    local = (xy - [box.x0, box.y0]) * factor - 0.5
    coverage = np.empty((box.height, box.width), np.uint8)
    rows = max(1, _BAND_PIXELS // (box.width * factor * factor))
    for top in range(0, box.height, rows):
        bottom = min(box.height, top + rows)
        band = np.zeros(((bottom - top) * factor, box.width * factor), np.uint8)
        shifted = (local - [0, top * factor]) * (1 << _SUBPIXEL_BITS)
        vertices = np.rint(shifted).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(band, [vertices], FULL, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        if factor > 1:
            band = cv2.resize(band, (box.width, bottom - top), interpolation=cv2.INTER_AREA)
        coverage[top:bottom] = band
    return box, coverage


def filled_polygon(
    mask: np.ndarray,
    points: Sequence[tuple[float, float]],
    *,
    subtract: bool = False,
    antialias: bool = True,
) -> Edit:
    height, width = mask.shape
    box, coverage = polygon_coverage(points, width, height, antialias=antialias)
    return _combine(mask, box, coverage, subtract)


# --- whole-mask operations --------------------------------------------------------------


def cleared(mask: np.ndarray) -> Edit:
    box = nonzero_box(mask)
    return Edit(box, np.zeros((box.height, box.width), np.uint8))


def filled(mask: np.ndarray) -> Edit:
    height, width = mask.shape
    return Edit(Box.of_size(width, height), np.full((height, width), FULL, np.uint8))


def inverted(mask: np.ndarray) -> Edit:
    height, width = mask.shape
    return Edit(Box.of_size(width, height), FULL - mask)


def _distance_to(region: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest pixel where ``region`` is False."""
    return cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def grown(mask: np.ndarray, pixels: int) -> Edit:
    """Grow the painted area (coverage >= 128) by ``pixels``, with an anti-aliased rim. A
    distance transform costs the same for any radius, unlike a dilation by a large disc."""
    if pixels <= 0:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    height, width = mask.shape
    box = nonzero_box(mask >= EDIT_THRESHOLD).expanded(pixels + 1).clipped(width, height)
    if box.is_empty:
        return Edit(box, np.zeros((0, 0), np.uint8))
    current = mask[box.slices]
    distance = _distance_to(current < EDIT_THRESHOLD)
    # Pixels already inside (distance 0) keep their coverage; the rim is anti-aliased.
    ring = np.where(distance > 0, np.clip(pixels + 1.0 - distance, 0.0, 1.0), 0.0)
    return Edit(box, np.maximum(current, np.rint(ring * FULL).astype(np.uint8)))


def shrunk(mask: np.ndarray, pixels: int) -> Edit:
    """Shrink the painted area by ``pixels``. The image border does not count as unpainted,
    so a mask touching the edge of the picture stays there (as Photoshop's default)."""
    if pixels <= 0:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    height, width = mask.shape
    box = nonzero_box(mask).expanded(1).clipped(width, height)
    if box.is_empty:
        return Edit(box, np.zeros((0, 0), np.uint8))
    current = mask[box.slices]
    distance = _distance_to(current >= EDIT_THRESHOLD)
    keep = np.clip(distance - pixels, 0.0, 1.0)
    return Edit(box, np.minimum(current, np.rint(keep * FULL).astype(np.uint8)))


def feathered(mask: np.ndarray, pixels: int) -> Edit:
    """Soften the mask's edge with a Gaussian blur of sigma ``pixels / 2`` (the edge fades
    over about ``2 * pixels``). The 50 % line, hence the exported API mask, barely moves."""
    if pixels <= 0:
        return Edit(Box.empty(), np.zeros((0, 0), np.uint8))
    height, width = mask.shape
    sigma = pixels / 2.0
    reach = math.ceil(3 * sigma) + 1
    box = nonzero_box(mask).expanded(reach).clipped(width, height)
    if box.is_empty:
        return Edit(box, np.zeros((0, 0), np.uint8))
    blurred = cv2.GaussianBlur(
        mask[box.slices], (2 * reach + 1, 2 * reach + 1), sigma, borderType=cv2.BORDER_REPLICATE
    )
    return Edit(box, blurred)


# --- API mask files -----------------------------------------------------------------------


def outline_polygons(mask: np.ndarray, box: Box) -> list[np.ndarray]:
    """The 50 % line (what the API mask edits) of ``mask[box]`` as closed polygons of
    (x, y) pixel-centre points in the mask's coordinates, one (N, 2) int array each."""
    inside = (mask[box.slices] >= EDIT_THRESHOLD).astype(np.uint8)
    if not inside.any():
        return []
    contours, _ = cv2.findContours(inside, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    offset = np.array([box.x0, box.y0])
    return [contour.reshape(-1, 2) + offset for contour in contours]


def api_alpha(mask: np.ndarray) -> np.ndarray:
    """The alpha channel of the API mask: 0 (edit) where coverage >= 128, else 255."""
    return np.where(mask >= EDIT_THRESHOLD, 0, FULL).astype(np.uint8)


def to_api_png(mask: np.ndarray) -> bytes:
    """The mask as the API wants it: an RGBA PNG of the image's size, black, alpha 0 where
    the picture is to be edited."""
    check_mask(mask)
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[..., 3] = api_alpha(mask)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def coverage_from_image(image: Image.Image, mode: MaskSource = "auto") -> np.ndarray:
    """Coverage from a decoded mask picture (see ``MaskSource``)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if mode == "auto":
        mode = "alpha" if has_alpha else "white"
    if mode == "alpha":
        if not has_alpha:
            raise ValueError("has no alpha channel")
        alpha = np.asarray(image.convert("RGBA").getchannel("A"), np.uint8)
        return FULL - alpha
    luminance = np.asarray(image.convert("L"), np.uint8)
    return luminance.copy() if mode == "white" else FULL - luminance


def read_mask(
    source: ImageSource,
    size: tuple[int, int],
    *,
    mode: MaskSource = "auto",
    scale: bool = False,
    name: str | None = None,
    max_pixels: int | None = None,
) -> np.ndarray:
    """Read a mask file into coverage for an image of ``size`` (width, height).

    A file of another size is refused unless ``scale`` asks to resize it. Raises
    ImageFileError with a message naming the file: corrupt, truncated or non-image files
    (through imageio), wrong size, or ``alpha`` asked of a file without an alpha channel."""
    label = name or (str(source) if isinstance(source, Path) else "mask")
    if max_pixels is None:
        max_pixels = load_schema().files.max_pixels
    with decode_image(source, name=label, max_pixels=max_pixels) as image:
        width, height = size
        if image.size != (width, height) and not scale:
            raise MaskSizeError(
                f"{label}: the mask is {image.width}x{image.height} but the image is "
                f"{width}x{height}; open a mask of the same size, or choose to scale it."
            )
        try:
            coverage = coverage_from_image(image, mode)
        except ValueError as exc:
            raise ImageFileError(
                f"{label}: {exc}; transparent pixels mark the edit area of an API mask, so "
                "open it as a black-and-white mask instead."
            ) from None
    if coverage.shape != (height, width):
        shrinking = coverage.shape[0] * coverage.shape[1] > width * height
        coverage = cv2.resize(
            coverage,
            (width, height),
            interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
        )
    return np.ascontiguousarray(coverage, np.uint8)


# --- compact storage for undo -------------------------------------------------------------


def pack(pixels: np.ndarray) -> bytes:
    """Compress pixels for the undo history. Masks are mostly runs of 0 and 255, so zlib's
    fastest level shrinks them 20-100x in about a millisecond per megapixel."""
    return zlib.compress(np.ascontiguousarray(pixels).tobytes(), 1)


def unpack(blob: bytes, box: Box) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), np.uint8).reshape(box.height, box.width)
