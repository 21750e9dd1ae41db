"""Small ICC v2 matrix/TRC display profiles for tests, written from published primaries
(no profile file is downloaded or copied). Adobe RGB (1998): its D50-adapted colorants
and a 563/256 (about 2.2) gamma, from Adobe's specification."""

from __future__ import annotations

import struct

import numpy as np

D50 = (0.9642, 1.0, 0.8249)
ADOBE_RGB = {
    "red": (0.6097, 0.3111, 0.0195),
    "green": (0.2053, 0.6257, 0.0609),
    "blue": (0.1492, 0.0632, 0.7446),
}


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _curve(gamma: float | np.ndarray) -> bytes:
    """A curveType: one gamma (u8Fixed8), or a table of samples 0..1 (uint16)."""
    if isinstance(gamma, np.ndarray):
        samples = np.rint(np.clip(gamma, 0, 1) * 65535).astype(">u2").tobytes()
        body = b"curv" + b"\0" * 4 + struct.pack(">I", gamma.size) + samples
        return body + b"\0" * (-len(body) % 4)
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    body = b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
    body += struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67
    return body + b"\0" * (-len(body) % 4)


def _text(text: str) -> bytes:
    body = b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"
    return body + b"\0" * (-len(body) % 4)


def matrix_profile(name: str, colorants: dict[str, tuple[float, float, float]],
                   gamma: float | np.ndarray) -> bytes:  # fmt: skip
    """The bytes of an RGB display profile with these D50 colorants and one gamma (or one
    tone curve table for all three channels)."""
    tags = [
        (b"desc", _description(name)),
        (b"cprt", _text("No copyright, use freely (test profile)")),
        (b"wtpt", _xyz(*D50)),
        (b"rXYZ", _xyz(*colorants["red"])),
        (b"gXYZ", _xyz(*colorants["green"])),
        (b"bXYZ", _xyz(*colorants["blue"])),
        (b"rTRC", _curve(gamma)),
        (b"gTRC", _curve(gamma)),
        (b"bTRC", _curve(gamma)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"\0\0\0\0", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0)
    header += _s15(D50[0]) + _s15(D50[1]) + _s15(D50[2]) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    assert len(header) == 128
    return header + table + data


def adobe_rgb() -> bytes:
    return matrix_profile("Adobe RGB (1998) compatible test profile", ADOBE_RGB, 563 / 256)


# ROMM RGB (ProPhoto), ISO 22028-2: primaries red (0.7347, 0.2653), green (0.1596, 0.8404),
# blue (0.0366, 0.0001), white D50, a plain 1.8 gamma. Its D50 colorants, computed from
# those primaries (rounded to four places, as profiles print them).
ROMM_RGB = {
    "red": (0.7977, 0.2880, 0.0000),
    "green": (0.1352, 0.7119, 0.0000),
    "blue": (0.0313, 0.0001, 0.8249),
}


def prophoto() -> bytes:
    return matrix_profile("ProPhoto (ROMM RGB) compatible test profile", ROMM_RGB, 1.8)


# --- a CMYK printer profile ----------------------------------------------------------------
# CMYK profiles are tables (lut16Type, ICC.1:2001-04 6.5.7): A2B0 takes CMYK to the PCS,
# B2A0 the PCS back to CMYK. This one models an ideal press in XYZ: the inks filter linear
# light, R = (1 - C)(1 - K) and so on, the RGB being sRGB's primaries (D50 colorants of
# little-cms's sRGB), and B2A0 separates with full grey replacement (K = min(C, M, Y)).

SRGB_D50 = np.array([[0.4361, 0.3851, 0.1431], [0.2225, 0.7169, 0.0606], [0.0139, 0.0971, 0.7141]])


def _lut16(inputs: int, outputs: int, grid: int, clut: np.ndarray) -> bytes:
    """A lut16Type ('mft2') with an identity matrix, identity 2-entry input and output
    tables and ``clut`` ((grid ** inputs, outputs) values 0..1, first input slowest)."""
    identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    body = b"mft2" + b"\0" * 4 + struct.pack(">BBBB", inputs, outputs, grid, 0)
    body += b"".join(_s15(value) for value in identity) + struct.pack(">HH", 2, 2)
    body += struct.pack(">HH", 0, 65535) * inputs
    body += np.rint(np.clip(clut, 0, 1) * 65535).astype(">u2").tobytes()
    return body + struct.pack(">HH", 0, 65535) * outputs


def _cmyk_to_xyz(grid: int) -> np.ndarray:
    steps = np.linspace(0, 1, grid)
    c, m, y, k = (a.reshape(-1) for a in np.meshgrid(steps, steps, steps, steps, indexing="ij"))
    rgb = np.stack([(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)], axis=1)
    xyz = rgb @ SRGB_D50.T
    return xyz * 32768 / 65535  # as a share of the lut16 XYZ range


def _xyz_to_cmyk(grid: int) -> np.ndarray:
    steps = np.linspace(0, 1, grid) * 65535 / 32768  # the XYZ each grid point stands for
    x, y, z = (a.reshape(-1) for a in np.meshgrid(steps, steps, steps, indexing="ij"))
    rgb = np.clip(np.stack([x, y, z], axis=1) @ np.linalg.inv(SRGB_D50).T, 0, 1)
    cmy = 1 - rgb
    k = cmy.min(axis=1, keepdims=True)
    cmy = np.where(k < 1, (cmy - k) / np.maximum(1 - k, 1e-9), 0)
    return np.concatenate([cmy, k], axis=1)


def _profile(device: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"\0\0\0\0", 0x02100000, device, space, pcs)
    header += b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0)
    header += _s15(D50[0]) + _s15(D50[1]) + _s15(D50[2]) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    return header + table + data


def cmyk() -> bytes:
    """An ideal-press CMYK output profile (PCS XYZ, 9-point A2B0, 17-point B2A0)."""
    return _profile(
        b"prtr",
        b"CMYK",
        b"XYZ ",
        [
            (b"desc", _description("Ideal press CMYK test profile")),
            (b"cprt", _text("No copyright, use freely (test profile)")),
            (b"wtpt", _xyz(*D50)),
            (b"A2B0", _lut16(4, 3, 9, _cmyk_to_xyz(9))),
            (b"B2A0", _lut16(3, 4, 17, _xyz_to_cmyk(17))),
        ],
    )
