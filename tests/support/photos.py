"""A generated corpus of real-world photo files (nothing downloaded): Adobe RGB and ProPhoto
profiles, 16-bit PNG and TIFF, 16-bit grey, CMYK with and without a profile, alpha,
palette, EXIF-turned. Each comes with its pixels upright as decoded here, independently of
app.core.original, for comparing what the app reads and writes."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, ImageOps

from tests.support import icc

ORIENTATION = 0x0112
MAKE = 271
SIZE = (72, 48)  # width, height, upright


@dataclass(frozen=True)
class Photo:
    path: Path
    pixels: np.ndarray  # upright, as stored (uint8 or uint16)
    mode: str
    bits: int
    icc: bytes | None


def scene(width: int, height: int, channels: int, bits: int = 8) -> np.ndarray:
    """A smooth picture with a pure red top-left corner (the orientation can be read back)
    and, with 2 or 4 channels, an alpha that fades left to right."""
    peak = 65535 if bits == 16 else 255
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = x / max(1, width - 1)
    g = y / max(1, height - 1)
    b = 0.5 + 0.3 * np.sin((x + y) / 9.0)
    rgb = np.dstack([r, g, b])
    rgb[:6, :10] = (1.0, 0.0, 0.0)
    alpha = 0.2 + 0.8 * x / max(1, width - 1)
    planes = {
        1: [rgb.mean(axis=2)],
        2: [rgb.mean(axis=2), alpha],
        3: [rgb[..., 0], rgb[..., 1], rgb[..., 2]],
        4: [rgb[..., 0], rgb[..., 1], rgb[..., 2], alpha],
    }[channels]
    out = np.rint(np.dstack(planes) * peak).astype(np.uint16 if bits == 16 else np.uint8)
    return out[..., 0] if channels == 1 else out


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png16(path: Path, pixels: np.ndarray, profile: bytes | None = None,
          exif: bytes | None = None) -> Path:  # fmt: skip
    """A 16-bit PNG (grey, grey+alpha, RGB or RGBA by the channel count), encoded here."""
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = pixels.astype(">u2").reshape(height, -1).view(np.uint8)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()
    data = b"\x89PNG\r\n\x1a\n" + _chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    )
    if profile:
        data += _chunk(b"iCCP", b"test\x00\x00" + zlib.compress(profile))
    if exif:
        data += _chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00"))
    data += _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def exif_bytes(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "Retouch Test Camera"
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def _pillow(path: Path, pixels: np.ndarray, mode: str, fmt: str, **options) -> Photo:
    """Saved by Pillow; the expected pixels are what Pillow decodes of it, upright."""
    image = Image.frombytes(mode, pixels.shape[1::-1], pixels.tobytes())
    image.save(path, fmt, **options)
    with Image.open(path) as stored:
        upright = ImageOps.exif_transpose(stored)
        if upright.mode == "P":
            upright = upright.convert("RGBA" if "transparency" in stored.info else "RGB")
        decoded = np.asarray(upright)
    bits = 16 if decoded.dtype == np.uint16 else 8
    return Photo(path, decoded, upright.mode if bits == 8 else "L", bits,
                 options.get("icc_profile"))  # fmt: skip


def _palette(path: Path) -> Photo:
    rgb = scene(*SIZE, 3)
    image = Image.fromarray(rgb).quantize(32)
    image.info["transparency"] = 0
    image.save(path, "PNG", transparency=0)
    with Image.open(path) as stored:
        decoded = np.asarray(stored.convert("RGBA"))
    return Photo(path, decoded, "RGBA", 8, None)


def _tiff16_turned(path: Path) -> Photo:
    """A 16-bit RGB TIFF with the Adobe RGB profile, stored a quarter turn anticlockwise
    with orientation 6 (turn it clockwise to view it)."""
    upright = scene(*SIZE, 3, 16)
    stored = np.ascontiguousarray(np.rot90(upright, 1))
    tifffile.imwrite(
        path, stored, photometric="rgb", iccprofile=icc.adobe_rgb(), metadata=None,
        extratags=[(274, "H", 1, 6, True), (MAKE, "s", 0, "Retouch Test Camera", True)],
    )  # fmt: skip
    return Photo(path, upright, "RGB", 16, icc.adobe_rgb())


def _turned_jpeg(path: Path) -> Photo:
    upright = scene(*SIZE, 3)
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # shown upright by orientation 6
    return _pillow(path, stored, "RGB", "JPEG", exif=exif_bytes(6), quality=95)


BUILDERS: dict[str, Callable[[Path], Photo]] = {
    "adobe-8.png": lambda p: _pillow(p, scene(*SIZE, 3), "RGB", "PNG",
                                     icc_profile=icc.adobe_rgb(), exif=exif_bytes()),
    "adobe.jpg": lambda p: _pillow(p, scene(*SIZE, 3), "RGB", "JPEG",
                                   icc_profile=icc.adobe_rgb(), exif=exif_bytes(), quality=95),
    "prophoto-16.png": lambda p: Photo(
        png16(p, scene(*SIZE, 3, 16), icc.prophoto(), exif_bytes()),
        scene(*SIZE, 3, 16), "RGB", 16, icc.prophoto(),
    ),
    "adobe-16-turned.tif": _tiff16_turned,
    "grey-16.png": lambda p: Photo(png16(p, scene(*SIZE, 1, 16)), scene(*SIZE, 1, 16),
                                   "L", 16, None),
    "grey-alpha-16.png": lambda p: Photo(png16(p, scene(*SIZE, 2, 16)), scene(*SIZE, 2, 16),
                                         "LA", 16, None),
    "cmyk-profile.jpg": lambda p: _pillow(p, 255 - scene(*SIZE, 4), "CMYK", "JPEG",
                                          icc_profile=icc.cmyk(), quality=95),
    "cmyk.jpg": lambda p: _pillow(p, 255 - scene(*SIZE, 4), "CMYK", "JPEG", quality=95),
    "rgba.png": lambda p: _pillow(p, scene(*SIZE, 4), "RGBA", "PNG", icc_profile=icc.adobe_rgb()),
    "grey-alpha.png": lambda p: _pillow(p, scene(*SIZE, 2), "LA", "PNG"),
    "palette.png": _palette,
    "turned-6.jpg": _turned_jpeg,
}  # fmt: skip


def build(name: str, folder: Path) -> Photo:
    folder.mkdir(parents=True, exist_ok=True)
    return BUILDERS[name](folder / name)


def reread(path: Path) -> np.ndarray:
    """A written file's pixels as stored: a 16-bit PNG through OpenCV (IMREAD_UNCHANGED
    keeps the depth; its BGR(A) put back in order, grey+alpha from the expanded BGRA),
    anything else through Pillow."""
    head = path.read_bytes()[:26]
    if head.startswith(b"\x89PNG") and head[24] == 16 and head[25] != 0:
        pixels = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
        if head[25] == 4:  # grey+alpha
            return pixels[..., [0, 3]]
        code = cv2.COLOR_BGRA2RGBA if head[25] == 6 else cv2.COLOR_BGR2RGB
        return cv2.cvtColor(pixels, code)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA") if image.mode == "P" else image)
