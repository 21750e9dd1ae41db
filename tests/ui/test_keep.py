"""Compare and keep in the editor: drift on the tiles, paste-back on Save and Use, the
compare page. A fault server plays a GPT image model that redraws the whole picture."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from tests.support import fault_server as fs
from tests.support import images
from tests.support.editor import open_sample_and_paint, until, use_provider
from tests.support.qtloop import next_signal

HOLE = (slice(262, 320), slice(330, 400))  # rows, cols: around the spoon's head


def redrawn_result(size: tuple[int, int] | None = None) -> tuple[bytes, np.ndarray]:
    """The sample with its hole filled grey and a square changed far from the mask (the
    drift a GPT model leaves), optionally at another size as fixed-size models return."""
    original = np.asarray(Image.open(images.sample()).convert("RGB")).copy()
    result = original.copy()
    result[HOLE] = 128
    result[20:60, 20:60] = [0, 255, 0]  # drift outside the mask: 1,600 pixels
    picture = Image.fromarray(result)
    if size is not None:
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue(), original


def generate(qt_loop, editor, server_url: str) -> int:
    window, session = editor.window, editor.session
    use_provider(editor, server_url)

    async def scenario():
        await open_sample_and_paint(editor)
        session.mask.fill_rect(330, 262, 400, 320)  # the hole the fake model fills
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        measured = next_signal(window.compare.measured)
        QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
        job_id, *_ = await measured
        return job_id

    return qt_loop.run(scenario(), timeout=60)


def test_tiles_show_drift_and_scaling(qt_loop, editor) -> None:
    data, _ = redrawn_result(size=(1536, 1024))
    with fs.serve(fs.json_images([data])) as server:
        job_id = generate(qt_loop, editor, server.base_url)
    drift = editor.session.jobs.jobs[job_id].results[0].drift  # the model's measure
    assert drift.scaled and drift.source_size == (1536, 1024)
    assert 0.003 < drift.share < 0.05  # the green square, plus resampling at its edges
    tile = editor.window.gallery.sections[job_id].tiles[0]  # and the tile shows it
    assert tile.measure_label.text() == (
        f"drift {drift.share * 100:.1f}% outside the mask · scaled from 1536×1024"
    )


def test_save_pastes_back_so_unmasked_pixels_are_the_original(
    qt_loop, editor, tmp_path, monkeypatch
) -> None:
    data, original = redrawn_result()
    with fs.serve(fs.json_images([data])) as server:
        job_id = generate(qt_loop, editor, server.base_url)
    window, session = editor.window, editor.session
    tile = window.gallery.sections[job_id].tiles[0]
    assert "drift" in tile.measure_label.text() and "scaled" not in tile.measure_label.text()
    pasted_target = tmp_path / "kept.png"
    received_target = tmp_path / "received.png"
    targets = iter([str(pasted_target), str(received_target)])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (next(targets), ""))

    async def save_both():
        tile.buttons["save"].click()
        await until(lambda: pasted_target.exists())
        window.results.act("save-alt", job_id, 0)
        await until(lambda: received_target.exists())

    qt_loop.run(save_both())
    mask = session.mask.mask >= 128
    kept = np.asarray(Image.open(pasted_target).convert("RGB"))
    received = np.asarray(Image.open(received_target).convert("RGB"))
    # Outside the mask's feathered reach: exactly the original, drift gone.
    grown = Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(25))
    far = ~np.asarray(grown).astype(bool)
    assert np.array_equal(kept[far], original[far])
    assert np.array_equal(received[20:60, 20:60], np.full((40, 40, 3), [0, 255, 0]))
    assert not np.array_equal(kept[20:60, 20:60], received[20:60, 20:60])
    inner = mask.copy()
    inner[:, :] = False
    inner[275:305, 345:385] = True
    assert np.array_equal(kept[inner], received[inner])  # inside: the result's pixels


def test_use_pastes_back_by_default(qt_loop, editor) -> None:
    data, original = redrawn_result()
    with fs.serve(fs.json_images([data])) as server:
        job_id = generate(qt_loop, editor, server.base_url)
    window, session = editor.window, editor.session
    window.gallery.sections[job_id].tiles[0].buttons["use"].click()

    async def wait_used():
        await until(lambda: "-pasted-" in session.inputs.first.name)

    qt_loop.run(wait_used())
    job = session.jobs.jobs[job_id]
    # Written into the job's own folder, under a name no other use of the result takes.
    assert session.inputs.first.parent == job.folder
    assert session.document.path == session.inputs.first
    used = np.asarray(Image.open(session.inputs.first).convert("RGB"))
    assert np.array_equal(used[20:60, 20:60], original[20:60, 20:60])
    assert session.mask.has_painting()


def test_compare_page_shows_original_and_variant(qt_loop, editor) -> None:
    data, _ = redrawn_result()
    with fs.serve(fs.json_images([data])) as server:
        job_id = generate(qt_loop, editor, server.base_url)
    window = editor.window

    async def open_compare():
        ready = next_signal(window.compare.pair_ready)
        QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        return await ready

    a, b, a_label, b_label, _overlay = qt_loop.run(open_compare())
    assert window.stack.currentWidget() is window.compare_panel
    job = editor.session.jobs.jobs[job_id]
    assert (a_label, b_label) == ("Original", f"#{job.number} variant 1")
    assert (a.image.width(), a.image.height()) == (b.image.width(), b.image.height()) == (600, 400)
    # The zoom levels came built from the worker: 600 px, then 300 px.
    assert [level.width() for level in b.levels] == [600, 300]

    async def with_drift():
        ready = next_signal(window.compare.pair_ready)
        window.compare_panel.drift.setChecked(True)
        return await ready

    *_, overlay = qt_loop.run(with_drift())
    assert overlay is not None and overlay.image.pixelColor(40, 40).alpha() > 0
    assert overlay.image.pixelColor(500, 350).alpha() == 0
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.canvas
