"""Writing pasted pixels with the photo's ICC profile, bit depth and EXIF.

PNG holds 8 and 16 bits of grey, grey+alpha, RGB and RGBA, an ICC profile (iCCP) and EXIF
(eXIf), so it keeps everything but CMYK, which goes to TIFF. Pillow writes 8-bit files and
16-bit grey PNG; it cannot write 16-bit colour, so 16-bit RGB(A) PNG comes from OpenCV
with the profile and EXIF chunks added here, 16-bit grey+alpha PNG is encoded here, and
16-bit TIFF comes from tifffile. JPEG and WebP hold 8 bits only (``losses`` says what is
given up).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, ImageCms

from app.core.imageio import write_atomic
from app.core.original.reading import Original

EXTENSIONS = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg", "webp": ".webp"}
_ALIASES = {"png": "png", "tif": "tiff", "tiff": "tiff", "jpg": "jpeg", "jpeg": "jpeg",
            "webp": "webp"}  # fmt: skip
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_LEVEL = 3
"""zlib level for kept 8-bit PNGs: at 48 MP level 3 writes in 3.8 s against 11.3 s at
Pillow's default 6, for a file 8 % larger (measured on a camera photo)."""
PNG_LEVEL_16 = 1
"""For 16-bit grey+alpha, written here with zlib. 16-bit RGB(A) goes through OpenCV with
its own defaults (level 1 with the run-length strategy): a 48 MP photo in 2.5-3.0 s, where
asking for level 1 explicitly drops that strategy and takes 8.2 s for a file 3 % smaller
(tests/benchmarks/bench_photos.py)."""
# Colour chunks that would contradict the profile written (the PNG spec forbids sRGB next
# to iCCP, and gAMA/cHRM are overridden by it); replaced along with any iCCP and eXIf.
_PNG_REPLACED = (b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"eXIf")
_EXIF_PREFIX = b"Exif\x00\x00"
_JPEG_EXIF_LIMIT = 65_000  # an APP1 segment holds at most 65,533 bytes
# TIFF ASCII tags a 16-bit TIFF takes over from the EXIF (tifffile writes no EXIF
# directory): ImageDescription, Make, Model, Software, DateTime, Artist, Copyright; and the
# resolution (XResolution, YResolution, ResolutionUnit).
_TIFF_TEXT_TAGS = (270, 271, 272, 305, 306, 315, 33432)
_RESOLUTION_TAGS = (282, 283, 296)


def normal_format(fmt: str) -> str:
    """ "png", "tiff", "jpeg" or "webp" for a format name or extension (".tif", "JPG" ...)."""
    name = _ALIASES.get(fmt.lower().lstrip("."))
    if name is None:
        raise ValueError(f"cannot save as {fmt!r}; choose PNG, TIFF, JPEG or WebP")
    return name


def lossless_format(original: Original) -> str:
    """ "png", or "tiff" where PNG cannot hold the photo (CMYK)."""
    return "tiff" if original.mode == "CMYK" else "png"


def _partial_exif(original: Original) -> bool:
    """Whether the EXIF has more than the text tags a 16-bit TIFF takes over."""
    if not original.exif:
        return False
    exif = Image.Exif()
    exif.load(original.exif)
    return any(tag not in _TIFF_TEXT_TAGS + _RESOLUTION_TAGS for tag in exif)


def losses(original: Original, fmt: str) -> list[str]:
    """What saving ``original`` (or pixels in its mode and depth) as ``fmt`` would lose,
    in short sentences for the Save dialog; empty when the format holds everything."""
    fmt = normal_format(fmt)
    found = []
    if fmt == "png" and original.mode == "CMYK":
        found.append("PNG cannot hold CMYK: choose TIFF")
    if fmt in ("jpeg", "webp") and original.bits == 16:
        found.append("16-bit depth becomes 8-bit")
    if fmt == "jpeg" and original.has_alpha:
        found.append("transparency is flattened onto white")
    if fmt == "webp" and original.mode == "CMYK":
        found.append("CMYK is converted to RGB")
    if fmt == "jpeg":
        found.append("JPEG compression changes pixels outside the mask too")
    if fmt == "webp":
        found.append("WebP compression changes pixels outside the mask too")
    if fmt == "tiff" and original.bits == 16 and _partial_exif(original):
        found.append("EXIF keeps only make, model, date, artist and copyright")
    return found


