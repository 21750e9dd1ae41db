"""The whole editor, driven like a designer would, against real servers on 127.0.0.1:
the local engine as a child process (as `retouch` starts it) and fault-injecting servers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.gui import build_editor
from app.models.keep import convert
from tests.support import fault_server as fs
from tests.support import images
from tests.support.editor import (
    SECRET,
    cancel_after_one_partial,
    open_sample_and_paint,
    until,
    use_provider,
)
from tests.support.qtloop import next_signal

PNG = images.png_bytes(48, 32)


def test_remove_an_object_with_two_streamed_variants(qt_loop, editor) -> None:
    window, session = editor.window, editor.session
    assert "Open an image first" in window.generate_panel.reason.text()
    assert not window.generate_panel.generate_button.isEnabled()
    order: list[tuple[str, int]] = []
    session.jobs.partial_received.connect(lambda _j, v, *_: order.append(("partial", v)))
    session.jobs.image_received.connect(lambda _j, v, *_: order.append(("final", v)))

    async def scenario():
        await until(lambda: editor.engine.url is not None)
        await open_sample_and_paint(editor)
        panel = window.params.editors
        panel["n"].box.setValue(2)
        QTest.keyClick(panel["stream"].box, Qt.Key.Key_Space)
        panel["partial_images"].box.setValue(2)
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        assert (
            window.generate_panel.split.isVisible() and window.generate_panel.split_note.isVisible()
        )
        finished = next_signal(session.jobs.job_finished)
        QTest.keyClick(window.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        return await finished

    job_id, usage = qt_loop.run(scenario(), timeout=60)
    assert usage.output_tokens > 0 and "tokens in" in window.statusBar().usage_label.text()
    for variant in (0, 1):
        assert order.index(("partial", variant)) < order.index(("final", variant))
    tiles = window.gallery.sections[job_id].tiles
    assert sorted(tiles) == [0, 1] and all(t.is_final for t in tiles.values())
    finals = [Path(t.path) for t in tiles.values()]
    assert all(p.is_file() for p in finals)
    assert finals[0].read_bytes() != finals[1].read_bytes(), "two variants, two fills"
    original = np.asarray(images.Image.open(images.sample()).convert("RGB"))
    mask = session.mask.mask >= 128
    for path in finals:
        result = np.asarray(images.Image.open(path).convert("RGB"))
        assert np.array_equal(result[~mask], original[~mask])  # untouched outside the mask
        assert not np.array_equal(result[mask], original[mask])  # filled inside
    assert not window.generate_panel.cancel_button.isEnabled()


def test_cancel_mid_stream_keeps_what_arrived(qt_loop, editor) -> None:
    window = editor.window
    job_id = cancel_after_one_partial(qt_loop, editor, PNG)
    tile = window.gallery.sections[job_id].tiles[0]
    assert "cancelled (partial kept)" in tile.caption.text() and Path(tile.path).is_file()
    assert "remove the spoon" in window.prompt.toPlainText()


def test_a_failing_server_shows_the_error_bar_and_loses_nothing(qt_loop, editor) -> None:
    window, session = editor.window, editor.session
    reply = fs.error(
        400, "Your request was rejected by the safety system.",
        type="image_generation_user_error", code="moderation_blocked",
        headers={"x-request-id": "req_ui_1"},
    )  # fmt: skip
    with fs.serve(reply) as server:
        use_provider(editor, server.base_url)

        async def scenario():
            await open_sample_and_paint(editor)
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            failed = next_signal(session.jobs.job_failed)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            await failed

        qt_loop.run(scenario(), timeout=60)
        sent = server.requests[0]
    text = window.error_bar.message.text()
    assert window.error_bar.isVisible()
    assert "safety system" in text and "moderation_blocked" in text and "req_ui_1" in text
    assert window.error_bar.retry.isHidden()  # moderation: retrying cannot help
    assert window.prompt.toPlainText() == "remove the spoon"
    assert session.mask.has_painting()
    assert sent.fields["prompt"] == "remove the spoon" and sent.fields["model"] == "gpt-image-1"
    assert [p.name for p in sent.files] == ["image", "mask"]
    home = Path(session.work_dir).parent
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_file_broken_after_it_was_added_is_reported_before_sending(
    qt_loop, editor, tmp_path
) -> None:
    window, session = editor.window, editor.session
    with fs.serve(fs.json_images([PNG])) as server:
        use_provider(editor, server.base_url)

        async def scenario():
            await open_sample_and_paint(editor)
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            corrupt = images.write(tmp_path / "gone.png", images.png_bytes(8, 8))
            session.inputs.paths.append(corrupt)
            corrupt.write_bytes(b"<html>not an image</html>")
            refused = next_signal(session.generate_refused)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            return await refused

        (problems,) = qt_loop.run(scenario(), timeout=60)
        assert server.requests == []
    assert "gone.png" in str(problems[0])
    assert "Nothing was sent" in window.error_bar.message.text()


def test_the_engine_is_restarted_when_it_dies(qt_loop, editor) -> None:
    engine = editor.engine

    async def scenario():
        await until(lambda: engine.url is not None)
        first_url = engine.url
        restarting = next_signal(engine.restarting)
        ready = next_signal(engine.ready)
        engine._process.kill()
        await restarting
        (url,) = await ready
        return first_url, url

    first_url, url = qt_loop.run(scenario(), timeout=60)
    assert first_url.startswith("http://127.0.0.1:") and url.startswith("http://127.0.0.1:")
    assert engine.running and engine.url == url


def test_dock_layout_is_restored_on_the_next_start(qt_loop, qapp, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    first = build_editor(start_engine=False)
    first.window.show()
    first.window.docks["inputs"].setFloating(True)
    first.window.close()
    second = build_editor(start_engine=False)
    assert second.window.docks["inputs"].isFloating()
    for made in (first, second):
        qt_loop.run(made.shutdown())
        made.window.deleteLater()


def test_save_as_converts_by_extension(tmp_path) -> None:
    source = images.write(tmp_path / "r.png", images.png_bytes(40, 30, "RGBA"))
    jpeg = convert(source, tmp_path / "out.jpg")
    assert jpeg.read_bytes()[:3] == b"\xff\xd8\xff"
    same = convert(source, tmp_path / "copy.png")
    assert same.read_bytes() == source.read_bytes()
    with pytest.raises(ValueError, match=r"\.png, \.tif, \.jpg or \.webp"):
        convert(source, tmp_path / "out.gif")


def test_inputs_add_reorder_remove_and_the_mask_follows_the_first(qt_loop, editor, tmp_path):
    window, session = editor.window, editor.session
    a = images.write(tmp_path / "a.png", images.png_bytes(64, 48))
    b = images.write(tmp_path / "b.png", images.png_bytes(80, 40))
    bad = images.write(tmp_path / "bad.png", images.truncated(images.png_bytes(64, 48)))

    async def scenario():
        problems = await session.inputs.add([a, b, bad])
        await until(lambda: window.canvas.has_image() and session.mask.width == 64)
        return problems

    problems = qt_loop.run(scenario())
    assert len(problems) == 1 and "bad.png" in problems[0] and "truncated" in problems[0]
    strip = window.inputs.list
    assert [strip.item(i).text() for i in range(strip.count())] == [
        "1. a.png · mask",
        "2. b.png",
    ]
    session.inputs.move(1, 0)  # b first: the canvas shows b, the mask is b's size

    async def follow():
        await until(lambda: session.mask.width == 80)

    qt_loop.run(follow())
    assert strip.item(0).text() == "1. b.png · mask"
    strip.setCurrentRow(1)
    QTest.mouseClick(window.inputs.remove, Qt.MouseButton.LeftButton)
    assert session.inputs.paths == [b]


def test_a_pasted_image_becomes_the_first_input(qt_loop, editor) -> None:
    window, session = editor.window, editor.session
    QApplication.clipboard().setImage(images_qimage(120, 90))

    async def scenario():
        window.canvas.setFocus()
        window.canvas.paste()
        await until(lambda: session.inputs.first is not None)

    qt_loop.run(scenario())
    first = session.inputs.first
    assert first.parent == session.work_dir and first.name.startswith("pasted-")
    assert images.Image.open(first).size == (120, 90)


def test_use_a_result_keeps_the_mask_and_undo_brings_everything_back(
    qt_loop, editor, tmp_path
) -> None:
    window, session = editor.window, editor.session
    same_size = images.write(tmp_path / "result.png", images.png_bytes(600, 400))

    def undo() -> None:
        QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    async def scenario():
        await open_sample_and_paint(editor)
        original = window.canvas.image().copy()
        painted = session.mask.mask.copy()
        window.session.document.use_result(same_size)
        await until(lambda: session.inputs.first == same_size)
        assert np.array_equal(session.mask.mask, painted), "the mask is kept"
        assert window.canvas.image() != original
        undo()  # one step: the photo, its mask and its history come back
        await until(lambda: session.inputs.first != same_size)
        assert window.canvas.image() == original
        assert np.array_equal(session.mask.mask, painted)
        undo()  # the stroke painted before Use
        assert not session.mask.has_painting()
        QTest.keyClick(
            window.canvas,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        QTest.keyClick(
            window.canvas,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        await until(lambda: session.inputs.first == same_size)
        assert np.array_equal(session.mask.mask, painted), "redo brings the result back"
        return original

    qt_loop.run(scenario())


def test_using_a_result_of_another_size_starts_an_empty_mask_undoably(
    qt_loop, editor, tmp_path
) -> None:
    window, session = editor.window, editor.session
    other = images.write(tmp_path / "square.png", images.png_bytes(1024, 1024))

    async def scenario():
        await open_sample_and_paint(editor)
        painted = session.mask.mask.copy()
        window.session.document.use_result(other)
        await until(lambda: session.inputs.first == other)
        assert session.mask.mask.shape == (1024, 1024) and not session.mask.has_painting()
        assert "another size" in window.canvas.hud_text
        session.mask.undo()
        await until(lambda: session.inputs.first != other)
        assert np.array_equal(session.mask.mask, painted)

    qt_loop.run(scenario())


def test_retry_sends_the_same_request_again(qt_loop, editor) -> None:
    window, session = editor.window, editor.session
    replies = [fs.error(500, "upstream broke"), fs.json_images([PNG])]
    with fs.serve(replies) as server:
        use_provider(editor, server.base_url)

        async def scenario():
            await open_sample_and_paint(editor)
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            failed = next_signal(session.jobs.job_failed)
            session.jobs._config_for = lambda p: replace(session.client_config(p), max_retries=0)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            await failed
            assert window.error_bar.retry.isVisible()
            finished = next_signal(session.jobs.job_finished)
            QTest.mouseClick(window.error_bar.retry, Qt.MouseButton.LeftButton)
            return await finished

        qt_loop.run(scenario(), timeout=60)
        first, second = server.requests
    assert first.fields == second.fields
    assert [p.data for p in first.files] == [p.data for p in second.files]
    assert window.error_bar.isHidden()


def images_qimage(width: int, height: int):
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    return image
