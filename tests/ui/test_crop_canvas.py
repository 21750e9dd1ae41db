"""Crop to mask in the editor window: the switch's default, the dashed frame that follows
the mask while it is painted, the Region tool (C) that moves and resizes it, and the
panel's line saying what is sent from which region."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.core.region import Rect, mask_bounds
from app.gui import Editor
from app.services.history import HistoryStore, default_path
from tests.support import images
from tests.support.editor import assert_no_widgets_left, close_editor, shown_editor, until
from tests.support.pointer import drag
from tests.support.qtloop import next_signal


@pytest.fixture
def made(qapp, qt_loop, tmp_path: Path, monkeypatch) -> Iterator[Editor]:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    before = set(QApplication.topLevelWidgets())
    editor = shown_editor(start_engine=False)
    qt_loop.run(until(lambda: not editor.recovery.restoring))
    yield editor
    close_editor(qt_loop, editor)
    assert_no_widgets_left(before)


def open_photo(qt_loop, editor: Editor, path: Path) -> None:
    editor.window.canvas.open_file(str(path))
    document = editor.session.document
    opened = lambda: document.picture is not None and document.picture.name == path.name  # noqa: E731
    qt_loop.run(until(opened), timeout=30)


def paint(editor: Editor, points: list[tuple[float, float]]) -> None:
    canvas = editor.window.canvas
    drag(canvas.viewport(), [canvas.to_viewport(QPointF(x, y)).toPoint() for x, y in points])


def frame(editor: Editor) -> Rect:
    rect = editor.window.canvas.region_frame.rect
    return Rect(round(rect.x()), round(rect.y()), round(rect.width()), round(rect.height()))


def test_the_frame_follows_the_mask_and_the_region_tool_moves_it(
    qt_loop, made: Editor, tmp_path: Path
) -> None:
    session, window = made.session, made.window
    crop, canvas, line = session.crop, window.canvas, window.generate_panel.crop.line
    big = tmp_path / "wall.png"
    Image.effect_noise((3000, 2000), 40).convert("RGB").save(big)
    session.params.set_value("model", "gpt-image-1")
    open_photo(qt_loop, made, big)
    # Larger than the model returns: on by default, nothing painted yet.
    assert crop.enabled and window.generate_panel.crop.switch.isChecked()
    assert not canvas.region_frame.isVisible() and "paint where to edit" in line.text()
    assert not window.generate_panel.size_note.isVisible()  # the crop keeps the detail
    canvas.brush.set_size(80)
    paint(made, [(1200 + 20 * i, 900 + 10 * i) for i in range(12)])
    qt_loop.run(until(lambda: crop.plan is not None and canvas.region_frame.isVisible()))
    plan, painted = crop.plan, mask_bounds(session.mask.mask, 1)
    assert frame(made) == plan.region and plan.region.contains(painted)
    assert plan.size in ("1024x1024", "1536x1024", "1024x1536")
    width, height = plan.output
    assert f"Sends {width}×{height} from a {plan.region.width}×{plan.region.height} region" in (
        line.text()
    )
    assert line.isVisible()
    # The Size field is set by crop to mask for now, and says so beneath it.
    window.docks["params"].raise_()
    size_note, size_box = window.params.notes["size"], window.params.editors["size"]
    qt_loop.run(until(lambda: window.docks["params"].widget().isEnabled()))
    assert not session.params.state("size").enabled and not size_box.isEnabled()
    assert size_note.isVisible() and f"asks for {plan.size}" in size_note.text()
    # Painting more moves the frame with the mask.
    paint(made, [(2400 + 10 * i, 300) for i in range(8)])
    qt_loop.run(until(lambda: crop.plan.region.contains(mask_bounds(session.mask.mask, 1))))
    qt_loop.run(until(lambda: frame(made) == crop.plan.region))
    # The Region tool (C): drag inside the frame to move it down and left.
    QTest.keyClick(canvas, Qt.Key.Key_C)
    assert canvas.tool == "region" and canvas.region_frame.editing
    before = crop.plan.region
    start = QPointF(before.x + before.width / 2, before.y + before.height / 2)
    points = [canvas.to_viewport(start + QPointF(-40 * i, 40 * i)).toPoint() for i in range(6)]
    drag(canvas.viewport(), points)
    qt_loop.run(until(lambda: crop.frame is not None and crop.plan.region != before))
    after = crop.plan.region
    assert after.contains(mask_bounds(session.mask.mask, 1)), "the mask is never cut"
    assert frame(made) == after
    # Off: whole-image mode, no frame, no line.
    window.generate_panel.crop.switch.click()
    qt_loop.run(until(lambda: not canvas.region_frame.isVisible()))
    assert not crop.enabled and not line.isVisible()
    window.docks["params"].raise_()
    qt_loop.run(until(lambda: window.docks["params"].widget().isEnabled()))
    assert session.params.state("size").enabled and size_box.isEnabled()
    assert not size_note.isVisible()


def test_a_small_photo_starts_in_whole_image_mode(qt_loop, made: Editor, tmp_path: Path) -> None:
    small = images.write(tmp_path / "small.png", images.png_bytes(400, 300))
    made.session.params.set_value("model", "gpt-image-1")
    open_photo(qt_loop, made, small)
    crop = made.session.crop
    assert not crop.enabled and not made.window.generate_panel.crop.switch.isChecked()
    assert not made.window.generate_panel.crop.context.isVisible()
    made.window.generate_panel.crop.switch.click()
    assert crop.enabled and made.window.generate_panel.crop.context.isVisible()


@pytest.fixture
def engine_editor(qapp, qt_loop, tmp_path: Path, monkeypatch) -> Iterator[Editor]:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    before = set(QApplication.topLevelWidgets())
    editor = shown_editor()
    qt_loop.run(until(lambda: not editor.recovery.restoring and editor.engine.url is not None))
    yield editor
    close_editor(qt_loop, editor)
    assert_no_widgets_left(before)


def test_generate_sends_the_region_at_the_planned_size_and_records_it(
    qt_loop, engine_editor: Editor, tmp_path: Path
) -> None:
    made = engine_editor
    session, window = made.session, made.window
    big = tmp_path / "street.png"
    Image.effect_noise((2400, 1600), 50).convert("RGB").save(big)
    open_photo(qt_loop, made, big)
    crop = session.crop
    if not crop.enabled:  # the local engine takes the whole photo: turn it on by hand
        window.generate_panel.crop.switch.click()
    window.canvas.brush.set_size(60)
    paint(made, [(1500 + 15 * i, 400 + 5 * i) for i in range(10)])
    window.prompt.setPlainText("remove the sign")
    qt_loop.run(until(lambda: crop.plan is not None))
    plan = crop.plan
    assert plan.region.area < 2400 * 1600 / 4, "a small mask sends a small region"

    async def generate() -> str:
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        finished = next_signal(session.jobs.job_finished)
        QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
        job_id, _usage = await finished
        return job_id

    job = session.jobs.jobs[qt_loop.run(generate(), timeout=90)]
    assert job.source.region == tuple(plan.region)
    assert job.request.values["size"] == plan.size
    with Image.open(job.source.sent) as sent, Image.open(job.source.sent_mask) as mask:
        assert sent.size == plan.output and mask.size == plan.output
    with Image.open(job.results[0].final) as result:
        assert result.size == plan.output
    # The compare view and the drift work at full size, in the region.
    qt_loop.run(until(lambda: job.results[0].drift is not None), timeout=30)
    assert job.results[0].drift.share is not None and job.results[0].drift.share < 0.05
    tile = window.gallery.sections[job.id].tiles[0]
    w, h = plan.region.width, plan.region.height
    qt_loop.run(until(lambda: f"placed in its {w}×{h} region" in tile.measure_label.text()))
    with HistoryStore.open(default_path()) as store:
        assert store.get_job(job.id).region == tuple(plan.region)
    # The compare view: the full-resolution photo with the result in place; Zoom to region.
    window.show_compare(job.id)
    panel = window.compare_panel
    qt_loop.run(until(lambda: panel.view.left_view.has_image()), timeout=30)
    assert panel.region_button.isVisible()
    panel.view.fit()
    fitted = panel.view.zoom
    QTest.mouseClick(panel.region_button, Qt.MouseButton.LeftButton)
    assert panel.view.zoom > 2 * fitted
    view = panel.view.left_view
    centre = view.to_image(QPointF(view.viewport().width() / 2, view.viewport().height() / 2))
    assert abs(centre.x() - (plan.region.x + plan.region.width / 2)) < 4
    window.toggle_compare(False)
    # Kept at full resolution: the region pasted through the mask, the rest exact.
    keep = window.keep
    saved = qt_loop.run(keep.save(job, 0, tmp_path / "kept.png", paste=True), timeout=60)
    photo = np.asarray(Image.open(big).convert("RGB"))
    with Image.open(saved) as image:
        assert image.size == (2400, 1600)
        kept = np.asarray(image.convert("RGB"))
    outside = session.mask.mask == 0
    np.testing.assert_array_equal(kept[outside], photo[outside])
    assert np.abs(kept.astype(int) - photo).max() > 0, "the edit is in it"
    # Use, even without paste-back, never makes the region alone the picture.
    used = qt_loop.run(keep.use(job, 0, paste=False), timeout=60)
    qt_loop.run(until(lambda: session.document.picture.size == (2400, 1600)
                      and session.document.picture.path == used), timeout=30)  # fmt: skip
