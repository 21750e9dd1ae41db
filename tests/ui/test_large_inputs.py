"""Input images too large for Qt's image reader (issue 12, real photos): Qt refuses to
decode a picture that would take over 256 MB (its allocation limit; a 100 MP PNG, which
this machine may open), so such an input's thumbnail is read by Pillow instead of going
missing without a word."""

from __future__ import annotations

from PIL import Image
from PySide6.QtGui import QImageReader

from app.models.inputs import THUMB_EDGE, thumbnail


def test_an_input_too_large_for_qts_reader_still_gets_its_thumbnail(qapp, tmp_path) -> None:
    path = tmp_path / "scan.png"
    Image.new("RGB", (1200, 800), (200, 40, 10)).save(path)
    limit = QImageReader.allocationLimit()
    QImageReader.setAllocationLimit(1)  # megabytes: as a 100 MP PNG is to the real limit
    try:
        image = thumbnail(path)
    finally:
        QImageReader.setAllocationLimit(limit)
    assert (image.width(), image.height()) == (THUMB_EDGE, THUMB_EDGE * 2 // 3)
    colour = image.pixelColor(10, 10)
    assert (colour.red(), colour.green(), colour.blue()) == (200, 40, 10)
