"""Photos as cameras and phones write them, made into pictures the editor can edit and send.

A file that is already what an image-edit API takes (an 8-bit PNG, JPEG or WebP, upright,
sRGB or untagged) is used as it is, however large: sending scales it (app.core.sending).
Anything else gets a *working copy*: an 8-bit sRGB PNG, turned upright by its EXIF
orientation and converted from its embedded ICC profile with little-cms (Pillow's
ImageCms). The mask, the canvas, what is sent and what comes back all live in the working
copy's upright coordinates, so nothing comes back sideways.

Accepted: PNG, JPEG, WebP, HEIC/HEIF (through pillow-heif), AVIF (Pillow 13 reads it),
TIFF, BMP, GIF (the first frame); 16-bit and CMYK pictures are reduced to 8-bit sRGB for
the working copy. How many pixels a photo may have is set by this machine's memory
(app.core.limits), not by what an API takes: Pillow's own decompression-bomb check is set
to the same figure when this module is imported.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError, features

from app.core.imageio import ImageFileError, probe_image, write_atomic
from app.core.limits import open_pixel_limit

try:  # HEIC/HEIF (iPhones, many Android phones): a Pillow plugin of its own
    import pillow_heif
except ImportError:  # pragma: no cover - a packaging mistake; HEIC is then refused clearly
    pillow_heif = None
else:
    pillow_heif.register_heif_opener()

# Pillow refuses to open anything over twice this many pixels (and warns over it): the same
# limit as the editor's own check, so the two never disagree about a large photo.
Image.MAX_IMAGE_PIXELS = open_pixel_limit()

ORIENTATION_TAG = 0x0112
OPENABLE = ("PNG", "JPEG", "WEBP", "HEIF", "AVIF", "TIFF", "BMP", "GIF", "MPO")
FORMATS_TEXT = "PNG, JPEG, WebP, HEIC, AVIF, TIFF, BMP or GIF"
"""The formats that open, as a message names them."""
_SENDABLE_FORMATS = ("PNG", "JPEG", "WEBP")
_SENDABLE_MODES = ("RGB", "RGBA", "L", "LA", "P", "PA")
_SRGB = ImageCms.createProfile("sRGB")
# ISO base media ("ftyp") brands of HEIF and AVIF files, to name them when they cannot open.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_AVIF_BRANDS = (b"avif", b"avis")
# OpenCV 4.10+ decodes straight to RGB; older ones give BGR, swapped in place after.
_IMREAD_RGB = getattr(cv2, "IMREAD_COLOR_RGB", 0)


@dataclass(frozen=True)
class Prepared:
    """A photo ready to edit: ``path`` is the file edited and sent (the photo itself, or its
    working copy); ``pixels`` the working copy's pixels when one was made (so they are not
    decoded again from the copy), else None; ``format`` and ``mode`` are the header's of
    ``path`` (Pillow's names)."""

    path: Path
    pixels: Image.Image | None
    format: str
    mode: str


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
        fmt not in _SENDABLE_FORMATS
        or image.mode not in _SENDABLE_MODES
        or orientation(image) != 1
        or embedded_profile(image, label) is not None
    )


def too_many_pixels(
    label: str, pixels: int, max_pixels: int, size: tuple[int, int] | None = None
) -> str:
    """Why a photo of ``pixels`` pixels (``size`` when known) does not open, and what to do."""
    count = f"{size[0]}x{size[1]} is {pixels:,} pixels" if size else f"{pixels:,} pixels"
    return (
        f"{label}: {count}, over the {max_pixels:,} pixel limit{_whose(max_pixels)}; "
        "scale it down or crop it first."
    )


def _whose(max_pixels: int) -> str:
    """The reason behind the limit, when it is this machine's memory."""
    if max_pixels != open_pixel_limit():
        return ""
    return f" (this machine's memory allows at most {max_pixels:,} pixels)"


