"""Reading a photo as it is: upright, at its own bit depth and in its own mode, with its
ICC profile and EXIF (less the orientation, which has been applied)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, ImageCms

from app.core.imageio import ImageFileError
from app.core.photo import ORIENTATION_TAG, open_photo, orientation

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types (PNG spec, IHDR) that Pillow decodes to 8 bits when they hold 16.
_PNG_GREY_ALPHA, _PNG_RGB, _PNG_RGBA = 4, 2, 6
_TIFF_BITS_PER_SAMPLE = 258
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
# A TIFF's first directory holds the picture's own structure (size, strips, compression,
# the ICC profile, Photoshop's layers ...). Only these describe the photo and are carried
# over as EXIF: description, make, model, resolution, software, date, artist, copyright,
# and the EXIF and GPS directories.
_TIFF_DESCRIPTIVE = {270, 271, 272, 282, 283, 296, 305, 306, 315, 33432, _EXIF_IFD, _GPS_IFD}
MODES = ("L", "LA", "RGB", "RGBA", "CMYK")


@dataclass(frozen=True, eq=False)
class Original:
    """A photo as opened for keeping results: ``pixels`` upright, (H, W) for L or
    (H, W, C) otherwise, uint8 or uint16 (``bits`` 8 or 16); ``icc`` the embedded profile's
    bytes; ``exif`` Pillow's serialised EXIF (starting ``Exif\\0\\0``) without the
    orientation tag; ``format`` Pillow's name of the file's format; ``size`` (width,
    height) upright."""

    pixels: np.ndarray
    mode: str
    bits: int
    icc: bytes | None
    exif: bytes | None
    format: str
    size: tuple[int, int]

    @property
    def has_alpha(self) -> bool:
        return self.mode in ("LA", "RGBA")

    @property
    def colour_channels(self) -> int:
        return {"L": 1, "LA": 1, "RGB": 3, "RGBA": 3, "CMYK": 4}[self.mode]


def upright(pixels: np.ndarray, turn: int) -> np.ndarray:
    """``pixels`` as stored turned upright by EXIF orientation ``turn`` (1-8), as Pillow's
    ImageOps.exif_transpose turns them: 2 mirrored, 3 half a turn, 4 flipped, 5 transposed,
    6 a quarter turn clockwise, 7 transversed, 8 a quarter turn anticlockwise."""
    turned = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }[turn](pixels)
    return np.ascontiguousarray(turned)


def _exif_without_orientation(image: Image.Image) -> bytes | None:
    """The EXIF to write with a result: the photo's own, less the orientation (the pixels
    are upright now). A TIFF keeps only the tags that describe the photo."""
    try:
        exif = Image.Exif()  # a copy: the image's own (cached) EXIF still says how to turn it
        exif.load(image.getexif().tobytes())
        if (image.format or "").upper() == "TIFF":
            for tag in [tag for tag in exif if tag not in _TIFF_DESCRIPTIVE]:
                del exif[tag]
        exif.pop(ORIENTATION_TAG, None)
        for ifd in (_EXIF_IFD, _GPS_IFD):  # loaded so that tobytes writes them out again
            if ifd in exif:
                exif.get_ifd(ifd)
        return exif.tobytes() if len(exif) else None
    except Exception:
        return None


def _deep_colour(path: Path, image: Image.Image) -> bool:
    """Whether the file holds 16-bit colour (or grey and alpha) that Pillow would decode to
    8 bits: PNG colour types 2, 4, 6 at bit depth 16 (the IHDR's bytes 24 and 25), TIFF RGB
    or RGBA with 16 BitsPerSample."""
    fmt = (image.format or "").upper()
    if fmt == "PNG":
        depth, colour_type = _png_header(path)
        return depth == 16 and colour_type in (_PNG_GREY_ALPHA, _PNG_RGB, _PNG_RGBA)
    if fmt == "TIFF" and image.mode in ("RGB", "RGBA"):
        bits = getattr(image, "tag_v2", {}).get(_TIFF_BITS_PER_SAMPLE, 8)
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(bits) > 8
    return False


def _tiff_stored(path: Path) -> np.ndarray | None:
    """A 16-bit RGB(A) TIFF's first image as stored (not turned) through tifffile, or None
    when it needs a codec that tifffile cannot decode without imagecodecs (LZW, PackBits
    ...) or is laid out otherwise."""
    try:
        with tifffile.TiffFile(path) as tiff:
            page = tiff.pages.first
            pixels = page.asarray()
            if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and pixels.ndim == 3:
                pixels = np.moveaxis(pixels, 0, -1)  # (samples, H, W) -> (H, W, samples)
    except Exception:  # any failure here leaves the file to OpenCV
        return None
    if pixels.dtype != np.uint16 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return None
    return np.ascontiguousarray(pixels)


def _decode_deep(path: Path, image: Image.Image, label: str) -> tuple[np.ndarray, str, bool]:
    """16-bit pixels that Pillow would reduce to 8 bits: the pixels (RGB order), the mode,
    and whether the decoder has already turned them upright.

    A TIFF is read by tifffile as stored; failing that (a codec tifffile lacks), by OpenCV,
    whose TIFF reader turns the picture by its orientation tag itself (even when told to
    ignore it). A PNG is read by OpenCV, which leaves a PNG as stored with these flags."""
    if (image.format or "").upper() == "TIFF":
        stored = _tiff_stored(path)
        if stored is not None:
            return stored, "RGBA" if stored.shape[2] == 4 else "RGB", False
    try:
        data = np.fromfile(path, np.uint8)
        flags = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
        pixels = cv2.imdecode(data, flags)
    except (OSError, cv2.error) as exc:
        raise ImageFileError(f"{label}: cannot be decoded ({exc}); it is corrupt.") from None
    if pixels is None or pixels.dtype != np.uint16 or pixels.ndim != 3:
        raise ImageFileError(
            f"{label}: its 16-bit pixels cannot be decoded; the file is damaged or an unusual "
            "variant: export it again as a 16-bit PNG or TIFF."
        )
    turned = (image.format or "").upper() == "TIFF"
    if pixels.shape[2] == 4:
        # OpenCV expands a PNG's grey+alpha (colour type 4) to BGRA with B = G = R.
        if _png_header(path)[1] == _PNG_GREY_ALPHA:
            return np.ascontiguousarray(pixels[..., [0, 3]]), "LA", turned
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA), "RGBA", turned
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB), "RGB", turned


def _png_header(path: Path) -> tuple[int, int]:
    """A PNG's bit depth and colour type: bytes 24 and 25 of the file, in its IHDR chunk
    (which the PNG spec puts first); (0, 0) when they are not there."""
    with open(path, "rb") as handle:
        head = handle.read(26)
    if not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR" or len(head) < 26:
        return 0, 0
    return head[24], head[25]


def _decode_pillow(image: Image.Image, label: str) -> tuple[np.ndarray, str]:
    """Everything else through Pillow: 16-bit grey as uint16 L, palette as RGB(A), CMYK
    kept, the rest as L, LA, RGB or RGBA at 8 bits."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageFileError(f"{label}: cannot be decoded ({exc}); it is corrupt.") from None
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        grey = np.asarray(image)
        if mode == "I":  # 32-bit integers: 16-bit grey as older Pillows open it
            grey = np.clip(grey, 0, 65535)
        return grey.astype(np.uint16), "L"
    if mode == "F":
        raise ImageFileError(
            f"{label}: a 32-bit floating-point picture; export it as a 16-bit TIFF or PNG.",
            "invalid_image_format",
        )
    if mode not in MODES:
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        wanted = "RGBA" if has_alpha else "RGB"
        if mode in ("1", "La"):
            wanted = "LA" if has_alpha else "L"
        image = image.convert(wanted)
        mode = wanted
    return np.asarray(image), mode


def read_original(path: Path, *, max_pixels: int) -> Original:
    """The photo at ``path`` upright, at its own depth and mode, with its profile and
    EXIF. Raises ImageFileError naming the file when it cannot be read. Slow for a large
    photo: never on the UI thread."""
    path = Path(path)
    label = str(path)
    with open_photo(path, max_pixels=max_pixels) as image:
        fmt = image.format or ""
        icc = image.info.get("icc_profile") or None
        exif = _exif_without_orientation(image)
        turn = orientation(image)  # as the file says, before any decoder acts on it
        if _deep_colour(path, image):
            pixels, mode, turned = _decode_deep(path, image, label)
        else:
            pixels, mode = _decode_pillow(image, label)
            # Pillow (13 on) turns a TIFF itself while loading it, and then drops the tag:
            # what the tag says after loading is what is left to do.
            turned, turn = False, orientation(image)
    pixels = pixels if turned else upright(pixels, turn)
    height, width = pixels.shape[:2]
    bits = 16 if pixels.dtype == np.uint16 else 8
    return Original(pixels, mode, bits, icc, exif, fmt, (width, height))


@dataclass(frozen=True)
class Space:
    """What a photo is, from its header alone (fast: nothing is decoded): enough for the
    Save dialog to name the formats that hold it and what the others would lose. It has
    the same fields as ``Original`` but the pixels, so ``losses`` and
    ``lossless_format`` take either."""

    mode: str
    bits: int
    icc: bytes | None
    exif: bytes | None
    format: str
    size: tuple[int, int]

    @property
    def has_alpha(self) -> bool:
        return self.mode in ("LA", "RGBA")

    def describe(self) -> str:
        """e.g. "16-bit RGB, Adobe RGB (1998)"."""
        name = "sRGB"
        if self.icc:
            try:
                profile = ImageCms.ImageCmsProfile(io.BytesIO(self.icc))
                name = ImageCms.getProfileDescription(profile).strip() or "its own profile"
            except (OSError, ImageCms.PyCMSError):
                name = "its own profile"
        return f"{self.bits}-bit {self.mode}, {name}"


def _header_mode(path: Path, image: Image.Image) -> tuple[str, int]:
    """The mode and depth ``read_original`` will give, from the header."""
    if _deep_colour(path, image):
        if (image.format or "").upper() == "PNG" and _png_header(path)[1] == _PNG_GREY_ALPHA:
            return "LA", 16
        return ("RGBA" if "A" in image.getbands() else "RGB"), 16
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        return "L", 16
    if mode in MODES:
        return mode, 8
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if mode in ("1", "La"):
        return ("LA" if has_alpha else "L"), 8
    return ("RGBA" if has_alpha else "RGB"), 8


def read_space(path: Path, *, max_pixels: int) -> Space:
    """The photo's mode, depth, profile, EXIF and upright size, from its header."""
    path = Path(path)
    with open_photo(path, max_pixels=max_pixels) as image:
        mode, bits = _header_mode(path, image)
        width, height = image.size
        if orientation(image) in (5, 6, 7, 8):
            width, height = height, width
        icc = image.info.get("icc_profile") or None
        return Space(mode, bits, icc, _exif_without_orientation(image), image.format or "",
                     (width, height))  # fmt: skip
