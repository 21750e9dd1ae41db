"""The editor survives what crashed it: object lifetimes across dialogs, worker threads and
garbage collection (issue 10). Driven through the real window and its menus."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.gui import Editor
from app.models import inputs as inputs_module
from app.models.inputs import InputsModel
from app.qt.collector import UiThreadCollector, due_generation
from app.ui.settings_dialog import SettingsDialog
from tests.support.editor import menu_action, press_when_shown, python_owned_children, until
from tests.support.images import png_bytes, write
from tests.support.soak import run_child


def test_providers_ok_then_open_a_photo_many_times(qt_loop, editor: Editor) -> None:
    window = editor.window

    async def scenario() -> None:
        pressed: list[str] = []
        for round_ in range(6):
            press_when_shown(QDialogButtonBox.StandardButton.Ok, pressed)
            menu_action(editor, "Providers").trigger()
            await until(
                lambda n=round_ + 1: len(pressed) == n and not QApplication.activeModalWidget()
            )
            assert round_ == 0 or window.findChildren(SettingsDialog) == []
            # What a loader thread does when an allocation starts a collection: before the
            # fix, it freed the Python-owned dialog there and the UI thread crashed later.
            await asyncio.to_thread(gc.collect)
            menu_action(editor, "sample photo").trigger()
            await until(lambda: window.canvas.has_image())
            await asyncio.sleep(0.05)
            window.canvas.open_file(editor.window.sample)
            await asyncio.sleep(0.05)

    qt_loop.run(scenario(), timeout=60)
    assert window.isVisible()
    assert window.findChildren(SettingsDialog) == [], "each dialog is deleted when it closes"


def test_cancel_keeps_the_providers_and_gives_focus_back(qt_loop, editor: Editor) -> None:
    window = editor.window
    before = editor.session.provider
    checked: list[list[str]] = []

    async def scenario() -> None:
        pressed: list[str] = []
        press_when_shown(QDialogButtonBox.StandardButton.Cancel, pressed, check=checked.append)
        menu_action(editor, "Providers").trigger()
        await until(lambda: window.findChildren(SettingsDialog) == [])
        assert pressed == ["settings-dialog"]

    qt_loop.run(scenario())
    assert checked == [[]], "no widget of the dialog is owned by Python"
    assert editor.session.provider == before
    assert window.focusWidget() is window.canvas  # where the keyboard goes back to


def test_no_widget_of_the_window_is_owned_by_python(editor: Editor) -> None:
    assert python_owned_children(editor.window) == []


class Node:
    def __init__(self, seen: list[str]) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it
        weakref.finalize(self, lambda: seen.append(threading.current_thread().name))


def test_cycles_made_in_a_worker_are_collected_on_the_ui_thread(qt_loop, qapp) -> None:
    seen: list[str] = []
    collector = UiThreadCollector(interval_ms=10)
    collector.start()
    try:

        def churn() -> list[list[int]]:
            for _ in range(20):
                Node(seen)
            # Live containers far past the first threshold (700 in CPython), which would
            # have started a collection in this thread.
            return [[i] for i in range(5_000)]

        async def scenario() -> None:
            kept = await asyncio.to_thread(churn)
            assert len(kept) == 5_000
            assert seen == [], "the worker never collects while the collector runs"
            await until(lambda: len(seen) == 20, timeout=10)

        qt_loop.run(scenario())
        assert not gc.isenabled()
    finally:
        collector.stop()
    assert gc.isenabled()
    assert set(seen) == {threading.main_thread().name}
    assert collector.collections[0] >= 1


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        ((0, 0, 0), None),
        ((700, 0, 0), None),
        ((701, 0, 0), 0),
        ((701, 11, 0), 1),
        ((701, 11, 11), 2),
        ((5, 11, 11), None),
    ],
)
def test_the_collector_follows_cpythons_generations(count, expected) -> None:
    assert due_generation(count, (700, 10, 10)) == expected


def test_a_dropped_async_generator_is_closed_on_the_loop(qt_loop) -> None:
    # qasync installs no asyncgen hooks of its own; without ours the generator below is
    # finalised by the garbage collector, its cleanup cannot await, and Python reports
    # "async generator ignored GeneratorExit" (an error under this suite's settings).
    cleaned: list[str] = []

    async def stream():
        try:
            yield 1
            yield 2
        finally:
            await asyncio.sleep(0)  # cleanup that awaits, as closing a connection does
            cleaned.append(threading.current_thread().name)

    async def scenario() -> None:
        agen = stream()
        assert await agen.__anext__() == 1
        del agen  # dropped half-way, as a consumer that stops reading does
        gc.collect()
        await until(lambda: bool(cleaned), timeout=5)

    qt_loop.run(scenario())
    assert cleaned == [threading.main_thread().name]


@pytest.mark.timeout(120)
def test_closing_the_window_after_a_generation_shuts_down_in_order(tmp_path) -> None:
    # Found by the soak: Qt ended the event loop on the last window's close before the
    # editor's shutdown ran (RuntimeError "Event loop stopped before Future completed",
    # exit 1, the engine left running).
    steps = ("--steps", "open_sample,brush,prompt,generate")
    run = run_child(4, 1, home=tmp_path, timeout=90, extra=steps)
    assert run.returncode == 0, run.tail()
    assert "Event loop stopped" not in run.tail() and "QProcess: Destroyed" not in run.tail()


def test_a_late_check_of_an_older_picture_does_not_replace_a_newer_one(
    qt_loop, schema, monkeypatch, tmp_path
) -> None:
    # Found by the soak: a picture dropped while an older one was still being checked came
    # back on the canvas by itself once the older check ended.
    older = write(tmp_path / "older.png", png_bytes(40, 30))
    newer = write(tmp_path / "newer.png", png_bytes(50, 30))
    checked = inputs_module.probe_file

    def slow_for_the_older(path, schema):
        if path == older:
            time.sleep(0.3)
        return checked(path, schema)

    monkeypatch.setattr(inputs_module, "probe_file", slow_for_the_older)
    model = InputsModel(schema)
    firsts: list[str] = []
    model.first_changed.connect(firsts.append)

    async def scenario() -> list[list[str]]:
        first = asyncio.ensure_future(model.replace_first(older))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(model.replace_first(newer))
        return list(await asyncio.gather(first, second))

    assert qt_loop.run(scenario()) == [[], []]
    assert model.paths == [newer] and firsts == [str(newer)]


@pytest.mark.parametrize(
    "stored",
    ['"just text"', "42", '["a", 3, null]', '[{"name": "no id"}]', "{not json"],
)
def test_a_damaged_providers_entry_never_stops_the_editor(
    qapp, qt_loop, tmp_path, monkeypatch, stored: str
) -> None:
    """Issue 15: a hand-edited settings.ini with providers/custom not a list of objects."""
    from PySide6.QtCore import QSettings

    from tests.support.editor import close_editor, shown_editor

    home = tmp_path / "home"
    monkeypatch.setenv("RETOUCH_HOME", str(home))
    home.mkdir()
    store = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    store.setValue("providers/custom", stored)
    store.setValue("presets", '{"good": {"n": 2}, "bad": 7}')
    store.sync()
    made = shown_editor(start_engine=False)
    try:
        names = [p.name for p in made.settings.providers()]
        assert names[:2] == ["Local engine (offline)", "OpenAI"]
        assert made.settings.presets() == {"good": {"n": 2}}
        if stored != "{not json":  # unreadable JSON is simply no entry
            assert not made.window.error_bar.isHidden()
            assert "settings file has a damaged entry" in made.window.error_bar.message.text()
    finally:
        close_editor(qt_loop, made)
