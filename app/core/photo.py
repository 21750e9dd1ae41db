"""Photos as cameras and phones write them, made into pictures the editor can edit and send.

A file that is already what an image-edit API takes (an 8-bit PNG, JPEG or WebP, upright,
sRGB or untagged) is used as it is. Anything else gets a *working copy*: an 8-bit sRGB PNG,
turned upright by its EXIF orientation and converted from its embedded ICC profile with
little-cms (Pillow's ImageCms). The mask, the canvas, what is sent and what comes back all
live in the working copy's upright coordinates, so nothing comes back sideways.

Accepted: PNG, JPEG, WebP, TIFF, BMP, GIF (the first frame); 16-bit and CMYK pictures are
reduced to 8-bit sRGB for the working copy. (Keeping the original's profile and depth in
what is saved is the next step of the real-photos issue.)
"""

from __future__ import annotations

import io
import uuid
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.core.imageio import ImageFileError, write_atomic

ORIENTATION_TAG = 0x0112
OPENABLE = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF", "MPO")
_SENDABLE_MODES = ("RGB", "RGBA", "L", "LA", "P", "PA")
_SRGB = ImageCms.createProfile("sRGB")


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = upright; 2-8 flipped or turned), 1 when absent or bogus."""
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError):  # a damaged EXIF block: take it as upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def embedded_profile(image: Image.Image, label: str) -> ImageCms.ImageCmsProfile | None:
    """The image's ICC profile, None when it has none or it is sRGB already."""
    data = image.info.get("icc_profile")
    if not data:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
        description = ImageCms.getProfileDescription(profile)
    except (OSError, ImageCms.PyCMSError) as exc:
        raise ImageFileError(
            f"{label}: its colour profile is damaged ({exc}); export it again with an "
            "sRGB or Adobe RGB profile.",
            "invalid_icc_profile",
        ) from None
    return None if "srgb" in description.lower().replace(" ", "") else profile


def needs_working_copy(image: Image.Image, label: str) -> bool:
    """Whether the file cannot be edited and sent as it is."""
    fmt = (image.format or "").upper()
    return (
        fmt not in ("PNG", "JPEG", "WEBP")
        or image.mode not in _SENDABLE_MODES
        or orientation(image) != 1
        or embedded_profile(image, label) is not None
    )


def open_photo(path: Path, *, max_pixels: int) -> Image.Image:
    """Open a photo's header (nothing decoded yet), refusing what is not a picture or has
    far too many pixels. Raises ImageFileError naming the file."""
    label = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError:
        raise ImageFileError(
            f"{label}: file not found; check the path.", "file_not_found"
        ) from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise ImageFileError(
            f"{label}: not a picture Retouch Studio can open ({exc}); use PNG, JPEG, WebP, "
            "TIFF, BMP or GIF.",
            "invalid_image_format",
        ) from None
    width, height = image.size
    if (image.format or "").upper() not in OPENABLE:
        image.close()
        raise ImageFileError(
            f"{label}: a {image.format} file; use PNG, JPEG, WebP, TIFF, BMP or GIF.",
            "invalid_image_format",
        )
    if width * height > max_pixels:
        image.close()
        raise ImageFileError(
            f"{label}: {width}x{height} is {width * height:,} pixels, over the "
            f"{max_pixels:,} pixel limit; scale it down first.",
            "image_too_large",
        )
    return image


def to_working_pixels(image: Image.Image, label: str) -> Image.Image:
    """The picture upright, 8 bits per channel, in sRGB (RGB, RGBA or L)."""
    profile = embedded_profile(image, label)
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageFileError(f"{label}: cannot be decoded ({exc}); it is corrupt.") from None
    if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: keep the top 8 bits (Pillow's convert("L") would clip to white).
        grey = np.asarray(upright, dtype=np.uint32)
        peak = 65535 if upright.mode.startswith("I;16") or grey.max() > 255 else 255
        upright = Image.fromarray((grey * 255 // peak).astype(np.uint8), "L")
    elif upright.mode not in ("RGB", "RGBA", "L", "CMYK"):
        has_alpha = "A" in upright.getbands() or "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    if profile is not None and upright.mode in ("RGB", "RGBA", "CMYK"):
        out_mode = "RGBA" if upright.mode == "RGBA" else "RGB"
        try:
            upright = ImageCms.profileToProfile(upright, profile, _SRGB, outputMode=out_mode)
        except ImageCms.PyCMSError as exc:
            raise ImageFileError(
                f"{label}: its colour profile does not fit the picture ({exc}).",
                "invalid_icc_profile",
            ) from None
    elif upright.mode == "CMYK":
        upright = upright.convert("RGB")
    return upright


def working_copy(path: Path, folder: Path, *, max_pixels: int) -> Path:
    """``path`` itself when it can be edited and sent as it is, else an upright 8-bit
    sRGB PNG made from it in ``folder`` under a name no other copy takes. Slow for a copy:
    run it in a worker thread."""
    path = Path(path)
    label = str(path)
    with open_photo(path, max_pixels=max_pixels) as image:
        if not needs_working_copy(image, label):
            return path
        pixels = to_working_pixels(image, label)
    buffer = io.BytesIO()
    pixels.save(buffer, "PNG", compress_level=1)
    folder.mkdir(parents=True, exist_ok=True)
    return write_atomic(
        folder / f"{path.stem}-working-{uuid.uuid4().hex[:8]}.png", buffer.getvalue()
    )
