"""Small ICC v2 matrix/TRC display profiles for tests, written from published primaries
(no profile file is downloaded or copied). Adobe RGB (1998): its D50-adapted colorants
and a 563/256 (about 2.2) gamma, from Adobe's specification."""

from __future__ import annotations

import struct

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


def _curve(gamma: float) -> bytes:
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
                   gamma: float) -> bytes:  # fmt: skip
    """The bytes of an RGB display profile with these D50 colorants and one gamma."""
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
