"""Saved and exported files are the designer's files: they get the permissions the user's
umask gives (not the private mode of the temporary file they are written through)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from app.models.keep import convert
from tests.support import fault_server as fs
from tests.support import images
from tests.support.editor import open_sample_and_paint, until, use_provider
from tests.support.files import mode_of
from tests.support.qtloop import next_signal

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def test_save_as_in_any_format_follows_the_umask(qt_loop, tmp_path: Path, umask: int) -> None:
    source = images.write(tmp_path / "001-v0-final.png", images.png_bytes(40, 30))
    as_png, as_jpeg = tmp_path / "copy.png", tmp_path / "converted.jpg"

    async def save_both() -> None:
        # the same format: a plain copy of the bytes
        await asyncio.to_thread(convert, source, as_png)
        await asyncio.to_thread(convert, source, as_jpeg)  # re-encoded

    qt_loop.run(save_both())
    assert as_png.read_bytes() == source.read_bytes()
    assert mode_of(as_png) == mode_of(as_jpeg) == 0o666 & ~umask


def test_saving_over_a_file_keeps_its_permissions(qt_loop, tmp_path: Path, umask: int) -> None:
    source = images.write(tmp_path / "001-v0-final.png", images.png_bytes(40, 30))
    target = images.write(tmp_path / "shared.png", b"an older export")
    target.chmod(0o660)
    qt_loop.run(asyncio.to_thread(convert, source, target))
    assert target.read_bytes() == source.read_bytes() and mode_of(target) == 0o660


def test_results_exports_and_masks_from_the_editor_follow_the_umask(
    qt_loop, editor, tmp_path: Path, monkeypatch, umask: int
) -> None:
    window, session = editor.window, editor.session
    exported, mask_file = tmp_path / "kept.png", tmp_path / "mask.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(exported), ""))
    with fs.serve(fs.json_images([images.png_bytes(600, 400)])) as server:
        use_provider(editor, server.base_url)

        async def scenario():
            await open_sample_and_paint(editor)
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            final = next_signal(session.jobs.image_received)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            job_id, variant, _image, path = await final
            await until(lambda: window.gallery.sections[job_id].tiles[variant].is_final)
            window.gallery.sections[job_id].tiles[variant].buttons["save"].click()
            await until(lambda: exported.exists())
            await session.save_mask(mask_file)
            return job_id, Path(path)

        job_id, result = qt_loop.run(scenario(), timeout=60)
    folder = session.jobs.jobs[job_id].folder
    # Every file the editor wrote; original.png is the photo's own file (a hard link).
    made = [p for p in folder.iterdir() if not p.name.startswith("original")]
    written = {p.name: mode_of(p) for p in [*made, exported, mask_file]}
    assert {"job.json", result.name, exported.name, mask_file.name} <= set(written)
    assert set(written.values()) == {0o666 & ~umask}, {k: oct(v) for k, v in written.items()}
