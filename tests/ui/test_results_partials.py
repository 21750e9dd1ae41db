"""A cancelled job's partial image is a result like any other: the whole editor, a fault
server on 127.0.0.1 that sends one partial and then waits, and the tile's own buttons."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from tests.support import images
from tests.support.editor import cancel_after_one_partial, until

PARTIAL = images.png_bytes(48, 32)


def test_a_cancelled_partial_can_be_saved_copied_and_used(
    qt_loop, editor, tmp_path: Path, monkeypatch
) -> None:
    job_id = cancel_after_one_partial(qt_loop, editor)
    window, session = editor.window, editor.session
    tile = window.gallery.sections[job_id].tiles[0]
    partial = Path(tile.path)
    assert "cancelled (partial kept)" in tile.caption.text() and partial.is_file()
    assert all(tile.buttons[key].isEnabled() for key in ("save", "copy", "use"))

    target = tmp_path / "partial-kept.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    QGuiApplication.clipboard().clear()

    async def save_copy_use():
        tile.buttons["save"].click()
        await until(lambda: target.exists())
        tile.buttons["copy"].click()
        await until(lambda: not QGuiApplication.clipboard().image().isNull())
        tile.buttons["use"].click()
        await until(lambda: session.inputs.first.name.startswith(f"{partial.stem}-pasted-"))

    qt_loop.run(save_copy_use(), timeout=60)
    # Pasted back onto the original (the Results panel's default), so at its size.
    assert Image.open(target).size == Image.open(images.sample()).size
    copied = QGuiApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (48, 32)  # the partial as received
    assert session.mask.has_painting()  # Use kept the painted mask
    assert window.error_bar.isHidden()
