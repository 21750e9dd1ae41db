"""Composition root of the editor: QApplication, the qasync loop, and the wiring.

The only place that creates the asyncio loop and the long-lived objects; everything else
receives what it needs from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import signal
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir, user_state_dir
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.core.resources import resource_path
from app.core.schema import Schema, load_schema
from app.models.compare import CompareModel
from app.models.document import EditDocument
from app.models.jobs import JobsModel
from app.models.keep import KeepModel
from app.models.recovery import SessionRecovery
from app.models.session import EditorSession, client_config
from app.models.settings import Settings
from app.models.tasks import TaskRunner
from app.qt.asyncgens import install_asyncgen_hooks
from app.qt.collector import UiThreadCollector
from app.qt.workers import favour_ui_thread, worker_executor
from app.services.engine_process import LocalEngineProcess
from app.services.history import default_path as history_path
from app.services.keys import KeyStore
from app.services.single_instance import HandOffError, InstanceServer, hand_off, instance_name
from app.ui.about import app_icon
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from app.ui.theme import apply_dark_theme

SAMPLE = "coffee.png"
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
FREEZE_AFTER_S = 0.5  # after the first frame, before a designer can have pressed Generate


@dataclass
class Editor:
    """The editor's long-lived objects, for the event loop, tests and screenshots."""

    window: MainWindow
    session: EditorSession
    settings: Settings
    engine: LocalEngineProcess | None
    recovery: SessionRecovery | None = None
    restored: bool = False  # the last session is back: photos handed over open at once

    def mark_restored(self) -> None:
        self.restored = True

    @property
    def runner(self) -> TaskRunner:
        return self.session.runner

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine on the loop; its failure reaches the error bar, never a void."""
        return self.runner.start(coro)

    async def shutdown(self) -> None:
        self.session.jobs.cancel()
        await self.runner.shutdown()
        await asyncio.gather(*self._job_tasks(), return_exceptions=True)
        self.session.document.wait(5.0)
        if self.recovery is not None:
            self.recovery.close()  # what changed last is on disk for the next start
        self.session.jobs.close_history()
        if self.engine is not None:
            self.engine.stop()
        self.settings.sync()

    def _job_tasks(self) -> list[asyncio.Task[Any]]:
        return [j.task for j in self.session.jobs.jobs.values() if j.task is not None]


def home_paths() -> tuple[QSettings, Path, Path]:
    """Settings, results folder and work folder. ``RETOUCH_HOME`` puts all three in one
    folder (tests, screenshots, portable use)."""
    home = os.environ.get("RETOUCH_HOME")
    if home:
        root = Path(home)
        store = QSettings(str(root / "settings.ini"), QSettings.Format.IniFormat)
        return store, root / "results", root / "work"
    store = QSettings("Retouch Studio", "Retouch Studio")
    settings = Settings(store, load_schema())
    return store, settings.results_dir(), Path(user_cache_dir("retouch-studio")) / "work"


def session_dir() -> Path:
    """Where session recovery keeps the open photo, mask, prompt, parameters and inputs
    (app.models.recovery): ``session/`` in ``RETOUCH_HOME``, else the user's state folder."""
    home = os.environ.get("RETOUCH_HOME")
    root = Path(home) if home else Path(user_state_dir("retouch-studio"))
    return root / "session"


