"""A photo over the API's limits, through the real editor: it is sent as a smaller copy with
its mask scaled, the job keeps the full-size original, and the result comes back onto the
full-size photo. The Prompt panel warns before sending when the model returns far fewer
pixels than the photo has."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.core.providers import Provider
from app.core.schema import load_schema
from app.gui import Editor
from tests.support.editor import (
    assert_no_widgets_left,
    close_editor,
    paint,
    shown_editor,
    until,
)
from tests.support.qtloop import next_signal

LIMIT = 120_000  # pixels the API takes per image, in these tests (the real one is 33 MP)


@pytest.fixture
def small_api_editor(qapp, qt_loop, tmp_path: Path, monkeypatch) -> Iterator[Editor]:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    schema = load_schema()
    schema = replace(schema, files=replace(schema.files, max_pixels=LIMIT))
    before = set(QApplication.topLevelWidgets())
    made = shown_editor(schema=schema)
    yield made
    close_editor(qt_loop, made)
    del made
    assert_no_widgets_left(before)


def gradient_photo(path: Path, width: int, height: int) -> Path:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    pixels = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_a_photo_over_the_limit_is_sent_scaled_and_comes_back_full_size(
    qt_loop, small_api_editor: Editor, tmp_path: Path
) -> None:
    editor = small_api_editor
    window, session = editor.window, editor.session
    photo = gradient_photo(tmp_path / "wide.png", 600, 400)  # 240,000 pixels: twice the limit

    async def run() -> str:
        await until(lambda: editor.engine.url is not None)
        session.document.open(photo)
        await until(lambda: window.canvas.has_image() and session.inputs.first is not None)
        # Over the limit, crop to mask is on by default; this test is about the whole photo.
        assert session.crop.enabled
        window.generate_panel.crop.switch.click()
        window.canvas.brush.set_size(30)
        paint(editor, [(200 + 10 * i, 200) for i in range(10)])
        QTest.keyClicks(window.prompt, "fill it")
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        finished = next_signal(session.jobs.job_finished)
        QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
        job_id, _usage = await finished
        return job_id

    job_id = qt_loop.run(run(), timeout=60)
    job = session.jobs.jobs[job_id]
    with Image.open(job.request.images[0]) as sent:
        assert sent.width * sent.height <= LIMIT
        assert abs(sent.width / sent.height - 1.5) < 0.02
        sent_size = sent.size
    with Image.open(job.request.mask) as sent_mask:
        assert sent_mask.size == sent_size
    # The job keeps the full-size photo and mask and the copies it sent, in its folder.
    with Image.open(job.source.original) as original:
        assert original.size == (600, 400)
    with Image.open(job.source.mask) as mask:
        assert mask.size == (600, 400)
    assert job.source.sent.parent == job.folder and job.source.sent_mask.parent == job.folder
    # The engine answers at the size it was sent; the tile says it was scaled back.
    final = job.results[0].final
    with Image.open(final) as result:
        assert result.size == sent_size
    tile = window.gallery.sections[job_id].tiles[0]
    qt_loop.run(until(lambda: job.results[0].drift is not None), timeout=30)
    assert job.results[0].drift.scaled
    # Run again sends the same smaller copies from the job's folder.
    again = job.request_again()
    assert again.images[0] == job.source.sent and again.mask == job.source.sent_mask
    assert tile.isVisible()


def test_the_prompt_panel_warns_when_the_model_returns_far_fewer_pixels(
    qt_loop, small_api_editor: Editor, tmp_path: Path
) -> None:
    editor = small_api_editor
    window, session = editor.window, editor.session
    note = window.generate_panel.size_note
    photo = gradient_photo(tmp_path / "big.png", 3000, 2200)  # 6.6 MP
    provider = Provider("custom-1", "Vendor", "custom", base_url="http://127.0.0.1:9",
                        models=("gpt-image-1", "gpt-image-2"))  # fmt: skip
    session.set_provider(provider)
    session.params.set_value("model", "gpt-image-1")
    assert not note.isVisible()  # nothing open yet

    async def opened() -> None:
        session.document.open(photo)
        await until(window.canvas.has_image)

    qt_loop.run(opened(), timeout=30)
    # No size of the model fits this API's pixel limit: no crop to mask, so the warning.
    assert not session.crop.enabled
    assert note.isVisible()
    assert "1.6 MP" in note.text() and "3000x2200" in note.text()
    # gpt-image-2 returns up to 8.3 MP: no warning for this photo.
    session.params.set_value("model", "gpt-image-2")
    assert not note.isVisible()
    session.params.set_value("model", "gpt-image-1")
    assert note.isVisible()
