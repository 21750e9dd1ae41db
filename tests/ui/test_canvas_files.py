"""Opening pictures and mask files on the canvas: drop, paste, import, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from app.core import mask as core
from app.ui.canvas import MaskCanvas
from tests.support.canvas import gradient_image, make_canvas, qimage
from tests.support.images import corrupt, png_bytes, write


class Confirmations:
    """A stand-in for the modal question: records what was asked, answers as told."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, text: str) -> bool:
        self.asked.append(text)
        return self.answer


@pytest.fixture
def confirm() -> Confirmations:
    return Confirmations(answer=False)


@pytest.fixture
def canvas(qtbot, confirm: Confirmations) -> MaskCanvas:
    return make_canvas(qtbot, confirm=confirm)


def drop(canvas: MaskCanvas, mime: QMimeData) -> QDropEvent:
    viewport = canvas.viewport()
    position = QPointF(viewport.rect().center())
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(  # a QPoint: PySide 6.11 takes no QPointF here
        position.toPoint(), actions, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    event = QDropEvent(
        position, actions, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewport, event)
    return event


def file_mime(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_export_then_import_gives_back_the_mask(canvas: MaskCanvas, qtbot, tmp_path) -> None:
    document = canvas.document
    document.fill_rect(20, 30, 200, 150)
    document.fill_ellipse(150, 60, 300, 220, subtract=True)
    painted = document.mask.copy()
    path = write(tmp_path / "mask.png", document.export_png())
    document.clear()
    with qtbot.waitSignal(canvas.mask_loaded, timeout=5000):
        canvas.load_mask_file(path)
    assert np.array_equal(document.mask, np.where(painted >= 128, 255, 0))
    assert document.undo_stack.undoText() == "Load mask.png"


def test_a_mask_of_another_size_is_refused_and_the_mask_kept(
    canvas: MaskCanvas, qtbot, tmp_path
) -> None:
    canvas.document.fill_rect(0, 0, 50, 50)
    kept = canvas.document.mask.copy()
    path = write(tmp_path / "small.png", core.to_api_png(core.new_mask(100, 80)))
    with qtbot.waitSignal(canvas.mask_load_failed, timeout=5000) as failed:
        canvas.load_mask_file(path)
    message, wrong_size = failed.args
    assert "small.png" in message and "100x80" in message and "320x240" in message
    assert wrong_size
    assert np.array_equal(canvas.document.mask, kept)

    with qtbot.waitSignal(canvas.mask_loaded, timeout=5000):
        canvas.load_mask_file(path, scale=True)
    assert canvas.document.mask.shape == (240, 320)


def test_a_corrupt_mask_file_is_refused_and_the_mask_kept(
    canvas: MaskCanvas, qtbot, tmp_path
) -> None:
    canvas.document.fill_rect(0, 0, 50, 50)
    kept = canvas.document.mask.copy()
    path = write(tmp_path / "broken.png", corrupt(core.to_api_png(np.eye(320, dtype=np.uint8))))
    with qtbot.waitSignal(canvas.mask_load_failed, timeout=5000) as failed:
        canvas.load_mask_file(path)
    message, wrong_size = failed.args
    assert "broken.png" in message and not wrong_size
    assert np.array_equal(canvas.document.mask, kept)


def test_black_and_white_masks_with_a_choice_of_colour(canvas, qtbot, tmp_path) -> None:
    picture = np.zeros((240, 320, 3), np.uint8)
    picture[:, :100] = 255
    path = tmp_path / "bw.png"
    qimage(picture).save(str(path))
    with qtbot.waitSignal(canvas.mask_loaded, timeout=5000):
        canvas.load_mask_file(path, mode="black")
    assert canvas.document.mask[:, :100].max() == 0 and canvas.document.mask[:, 100:].min() == 255


def test_dropping_a_file_asks_before_losing_a_painted_mask(
    canvas: MaskCanvas, confirm: Confirmations, qtbot, tmp_path
) -> None:
    path = write(tmp_path / "next.png", png_bytes(200, 100))
    canvas.document.fill_rect(10, 10, 40, 40)
    painted = canvas.document.mask.copy()

    drop(canvas, file_mime(path))
    assert len(confirm.asked) == 1 and "next.png" in confirm.asked[0]
    canvas.wait_for_loads(5000)
    QApplication.processEvents()
    assert canvas.image().width() == 320  # declined: nothing changed
    assert np.array_equal(canvas.document.mask, painted)

    confirm.answer = True
    with qtbot.waitSignal(canvas.image_opened, timeout=5000) as opened:
        drop(canvas, file_mime(path))
    assert opened.args == [str(path)]
    assert (canvas.image().width(), canvas.image().height()) == (200, 100)
    assert canvas.document.mask.shape == (100, 200) and not canvas.document.mask.any()
    assert canvas.document.undo_stack.count() == 0


def test_no_question_when_nothing_is_painted(
    canvas: MaskCanvas, confirm: Confirmations, qtbot, tmp_path
) -> None:
    path = write(tmp_path / "plain.png", png_bytes(64, 48))
    with qtbot.waitSignal(canvas.image_opened, timeout=5000):
        assert canvas.open_file(path)
    assert confirm.asked == []


def test_a_broken_dropped_file_is_reported(canvas: MaskCanvas, qtbot, tmp_path) -> None:
    path = write(tmp_path / "bad.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    with qtbot.waitSignal(canvas.image_open_failed, timeout=5000) as failed:
        drop(canvas, file_mime(path))
    assert "bad.png" in failed.args[0]
    assert canvas.image().width() == 320


def test_pasting_an_image(canvas: MaskCanvas, qtbot) -> None:
    QGuiApplication.clipboard().setImage(gradient_image(90, 70))
    with qtbot.waitSignal(canvas.image_opened, timeout=5000) as opened:
        qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        assert canvas.image().width() == 320  # shown when its levels are built, off-thread
    assert opened.args == ["pasted image"]
    assert (canvas.image().width(), canvas.image().height()) == (90, 70)
    assert canvas.document.mask.shape == (70, 90)


def test_dropping_image_data(canvas: MaskCanvas, qtbot) -> None:
    """A picture dragged from another program (image data, no file) opens like a file."""
    mime = QMimeData()
    mime.setImageData(gradient_image(90, 70))
    with qtbot.waitSignal(canvas.image_opened, timeout=5000) as opened:
        drop(canvas, mime)
        assert canvas.image().width() == 320  # its levels are built off the UI thread
    assert opened.args == ["dropped image"]
    assert (canvas.image().width(), canvas.image().height()) == (90, 70)
    assert canvas.document.mask.shape == (70, 90)


def test_decoding_runs_off_the_ui_thread(canvas: MaskCanvas, qtbot, tmp_path) -> None:
    big = tmp_path / "big.png"
    qimage(np.random.default_rng(0).integers(0, 255, (1500, 2000, 3), np.uint8)).save(str(big))
    spins = 0
    canvas.open_file(big)
    while canvas.image().width() != 2000:
        QApplication.processEvents()  # the UI thread stays free while the file decodes
        spins += 1
        qtbot.wait(1)
        assert spins < 5000
    assert spins > 1


def test_a_newer_drop_wins_over_one_still_decoding(canvas: MaskCanvas, qtbot, tmp_path) -> None:
    first = write(tmp_path / "first.png", png_bytes(300, 200))
    second = write(tmp_path / "second.png", png_bytes(30, 20))
    opened = []
    canvas.image_opened.connect(opened.append)
    canvas.open_file(first)
    canvas.open_file(second)
    canvas.wait_for_loads(5000)
    qtbot.waitUntil(lambda: bool(opened))
    qtbot.wait(20)
    assert opened == [str(second)]


def test_drop_events_with_something_else_are_ignored(canvas: MaskCanvas) -> None:
    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(
        canvas.viewport().rect().center(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas.viewport(), enter)
    assert not enter.isAccepted()
    assert QEvent.Type.DragEnter == enter.type()