def build_editor(*, schema: Schema | None = None, start_engine: bool = True) -> Editor:
    schema = schema or load_schema()
    store, results_dir, work_dir = home_paths()
    settings = Settings(store, schema)
    providers = settings.providers()
    active_id = settings.active_provider_id()
    provider = next((p for p in providers if p.id == active_id), providers[0])
    engine = engine_process() if start_engine else None
    keys = KeyStore()
    runner = TaskRunner()
    document = EditDocument()
    jobs = JobsModel(schema, results_dir, lambda p: client_config(p, schema, keys, engine))
    # Every job goes into the history store (opened in a worker; jobs of a process that
    # died are marked interrupted); its problems reach the error bar, never fail a job.
    jobs.history_failed.connect(runner.report)
    jobs.use_history(history_path())
    session = EditorSession(
        schema, settings, document, jobs, keys, engine, provider, work_dir, runner
    )
    # Parents, so that Qt deletes them with the session (on the UI thread).
    for model in (runner, document, jobs):
        model.setParent(session)
    compare, keep = CompareModel(session), KeepModel(settings, document, session)
    compare.measured.connect(lambda job, variant, m: jobs.record_drift(job, variant, m.share))
    # The last session's prompt and parameters before the window shows them; its photo,
    # mask and inputs follow once the event loop runs.
    recovery = SessionRecovery(session, session_dir(), session)
    recovery.load()
    window = MainWindow(session, compare, keep, recovery, sample=resource_path("samples", SAMPLE))
    editor = Editor(window, session, settings, engine, recovery)
    recovery.restored.connect(editor.mark_restored)
    window.settings_requested.connect(lambda: _open_settings(editor))
    for notice in settings.notices:  # a damaged settings file is said, never fatal
        runner.report_text(notice)
    if engine is not None:
        engine.start()
    return editor


def engine_process() -> LocalEngineProcess:
    """The local engine as a child: ``python -m app serve ...``; in the bundle (PyInstaller
    sets ``sys.frozen``) there is no ``-m``, so the bundle's own ``retouch serve ...``."""
    if not getattr(sys, "frozen", False):
        return LocalEngineProcess()
    program = Path(sys.executable).with_name("retouch" + Path(sys.executable).suffix)
    return LocalEngineProcess(str(program), ("serve", "--port", "0", "--exit-with-stdin"))


def _open_settings(editor: Editor) -> None:
    """Settings ▸ Providers: a dialog made for this one use, window-modal without a nested
    event loop (``open``, not ``exec``), and deleted by Qt on the UI thread when it closes.
    ``exec`` would hand the dialog to Python, and a garbage collection in a worker thread
    would then delete it behind the UI thread's back (app/qt/collector.py)."""
    session, settings, window = editor.session, editor.settings, editor.window
    dialog = SettingsDialog(settings.providers(), session.provider.id, session.keys, window)

    def on_finished(result: int) -> None:
        if result == SettingsDialog.DialogCode.Accepted:
            _apply_settings(editor, dialog)
        dialog.deleteLater()
        window.return_focus()

    dialog.finished.connect(on_finished)
    dialog.open()


def _apply_settings(editor: Editor, dialog: SettingsDialog) -> None:
    session, settings = editor.session, editor.settings
    settings.set_custom_providers(dialog.providers)
    settings.set_active_provider_id(dialog.active_id)
    session.set_provider(dialog.active_provider())
    if not session.keys.persistent and dialog.active_provider().needs_key:
        editor.window.statusBar().showMessage(
            "No system keyring: the API key is kept for this session only.", 8000
        )