# --- PNG ------------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk: length, type, data, and the CRC-32 of type and data (PNG spec 5.3)."""
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _colour_chunks(original: Original) -> list[bytes]:
    chunks = []
    if original.icc:
        # iCCP: a profile name (1-79 Latin-1 bytes), a null, compression method 0 (zlib),
        # then the compressed profile.
        chunks.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(original.icc)))
    if original.exif:
        # eXIf holds the TIFF-structured EXIF itself, without JPEG's "Exif\0\0" prefix.
        chunks.append(_chunk(b"eXIf", original.exif.removeprefix(_EXIF_PREFIX)))
    return chunks


def _with_chunks(png: bytes, extra: list[bytes]) -> bytes:
    """``png`` with its colour chunks replaced by ``extra``, placed right after IHDR
    (before any IDAT, where the spec wants iCCP)."""
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("the encoder did not produce a PNG")
    parts, position = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while position < len(png):
        (length,) = struct.unpack_from(">I", png, position)
        kind = png[position + 4 : position + 8]
        end = position + 12 + length
        if kind not in _PNG_REPLACED:
            parts.append(png[position:end])
        if kind == b"IHDR":
            parts.extend(extra)
        position = end
    return b"".join(parts)


def _png_grey_alpha_16(pixels: np.ndarray) -> bytes:
    """A 16-bit grey+alpha PNG (colour type 4), which neither Pillow nor OpenCV writes:
    big-endian samples, every row with filter type 0 (PNG spec 7.2, 9.2)."""
    height, width = pixels.shape[:2]
    raw = np.zeros((height, 1 + 4 * width), np.uint8)
    raw[:, 1:] = pixels.astype(">u2").view(np.uint8).reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 16, 4, 0, 0, 0)
    idat = zlib.compress(raw.tobytes(), PNG_LEVEL_16)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _png(pixels: np.ndarray, original: Original) -> bytes:
    if original.mode == "CMYK":
        raise ValueError("PNG cannot hold a CMYK picture; choose .tif to keep it as CMYK")
    if original.bits == 8 or original.mode == "L":  # Pillow: 8 bits, and 16-bit grey (I;16)
        buffer = io.BytesIO()
        options = {"icc_profile": original.icc, "exif": original.exif}
        _pillow(pixels, original.mode).save(
            buffer, "PNG", compress_level=PNG_LEVEL, **_set(options)
        )
        return buffer.getvalue()
    if original.mode == "LA":
        encoded = _png_grey_alpha_16(pixels)
    else:
        code = cv2.COLOR_RGBA2BGRA if original.mode == "RGBA" else cv2.COLOR_RGB2BGR
        ok, buffer = cv2.imencode(".png", cv2.cvtColor(pixels, code))  # see PNG_LEVEL_16
        if not ok:
            raise ValueError("OpenCV could not encode the 16-bit PNG")
        encoded = buffer.tobytes()
    return _with_chunks(encoded, _colour_chunks(original))


# --- TIFF, JPEG, WebP -----------------------------------------------------------------------


def _set(options: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in options.items() if value}


def _pillow(pixels: np.ndarray, mode: str) -> Image.Image:
    if mode == "CMYK":  # fromarray would take four channels for RGBA
        height, width = pixels.shape[:2]
        return Image.frombuffer("CMYK", (width, height), np.ascontiguousarray(pixels), "raw",
                                "CMYK", 0, 1)  # fmt: skip
    return Image.fromarray(np.ascontiguousarray(pixels))


def _tiff(pixels: np.ndarray, original: Original) -> bytes:
    buffer = io.BytesIO()
    if original.bits == 8:
        options = {"icc_profile": original.icc, "exif": original.exif}
        image = _pillow(pixels, original.mode)
        image.save(buffer, "TIFF", compression="tiff_adobe_deflate", **_set(options))
        return buffer.getvalue()
    text: dict[int, str] = {}
    resolution = None
    if original.exif:
        exif = Image.Exif()
        exif.load(original.exif)
        text = {
            tag: exif[tag]
            for tag in _TIFF_TEXT_TAGS
            if isinstance(exif.get(tag), str) and exif[tag].isascii()
        }
        if 282 in exif and 283 in exif:
            resolution = (float(exif[282]), float(exif[283]))
            resolution_unit = exif.get(296, 2)  # 2: inches, the TIFF default
    # tifffile writes description, date and software itself (and refuses them as extra
    # tags); False keeps its own name out of Software.
    tifffile.imwrite(
        buffer,
        pixels,
        photometric="minisblack" if original.mode in ("L", "LA") else "rgb",
        extrasamples=("unassalpha",) if original.has_alpha else None,
        compression="zlib",
        metadata=None,
        iccprofile=original.icc,  # tag 34675, InterColorProfile
        description=text.pop(270, None),
        datetime=text.pop(306, None),
        software=text.pop(305, False),
        resolution=resolution,
        resolutionunit=resolution_unit if resolution else None,
        extratags=[(tag, "s", 0, value, True) for tag, value in text.items()],
    )
    return buffer.getvalue()


