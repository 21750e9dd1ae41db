"""Pictures decoded for display only: display-sized QImages of results and inputs, built in
worker threads (QImage, unlike QPixmap, may be made off the UI thread). The full images stay
on disk."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader

THUMBNAIL_EDGE = 512


def decode_for_display(data: bytes, edge: int = THUMBNAIL_EDGE) -> QImage:
    """Decode encoded bytes to a QImage no larger than ``edge`` on its long side. Runs in a
    worker thread: QImage (unlike QPixmap) may be built off the UI thread."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    return _read_scaled(QImageReader(buffer), edge, "the image")


def decode_file_for_display(path: Path, edge: int) -> QImage:
    """As decode_for_display, reading the file directly: no copies of its bytes in memory."""
    return _read_scaled(QImageReader(str(path)), edge, path.name)


def decode_saved(path: Path) -> QImage:
    """A saved result for display; its error says "the image", the caller names the file."""
    return _read_scaled(QImageReader(str(path)), THUMBNAIL_EDGE, "the image")


def _read_scaled(reader: QImageReader, edge: int, label: str) -> QImage:
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > edge:
        reader.setScaledSize(size.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ValueError(f"{label} could not be decoded ({reader.errorString()})")
    return image