def tune_allocator() -> None:
    """On glibc, serve allocations of 1 MiB and more straight from mmap. The editor moves
    20-30 MB buffers around (base64 text, PNG bytes, decoded images); freed in worker
    threads, they otherwise stay in malloc's per-thread arenas for good. Measured with 16
    inputs and 10 results of 3840x2160: 1.08 GB resident without this, 0.30 GB with it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass  # not glibc (musl, for one): nothing to tune


def configure_workers(loop: asyncio.AbstractEventLoop) -> None:
    """Worker threads that yield to the UI thread (app.qt.workers): the pool behind
    ``asyncio.to_thread`` and the GIL switch interval; and abandoned streams closed on the
    loop (app.qt.asyncgens)."""
    loop.set_default_executor(worker_executor())
    favour_ui_thread()
    install_asyncgen_hooks(loop)


def freeze_startup_objects() -> None:
    """Collect once, then hide every object alive now from the cyclic garbage collector.

    The objects made at start-up (modules, classes, Qt wrappers of the whole window: about
    75,000) live as long as the editor. Without this, each full collection walks all of
    them: about 40 ms with the UI thread held, and a stream's allocations set one off every
    few seconds. Frozen, a full collection walks only what was made since. Objects are still
    freed by reference counting; only a reference cycle among frozen objects would never be
    collected, and the start-up objects are not garbage."""
    gc.collect()
    gc.freeze()


def main() -> int:
    """The ``retouch-studio`` GUI entry point (no console window on Windows)."""
    return run(sys.argv[1:])


def run(argv: list[str]) -> int:
    """The editor, with the photos in ``argv``; or, when an editor of this user and home
    already runs, the photos handed to it (it opens them and comes to the front)."""
    photos = [Path(a).absolute() for a in argv if not a.startswith("-")]
    name = instance_name()
    try:
        if hand_off(name, photos):
            print(handed_text(photos))
            return 0
    except HandOffError as exc:
        print(f"retouch: {exc}", file=sys.stderr)
        return 1
    tune_allocator()
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("Retouch Studio")
    app.setOrganizationName("Retouch Studio")
    app.setDesktopFileName("retouch-studio")
    app.setWindowIcon(app_icon())
    apply_dark_theme(app)
    import qasync

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(_main(app, photos, name))


def handed_text(photos: list[Path]) -> str:
    if not photos:
        return "Retouch Studio is already running: its window was brought to the front."
    names = ", ".join(p.name for p in photos)
    return f"Retouch Studio is already running: {names} opened there."


def open_photos(editor: Editor, photos: list[Path]) -> None:
    """``retouch PHOTO...``: once the last session is back, the first photo opens as File ▸
    Open opens one (asking first when a painted mask would be lost), the others join the
    inputs strip."""
    if not photos:
        return

    def open_them() -> None:
        editor.window.canvas.open_file(str(photos[0]))
        if photos[1:]:
            editor.spawn(editor.window.files.add_paths(photos[1:]))

    if editor.recovery is None or editor.restored:
        open_them()
        return

    def when_restored() -> None:
        editor.recovery.restored.disconnect(when_restored)
        open_them()

    editor.recovery.restored.connect(when_restored)


def show_photos(editor: Editor, photos: list[Path]) -> None:
    """Photos handed over by a later launch: the window comes to the front (out of the
    taskbar if minimized) and they open as ``retouch PHOTO...`` opens them."""
    window = editor.window
    state = window.windowState() & ~Qt.WindowState.WindowMinimized
    window.setWindowState(state | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
    window.canvas.setFocus()  # the keys go to the canvas (B, E, ...), not the first field
    open_photos(editor, photos)


async def _main(app: QApplication, photos: list[Path] | None = None, name: str = "") -> int:
    photos = photos or []
    instance = InstanceServer(name, app) if name else None
    if instance is not None and not instance.listen():
        instance.deleteLater()
        instance = None
        # An editor started at the same moment took the name first: hand it the photos.
        with contextlib.suppress(HandOffError):
            if hand_off(name, photos):
                print(handed_text(photos))
                return 0
    loop = asyncio.get_running_loop()
    configure_workers(loop)
    collector = UiThreadCollector(app)
    collector.start()
    editor = build_editor()
    open_photos(editor, photos)
    if instance is not None:
        instance.photos_received.connect(lambda handed: show_photos(editor, handed))
    closed = loop.create_future()

    def finish(*_: object) -> None:
        if not closed.done():
            closed.set_result(None)

    # The window's close ends _main, which then shuts down in order (jobs, the engine, the
    # settings); Qt must not stop the event loop under it first.
    app.setQuitOnLastWindowClosed(False)
    app.lastWindowClosed.connect(finish)
    # Ctrl+C in the terminal or a SIGTERM from the session: stop the engine and leave.
    # Python runs signal handlers only between bytecodes, so a timer wakes it up.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: loop.call_soon_threadsafe(finish))
    wake = QTimer(interval=250)
    wake.timeout.connect(lambda: None)
    wake.start()
    editor.window.show()
    loop.call_later(FREEZE_AFTER_S, freeze_startup_objects)
    await closed
    if instance is not None:
        instance.close()  # a launch from now on starts an editor of its own
        instance.deleteLater()
    wake.stop()
    editor.window.save_layout()
    await editor.shutdown()
    collector.stop()
    return 0
