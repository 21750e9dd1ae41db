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

The package re-exports every public name, so ``from app.core.mask import X`` is the way in.
Its modules: ``geometry`` (boxes, edits, undo storage), ``stroke`` (brush, dabs, strokes and
how they accumulate), ``shapes`` (rectangle, ellipse and polygon fills), ``operations``
(clear, fill, invert, grow, shrink, feather, outline) and ``files`` (the API mask PNG, the
compact encoding every mask is sent in, and reading mask files, with the export rule).
"""

from app.core.mask.files import (
    MaskSizeError,
    MaskSource,
    alpha_of,
    api_alpha,
    compact_mask,
    compact_png,
    coverage_from_image,
    coverage_png,
    limit_text,
    read_mask,
    to_api_png,
)
from app.core.mask.geometry import (
    EDIT_THRESHOLD,
    FULL,
    Box,
    Edit,
    apply,
    changed_box,
    check_mask,
    new_mask,
    nonzero_box,
    pack,
    unpack,
)
from app.core.mask.operations import (
    cleared,
    feathered,
    filled,
    grown,
    inverted,
    outline_polygons,
    shrunk,
)
from app.core.mask.shapes import (
    ellipse_coverage,
    filled_ellipse,
    filled_polygon,
    filled_rect,
    polygon_coverage,
    rect_box,
)
from app.core.mask.stroke import Brush, Stroke, dab_box, dab_coverage, paint_stroke

__all__ = [
    "EDIT_THRESHOLD",
    "FULL",
    "Box",
    "Brush",
    "Edit",
    "MaskSizeError",
    "MaskSource",
    "Stroke",
    "alpha_of",
    "api_alpha",
    "apply",
    "changed_box",
    "check_mask",
    "cleared",
    "compact_mask",
    "compact_png",
    "coverage_from_image",
    "coverage_png",
    "dab_box",
    "dab_coverage",
    "ellipse_coverage",
    "feathered",
    "filled",
    "filled_ellipse",
    "filled_polygon",
    "filled_rect",
    "grown",
    "inverted",
    "limit_text",
    "new_mask",
    "nonzero_box",
    "outline_polygons",
    "pack",
    "paint_stroke",
    "polygon_coverage",
    "read_mask",
    "rect_box",
    "shrunk",
    "to_api_png",
    "unpack",
]