def open_photo(path: Path, *, max_pixels: int | None = None) -> Image.Image:
    """Open a photo's header (nothing decoded yet), refusing what is not a picture or has
    more pixels than ``max_pixels`` (by default what this machine's memory allows,
    app.core.limits). Raises ImageFileError naming the file."""
    limit = open_pixel_limit() if max_pixels is None else max_pixels
    label = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError:
        raise ImageFileError(
            f"{label}: file not found; check the path.", "file_not_found"
        ) from None
    except Image.DecompressionBombError as exc:
        # Over twice Pillow's limit, which is ours: it says how many pixels in its message.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        if found:
            message = too_many_pixels(label, int(found.group(1)), limit)
        else:
            message = f"{label}: has far too many pixels{_whose(limit)}; scale it down first."
        raise ImageFileError(message, "image_too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageFileError(_not_openable(path, label, exc), "invalid_image_format") from None
    width, height = image.size
    if (image.format or "").upper() not in OPENABLE:
        image.close()
        raise ImageFileError(
            f"{label}: a {image.format} file; use {FORMATS_TEXT}.", "invalid_image_format"
        )
    if width * height > limit:
        image.close()
        raise ImageFileError(
            too_many_pixels(label, width * height, limit, (width, height)), "image_too_large"
        )
    return image


def _not_openable(path: Path, label: str, exc: BaseException) -> str:
    """Why Pillow could not identify the file: a HEIC or AVIF this installation cannot read
    is named as such, with what to install."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        head = b""
    brand = head[8:12] if head[4:8] == b"ftyp" else b""
    if brand in _HEIF_BRANDS and pillow_heif is None:
        return (
            f"{label}: a HEIC/HEIF photo, and this installation cannot read HEIC; install "
            "pillow-heif (pip install pillow-heif) or export the photo as JPEG."
        )
    if brand in _AVIF_BRANDS and not features.check("avif"):
        return (
            f"{label}: an AVIF picture, and this installation's Pillow cannot read AVIF; "
            "install Pillow 13 or newer, or export it as JPEG or PNG."
        )
    return f"{label}: not a picture Retouch Studio can open ({exc}); use {FORMATS_TEXT}."


def to_working_pixels(image: Image.Image, label: str) -> Image.Image:
    """The picture upright, 8 bits per channel, in sRGB (RGB, RGBA or L)."""
    profile = embedded_profile(image, label)
    try:
        image.load()
        # Only a real turn is applied: a bogus or damaged orientation means "as stored".
        upright = ImageOps.exif_transpose(image) if orientation(image) != 1 else image
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageFileError(
            f"{label}: cannot be decoded ({exc}); the file is damaged or incomplete, "
            "copy or export it again.",
            "corrupt_image",
        ) from None
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
                f"{label}: its colour profile does not fit the picture ({exc}); export it "
                "again with an sRGB profile.",
                "invalid_icc_profile",
            ) from None
    elif upright.mode == "CMYK":
        upright = upright.convert("RGB")
    return upright


def prepare(path: Path, folder: Path, *, max_pixels: int | None = None) -> Prepared:
    """The photo ready to edit: itself when it can be edited and sent as it is, else an
    upright 8-bit sRGB PNG made from it in ``folder`` under a name no other copy takes,
    with its pixels. Reads the header once. Slow for a copy: run it in a worker thread."""
    path = Path(path)
    label = str(path)
    with open_photo(path, max_pixels=max_pixels) as image:
        if not needs_working_copy(image, label):
            return Prepared(path, None, (image.format or "").upper(), image.mode)
        pixels = to_working_pixels(image, label)
    buffer = io.BytesIO()
    pixels.save(buffer, "PNG", compress_level=1)
    folder.mkdir(parents=True, exist_ok=True)
    copy = write_atomic(
        folder / f"{path.stem}-working-{uuid.uuid4().hex[:8]}.png", buffer.getvalue()
    )
    return Prepared(copy, pixels, "PNG", pixels.mode)


def working_copy(path: Path, folder: Path, *, max_pixels: int | None = None) -> Path:
    """``path`` itself when it can be edited and sent as it is, else its working copy (see
    ``prepare``). Slow for a copy: run it in a worker thread."""
    return prepare(path, folder, max_pixels=max_pixels).path


# --- pixels for display -------------------------------------------------------------------


def display_pixels(photo: Prepared, *, max_pixels: int | None = None) -> np.ndarray:
    """The picture's pixels for the canvas, decoded once: an (h, w, 3) RGB or (h, w, 4) RGBA
    (straight alpha) uint8 array. A working copy's pixels are taken from memory; a file
    used as it is (an upright sRGB PNG, JPEG or WebP) is checked for a cut-short end, then
    decoded by OpenCV straight into the array (Pillow's decode plus its copy into numpy
    costs half as much again at 48 MP). Slow: run it in a worker thread."""
    if photo.pixels is not None:
        return _rgb_from_pillow(photo.pixels)
    path = photo.path
    label = str(path)
    probe_image(
        path, name=label, max_pixels=open_pixel_limit() if max_pixels is None else max_pixels
    )
    try:
        data = np.fromfile(path, np.uint8)  # not cv2.imread, which fails on non-ASCII paths
    except OSError as exc:
        raise ImageFileError(
            f"{label}: cannot be read ({exc.strerror or exc}); check the file.", "file_not_found"
        ) from None
    # The file is upright (orientation 1) already: OpenCV must not turn it by its EXIF.
    pixels = None
    if photo.mode in ("RGB", "L"):
        flags = (_IMREAD_RGB or cv2.IMREAD_COLOR) | cv2.IMREAD_IGNORE_ORIENTATION
        pixels = cv2.imdecode(data, flags)
        if pixels is not None and pixels.ndim == 3 and pixels.shape[2] == 3:
            return pixels if _IMREAD_RGB else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, pixels)
    elif photo.mode == "RGBA":
        pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
        if pixels is not None and pixels.dtype == np.uint8 and pixels.shape[2:] == (4,):
            return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA, pixels)
    # A palette or grey-and-alpha picture, or one OpenCV did not decode: Pillow's way.
    del data, pixels
    with open_photo(path, max_pixels=max_pixels) as image:
        return _rgb_from_pillow(to_working_pixels(image, label))


def _rgb_from_pillow(image: Image.Image) -> np.ndarray:
    """An RGB or RGBA array of an RGB, RGBA or L picture (as to_working_pixels gives)."""
    if image.mode == "L":
        return cv2.cvtColor(np.asarray(image), cv2.COLOR_GRAY2RGB)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return np.asarray(image)
