"""Just enough of an ICC profile to convert sRGB into a matrix/TRC ("matrix-shaper") RGB
profile in floating point, for 16-bit photos that little-cms cannot take through Pillow
(ImageCms converts 8-bit RGB only).

A matrix-shaper RGB profile maps device RGB to the profile connection space (PCS, CIE XYZ
relative to D50) in two steps: a tone curve per channel (rTRC, gTRC, bTRC) from the encoded
value to linear light, then a 3x3 matrix whose columns are the colorants (rXYZ, gXYZ,
bXYZ). Going *into* such a profile runs the steps backwards: the inverse matrix, then the
inverse curves.

Layouts follow ICC.1:2001-04 (v2) and ICC.1:2022 (v4.4), which agree on everything read
here: the 128-byte header (section 7.2), the tag table after it (7.3), and the tag types
XYZType (10.31), curveType (10.6) and parametricCurveType (10.18). Numbers are big-endian;
s15Fixed16Number is a signed 32-bit integer over 65536, u8Fixed8Number an unsigned 16-bit
integer over 256.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

_HEADER_SIZE = 128
_TAG_ENTRY = struct.Struct(">4sII")  # signature, offset from the profile's start, size
# Tags that make little-cms go through lookup tables instead of the matrix and curves when
# converting into the profile (B2A*) or out of it (A2B*): such a profile is not handled here.
_LUT_TAGS = (b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2")
_COLORANTS = (b"rXYZ", b"gXYZ", b"bXYZ")
_CURVES = (b"rTRC", b"gTRC", b"bTRC")
# parametricCurveType: the number of parameters of each function type (ICC.1:2022 table 68).
_PARA_COUNTS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}


class ProfileError(ValueError):
    """A profile too short or malformed for the tags asked of it."""


@dataclass(frozen=True)
class Profile:
    """A parsed profile: its colour space and PCS signatures and its tags' raw bytes."""

    colour_space: bytes  # b"RGB ", b"GRAY", b"CMYK" ...
    pcs: bytes  # b"XYZ " or b"Lab "
    tags: dict[bytes, bytes]


def parse_profile(data: bytes) -> Profile:
    """The header's signatures and the tag table of an ICC profile."""
    if len(data) < _HEADER_SIZE + 4 or data[36:40] != b"acsp":
        raise ProfileError("not an ICC profile (no 'acsp' signature)")
    (count,) = struct.unpack_from(">I", data, _HEADER_SIZE)
    if _HEADER_SIZE + 4 + count * _TAG_ENTRY.size > len(data):
        raise ProfileError("the tag table runs past the end of the profile")
    tags = {}
    for index in range(count):
        signature, offset, size = _TAG_ENTRY.unpack_from(data, _HEADER_SIZE + 4 + 12 * index)
        if offset + size > len(data):
            raise ProfileError(f"tag {signature!r} runs past the end of the profile")
        tags[signature] = data[offset : offset + size]  # several entries may share data
    return Profile(data[16:20], data[20:24], tags)


def _s15(data: bytes, offset: int, count: int) -> list[float]:
    return [value / 65536 for value in struct.unpack_from(f">{count}i", data, offset)]


def read_xyz(tag: bytes) -> tuple[float, float, float]:
    """An XYZType tag: 'XYZ ', 4 reserved bytes, then X, Y, Z as s15Fixed16."""
    if tag[:4] != b"XYZ " or len(tag) < 20:
        raise ProfileError("an XYZ tag is malformed")
    x, y, z = _s15(tag, 8, 3)
    return x, y, z


@dataclass(frozen=True)
class Curve:
    """A tone curve from encoded values (0..1) to linear light (0..1), as stored:
    ``kind`` "gamma" (params: the exponent), "table" (table: samples at equally spaced
    inputs) or "para" (function: the parametricCurveType number, params: g, a, b, c, d, e, f
    as far as the type has them)."""

    kind: str
    params: tuple[float, ...] = ()
    table: np.ndarray | None = None
    function: int = 0

    def inverse(self, linear: np.ndarray) -> np.ndarray:
        """Encoded values (0..1, float32) for ``linear`` values (0..1, float32), in place
        where possible."""
        if self.kind == "gamma":
            return np.power(linear, np.float32(1.0 / self.params[0]), out=linear)
        if self.kind == "table":
            assert self.table is not None
            # A table curve is a monotonic run of samples: reading it backwards is an
            # interpolation with the axes swapped. Flat stretches are made non-decreasing.
            samples = np.maximum.accumulate(self.table)
            grid = np.linspace(0.0, 1.0, samples.size, dtype=np.float32)
            return np.interp(linear, samples, grid).astype(np.float32)
        return _inverse_parametric(self.function, self.params, linear)