def to_8_bits(pixels: np.ndarray) -> np.ndarray:
    """16-bit levels rounded to 8 (v / 257); 8-bit pixels as they are."""
    if pixels.dtype == np.uint8:
        return pixels
    return cv2.convertScaleAbs(pixels, alpha=1 / 257)


def _flatten_on_white(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 2|4) uint8 with straight alpha -> (H, W, 1|3) composited onto white, in
    strips so that no float copy of the whole picture is made."""
    colours = pixels.shape[2] - 1
    out = np.empty((*pixels.shape[:2], colours), np.uint8)
    for y0 in range(0, pixels.shape[0], 256):
        strip = pixels[y0 : y0 + 256].astype(np.float32)
        alpha = strip[..., colours:] / 255
        flat = 255 - (255 - strip[..., :colours]) * alpha
        out[y0 : y0 + 256] = np.rint(flat).astype(np.uint8)
    return out if colours == 3 else out[..., 0]


def _jpeg_or_webp(pixels: np.ndarray, original: Original, fmt: str, quality: int) -> bytes:
    pixels = to_8_bits(pixels)
    mode, icc = original.mode, original.icc
    if fmt == "jpeg" and original.has_alpha:  # JPEG has no alpha
        pixels, mode = _flatten_on_white(pixels), mode[:-1]
    image = _pillow(pixels, mode)
    if fmt == "webp" and mode == "CMYK":  # WebP holds RGB only: through the profile
        if icc:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            image = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
            icc = srgb.tobytes()
        else:
            image = image.convert("RGB")
    elif fmt == "webp" and mode in ("L", "LA"):  # WebP holds no grey; a grey profile
        image, icc = image.convert("RGBA" if mode == "LA" else "RGB"), None  # fits no RGB
    exif = original.exif
    if fmt == "jpeg" and exif and len(exif) > _JPEG_EXIF_LIMIT:
        exif = None  # too long for JPEG's APP1 segment (huge maker notes): dropped
    options = _set({"icc_profile": icc, "exif": exif})
    if fmt == "jpeg":
        options["subsampling"] = 0  # full-resolution colour: retouching shows in detail
    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if fmt == "jpeg" else "WEBP", quality=quality, **options)
    return buffer.getvalue()


def _check_pixels(pixels: np.ndarray, original: Original) -> None:
    channels = {"L": (), "LA": (2,), "RGB": (3,), "RGBA": (4,), "CMYK": (4,)}[original.mode]
    height, width = original.size[1], original.size[0]
    expected = (height, width, *channels)
    dtype = np.uint16 if original.bits == 16 else np.uint8
    if pixels.shape != expected or pixels.dtype != dtype:
        raise ValueError(
            f"the pixels must be {dtype.__name__} of shape {expected} (the photo's mode "
            f"{original.mode} at {original.bits} bits), got {pixels.dtype} {pixels.shape}"
        )


def write_original(
    target: Path, pixels: np.ndarray, original: Original, fmt: str, *, quality: int = 95
) -> Path:
    """Write ``pixels`` (in ``original``'s mode and depth, as paste_into returns them) to
    ``target`` as ``fmt`` (png, tiff, jpeg or webp) with the photo's ICC profile and EXIF
    (no orientation: the pixels are upright), atomically. PNG and TIFF keep the depth;
    JPEG and WebP are 8-bit (see ``losses``). PNG refuses CMYK (ValueError: choose .tif)."""
    fmt = normal_format(fmt)
    _check_pixels(pixels, original)
    if fmt == "png":
        data = _png(pixels, original)
    elif fmt == "tiff":
        data = _tiff(pixels, original)
    else:
        data = _jpeg_or_webp(pixels, original, fmt, quality)
    return write_atomic(Path(target), data)
