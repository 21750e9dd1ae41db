"""A small window around the compare widget, to try it on two files.

``python -m app.ui.compare A.png B.png [--mode side|wipe|difference]``; with one file, B is
a blurred copy of it, and with none the sample photo is compared with a blurred copy. A B of
another size is scaled to A's, as the editor does with results.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageFilter
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from app.core.imageio import ImageFileError, decode_image
from app.core.resources import resource_path
from app.core.schema import load_schema
from app.models.levels import qimage_from_pil
from app.ui.compare.widget import MODES, CompareWidget
from app.ui.theme import apply_dark_theme


def read_picture(path: Path) -> Image.Image:
    """The file's pixels (RGB or RGBA); raises ImageFileError with a message for the user."""
    max_pixels = load_schema().files.max_pixels
    with decode_image(path, name=str(path), max_pixels=max_pixels) as image:
        image.load()
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")


def blurred(image: Image.Image, radius: float = 3.0) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def pair(paths: Sequence[Path]) -> tuple[QImage, QImage, str, str]:
    """A and B from the command line, B scaled to A's size when it differs."""
    first_path = paths[0] if paths else resource_path("samples", "coffee.png")
    first = read_picture(first_path)
    if len(paths) > 1:
        second, second_name = read_picture(paths[1]), paths[1].name
    else:
        second, second_name = blurred(first), f"{first_path.name} (blurred)"
    if second.size != first.size:
        second = second.resize(first.size, Image.Resampling.LANCZOS)
        second_name += f" (scaled to {first.width}x{first.height})"
    return qimage_from_pil(first), qimage_from_pil(second), first_path.name, second_name


class CompareWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retouch Studio · Compare")
        self.compare = CompareWidget(self)
        self.setCentralWidget(self.compare)
        self.statusBar().showMessage(
            "S side by side · W wipe · D difference · X flip · O drift map · "
            "wheel zooms · Ctrl+0 fit · Ctrl+1 100% · middle button or Space+drag pans",
        )
        self.statusBar().setSizeGripEnabled(False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.ui.compare", description="Compare two pictures of the same size."
    )
    parser.add_argument("pictures", nargs="*", type=Path, help="A, then B (at most two)")
    parser.add_argument("--mode", choices=MODES, default="wipe")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if len(args.pictures) > 2:
        parser.error("give at most two pictures: A and B")
    try:
        a, b, a_name, b_name = pair(args.pictures)
    except (ImageFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication([sys.argv[0]])
    QGuiApplication.setApplicationDisplayName("Retouch Studio")
    apply_dark_theme(app)  # type: ignore[arg-type]
    window = CompareWindow()
    window.resize(1280, 820)
    window.compare.set_images(a, b, a_name, b_name)
    window.compare.set_mode(args.mode)
    window.show()
    window.compare.setFocus(Qt.FocusReason.OtherFocusReason)
    return app.exec()
