"""Mask files: export to the API's mask PNG (``api_alpha``, ``to_api_png``) and import of a
mask picture as coverage (``MaskSource``, ``coverage_from_image``, ``read_mask``, with
``MaskSizeError`` for a file of the wrong size).

API export rule: the OpenAI-compatible endpoints treat only alpha 0 as "edit", and any other
alpha as "keep". The export is thresholded: coverage >= 128 (at least half painted) becomes
alpha 0, everything else alpha 255. A soft edge is edited where it is at least half painted;
the graded coverage itself stays in the document for paste-back compositing.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from app.core.imageio import ImageFileError, ImageSource, decode_image
from app.core.mask.geometry import EDIT_THRESHOLD, FULL, check_mask
from app.core.schema import load_schema

MaskSource = Literal["auto", "alpha", "white", "black"]
"""How to read a mask file: ``alpha`` = API mask (transparent = edit), ``white`` / ``black``
= a greyscale picture whose white / black means edit, ``auto`` = ``alpha`` when the file has
an alpha channel, else ``white``."""


class MaskSizeError(ImageFileError):
    """A mask file whose size differs from the image's; it may be scaled on request."""


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
