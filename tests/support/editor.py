"""The whole editor for UI tests: built as `retouch` builds it (RETOUCH_HOME in a temporary
folder, the local engine as a child process), plus real mouse and keyboard helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from app.core.providers import Provider
from app.gui import Editor, build_editor
from tests.support.pointer import drag

SECRET = "sk-editor-test-never-on-disk-7731"


@pytest.fixture
def editor(qapp, qt_loop, tmp_path: Path, monkeypatch) -> Iterator[Editor]:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    made = build_editor()
    made.window.canvas.confirm_discard = lambda _text: True
    made.window.resize(1280, 820)
    made.window.show()
    yield made
    qt_loop.run(made.shutdown())
    made.window.close()
    made.window.deleteLater()


async def until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def paint(editor: Editor, points: list[tuple[float, float]]) -> None:
    canvas = editor.window.canvas
    drag(canvas.viewport(), [canvas.to_viewport(QPointF(x, y)).toPoint() for x, y in points])


async def open_sample_and_paint(editor: Editor) -> None:
    window = editor.window
    QTest.mouseClick(window.first_run.sample_button, Qt.MouseButton.LeftButton)
    await until(lambda: editor.session.inputs.first is not None and window.canvas.has_image())
    window.canvas.brush.set_size(40)
    paint(editor, [(340 + 5 * i, 270 + 4 * i) for i in range(10)])
    QTest.keyClicks(window.prompt, "remove the spoon")


def use_provider(editor: Editor, base_url: str) -> None:
    provider = Provider("custom-1", "Test vendor", "custom", base_url=base_url,
                        models=("gpt-image-1",))  # fmt: skip
    editor.session.keys.set(provider.id, SECRET)
    editor.session.set_provider(provider)
