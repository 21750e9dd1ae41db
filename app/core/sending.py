"""What is sent for a photo larger than an image-edit API takes, and what the model gives
back for it.

The editor opens photos up to the memory-scaled limit (100 MP and more), but an API takes
at most the schema's ``files.max_pixels`` per image and ``files.max_file_bytes`` per file.
A photo over either is sent as a smaller copy: scaled by one factor to fit the pixel limit
(area averaging), as PNG, or as high-quality JPEG (WebP where it has transparency) when the
PNG would still be over the byte limit. Its mask is scaled to the same size; any coverage
at all marks the scaled pixel for editing, so a thin stroke is never lost on the way
(the soft edge is applied again at full size when the result is pasted back).

The result comes back at the model's size and is scaled to the photo when compared or
pasted back (app.core.composite.fit_to). ``output_note`` tells the designer before sending
when that scaling will be large.
"""

from __future__ import annotations

import io
import math
import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.core.imageio import ImageFileError, write_atomic
from app.core.mask import to_api_png
from app.core.schema import ModelRules, parse_size

JPEG_QUALITY = 95
WEBP_QUALITY = 95
SOFTER_THAN = 4.0
"""Warn before sending when the photo has this many times the pixels the model returns
(each side about half): the result pasted back is visibly softer than the photo."""


@dataclass(frozen=True)
class Sent:
    """The first image and mask as sent: the files themselves when they fit, else the
    smaller copies; ``size`` is the size sent, ``scaled`` whether it differs."""

    image: Path
    mask: Path | None
    size: tuple[int, int]
    scaled: bool


def size_to_send(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The largest size with the photo's aspect and at most ``max_pixels`` pixels."""
    if width * height <= max_pixels:
        return width, height
    factor = math.sqrt(max_pixels / (width * height))
    scaled_w = max(1, math.floor(width * factor))
    scaled_h = max(1, math.floor(height * factor))
    return scaled_w, scaled_h


def scaled_mask(coverage: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Coverage at ``size``: fully painted wherever any source pixel under it was painted
    (an area average would let a stroke thinner than the scale fall under the edit
    threshold and vanish from the API mask)."""
    width, height = size
    if coverage.shape == (height, width):
        return coverage
    averaged = cv2.resize(coverage, (width, height), interpolation=cv2.INTER_AREA)
    return np.where(averaged > 0, 255, 0).astype(np.uint8)


def encode_for_sending(pixels: np.ndarray, max_bytes: int) -> tuple[bytes, str]:
    """PNG when it fits under ``max_bytes``; else JPEG (opaque) or WebP (with alpha) at
    high quality. Returns the bytes and the extension."""
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    if buffer.tell() < max_bytes:
        return buffer.getvalue(), ".png"
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA"):
        image.save(buffer, "WEBP", quality=WEBP_QUALITY)
        return buffer.getvalue(), ".webp"
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), ".jpg"


def fit_for_sending(
    image: Path,
    coverage: np.ndarray | None,
    folder: Path,
    *,
    max_pixels: int,
    max_bytes: int,
    mask: Path | None = None,
) -> Sent:
    """The first image (an upright 8-bit sRGB picture or working copy) and its mask as
    they will be sent: ``image`` and ``mask`` (the API mask file already written from
    ``coverage``) when the image fits the API's limits, else scaled copies of both,
    written to ``folder`` under names no other run uses. Slow for a large photo: run it in
    a worker."""
    label = str(image)
    try:
        with Image.open(image) as header:
            width, height = header.size
            fits = width * height <= max_pixels and image.stat().st_size < max_bytes
            if not fits:
                header.load()
                has_alpha = "A" in header.getbands() or "transparency" in header.info
                pixels = np.asarray(header.convert("RGBA" if has_alpha else "RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageFileError(f"{label}: cannot be read to send ({exc}).") from None
    if fits:
        return Sent(image, mask, (width, height), False)
    folder.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    size = size_to_send(width, height, max_pixels)
    resized = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    data, suffix = encode_for_sending(resized, max_bytes)
    sent = write_atomic(folder / f"{image.stem}-sent-{tag}{suffix}", data)
    return Sent(sent, _write_mask(coverage, size, folder, tag), size, True)


def _write_mask(
    coverage: np.ndarray | None, size: tuple[int, int], folder: Path, tag: str
) -> Path | None:
    if coverage is None:
        return None
    png = to_api_png(scaled_mask(coverage, size))
    return write_atomic(folder / f"mask-{tag}.png", png)


def largest_output(rules: ModelRules, size_value: object, sent: tuple[int, int]) -> int:
    """The most pixels the model can return for ``sent`` with this ``size`` value."""
    fixed = parse_size(size_value) if isinstance(size_value, str) else None
    if fixed is not None:
        return fixed[0] * fixed[1]
    rule = rules.size
    if rule.grammar == "fixed":
        sizes = [parse_size(choice) for choice in rule.choices]
        return max((w * h for w, h in filter(None, sizes)), default=sent[0] * sent[1])
    # A free size on "auto": about the input's size, within the model's own bounds.
    pixels = sent[0] * sent[1]
    return min(pixels, rule.max_pixels) if rule.max_pixels else pixels


def output_note(photo: tuple[int, int], rules: ModelRules, size_value: object, model: str) -> str:
    """A warning for the designer before sending, or "" when the result will come back at
    about the photo's detail."""
    width, height = photo
    out = largest_output(rules, size_value, photo)
    if out <= 0 or width * height < SOFTER_THAN * out:
        return ""
    factor = math.sqrt(width * height / out)
    return (
        f"{model or 'This model'} returns at most {out / 1e6:.1f} MP; the {width}x{height} "
        f"photo is {width * height / 1e6:.0f} MP, so results are scaled up {factor:.1f}x "
        "where they are pasted back and will look softer than the photo."
    )
