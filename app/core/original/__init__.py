"""What is kept of a result: the original photo, in its own space, with the result pasted
in where the mask says (issue 12, "Real photos in, real photos out").

Results come from the image API as 8-bit sRGB at the working copy's size or smaller (the
working copy is the photo upright in 8-bit sRGB, app.core.photo). What is kept is the
*photo*: read at its own depth and mode with its profile and EXIF (``read_original``), the
result converted from sRGB into the photo's profile and depth and pasted through the
feathered mask (``paste_into``), written with the photo's profile, depth and EXIF less the
orientation tag (``write_original``). Every pixel outside the mask (weight exactly 0) is
the photo's own, bit for bit, at 16 bits too. Everything is in upright coordinates: the
EXIF orientation is applied on reading and written files carry none.

Modules: ``reading`` (``Original``, ``read_original``), ``icc`` (the small ICC parser for
matrix/TRC profiles), ``colour`` (sRGB into the photo's space), ``paste`` (``paste_into``,
``paste_back_file``; for crop to mask ``region_weight``, ``paste_region``,
``paste_region_file``), ``writing`` (``write_original``, ``lossless_format``, ``losses``).
"""

from app.core.original.colour import srgb_into
from app.core.original.paste import (
    DEFAULT_FEATHER_PX,
    convert_whole,
    paste_back_file,
    paste_into,
    paste_region,
    paste_region_file,
    pasted_pixels,
    region_weight,
)
from app.core.original.reading import Original, Space, read_original, read_space
from app.core.original.writing import (
    EXTENSIONS,
    losses,
    lossless_format,
    normal_format,
    to_8_bits,
    write_original,
)

__all__ = [
    "DEFAULT_FEATHER_PX",
    "EXTENSIONS",
    "Original",
    "Space",
    "convert_whole",
    "losses",
    "lossless_format",
    "normal_format",
    "paste_back_file",
    "paste_into",
    "paste_region",
    "paste_region_file",
    "pasted_pixels",
    "read_original",
    "read_space",
    "region_weight",
    "srgb_into",
    "to_8_bits",
    "write_original",
]