def _inverse_parametric(function: int, p: tuple[float, ...], y: np.ndarray) -> np.ndarray:
    """Inverse of the parametricCurveType functions (ICC.1:2022 table 68), X from Y:
        0: Y = X^g
        1: Y = (aX + b)^g               for X >= -b/a, else 0
        2: Y = (aX + b)^g + c           for X >= -b/a, else c
        3: Y = (aX + b)^g               for X >= d,    else cX
        4: Y = (aX + b)^g + e           for X >= d,    else cX + f
    Each power segment inverts to X = ((Y - offset)^(1/g) - b) / a; the linear segment of
    types 3 and 4 to X = (Y - f) / c below the curve's value at d."""
    g = p[0]
    if function == 0:
        return np.power(y, np.float32(1.0 / g))
    a, b = p[1], p[2]
    offset = {2: p[3] if len(p) > 3 else 0.0, 4: p[5] if len(p) > 5 else 0.0}.get(function, 0.0)
    shifted = np.maximum(y - np.float32(offset), np.float32(0.0))
    x = (np.power(shifted, np.float32(1.0 / g)) - np.float32(b)) / np.float32(a)
    if function in (3, 4):
        c, d = p[3], p[4]
        f = p[6] if function == 4 else 0.0
        knee = max(a * d + b, 0.0) ** g + offset  # Y where the two segments meet
        if c > 0:
            x = np.where(y >= np.float32(knee), x, (y - np.float32(f)) / np.float32(c))
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def read_curve(tag: bytes) -> Curve:
    """A curveType ('curv') or parametricCurveType ('para') tag."""
    kind = tag[:4]
    if kind == b"curv" and len(tag) >= 12:
        (count,) = struct.unpack_from(">I", tag, 8)
        if count == 0:  # the identity
            return Curve("gamma", (1.0,))
        if count == 1:  # one u8Fixed8Number: a pure gamma
            (gamma,) = struct.unpack_from(">H", tag, 12)
            return Curve("gamma", (gamma / 256,))
        if len(tag) < 12 + 2 * count:
            raise ProfileError("a curve table is shorter than its count")
        table = np.frombuffer(tag, ">u2", count, 12).astype(np.float32) / 65535
        return Curve("table", table=table)
    if kind == b"para" and len(tag) >= 12:
        (function,) = struct.unpack_from(">H", tag, 8)
        count = _PARA_COUNTS.get(function)
        if count is None or len(tag) < 12 + 4 * count:
            raise ProfileError(f"parametric curve type {function} is not known")
        return Curve("para", tuple(_s15(tag, 12, count)), function=function)
    raise ProfileError(f"a tone curve of type {kind!r} is not known")


@dataclass(frozen=True)
class MatrixShaper:
    """An RGB matrix/TRC profile: colorants as matrix columns (device linear RGB -> XYZ
    D50) and one tone curve per channel."""

    matrix: np.ndarray  # (3, 3) float64
    curves: tuple[Curve, Curve, Curve]


def matrix_shaper(data: bytes) -> MatrixShaper | None:
    """The matrix and curves of an RGB matrix/TRC profile; None for any other profile (a
    LUT-based one, a grey or CMYK one, a damaged one), which little-cms must convert."""
    try:
        profile = parse_profile(data)
        if profile.colour_space != b"RGB " or profile.pcs != b"XYZ ":
            return None
        if any(tag in profile.tags for tag in _LUT_TAGS):
            return None
        if not all(tag in profile.tags for tag in _COLORANTS + _CURVES):
            return None
        columns = [read_xyz(profile.tags[tag]) for tag in _COLORANTS]
        red, green, blue = (read_curve(profile.tags[tag]) for tag in _CURVES)
    except (ProfileError, struct.error):
        return None
    matrix = np.array(columns, np.float64).T
    if abs(np.linalg.det(matrix)) < 1e-9:  # colorants that span no colour space
        return None
    return MatrixShaper(matrix, (red, green, blue))
