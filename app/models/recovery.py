"""Session recovery: what the designer has set up survives a quit or a crash.

The open photo, the mask's pixels, the prompt, the parameters and the inputs strip are
written to a folder (``session/`` in the editor's home) about a second after each change,
in a worker of the one pool (app.qt.background); the UI thread only takes a copy of the
mask. At the next start they come back: the prompt and parameters at once (before the
window is built), the photo through ``EditDocument.open``, then its mask, exactly, and the
other inputs in their order.

The files and their format are app.models.session_file's. A file that cannot be read is
moved aside with a message, never fatal.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from app.models.history_jobs import provider_for
from app.models.session import EditorSession
from app.models.session_file import (
    STATE_FILE,
    SavedInput,
    SavedPhoto,
    SavedSession,
    SessionFileError,
    SessionFolder,
)
from app.qt.background import Background
from app.qt.workers import worker_executor
from app.services.history import HistoryError, JobRecord

SAVE_DELAY_MS = 1000
"""How long after a change the session is written: a burst of changes (a stroke, typing)
is written once, and every change is on disk within two seconds."""
OPEN_TIMEOUT_S = 300.0


class SessionRecovery(QObject):
    """Keeps ``session`` on disk and brings it back.

    ``load()`` at start, before the window is built: reads the saved session and puts the
    prompt and parameters back; the photo, mask and inputs follow once the event loop runs,
    and ``restored`` says the restore has ended. ``saved``: the folder holds the session as
    it is now. ``notice(text)``: a short message for the status bar; problems (a missing
    photo, an unreadable file) go to the runner's error bar."""

    restored = Signal()
    saved = Signal()
    notice = Signal(str)

    def __init__(self, session: EditorSession, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.files = SessionFolder(folder)
        self._background = Background(self)
        self._timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._timer.timeout.connect(self._save)
        self._resume_timer = QTimer(self, singleShot=True, interval=0)
        self._resume_timer.timeout.connect(self._resume)
        self._on_disk: SavedSession | None = None  # what a snapshot of the folder's state is
        self._mask_dirty = False
        self._restoring: SavedSession | None = None
        self._restore_task: asyncio.Task[None] | None = None
        self._problems: list[str] = []  # found before anyone listened
        self._busy = False
        self._next: Callable[[], None] | None = None
        self._closed = False
        self._write_failed = False

    @property
    def restoring(self) -> bool:
        return self._restoring is not None

    # --- start ---------------------------------------------------------------------------

    def load(self) -> None:
        """Read the saved session and put back what needs no file: the prompt and the
        parameters. The rest is restored when the event loop runs."""
        try:
            saved = self.files.read()
        except SessionFileError as exc:
            saved = None
            self._problems.append(
                self._moved_aside(None, "The saved session", exc) + " The editor starts empty."
            )
        if saved is not None:
            self._apply_values(saved)
            self._restoring = saved
        self._on_disk = self.snapshot()
        self._watch()
        self._resume_timer.start()

    def _apply_values(self, saved: SavedSession) -> None:
        values = {**dict(saved.params), "prompt": saved.prompt}
        self._session.params.restore_values(values, self._session.provider.models)

    def _resume(self) -> None:
        self._restore_task = self._session.runner.start(self._restore())

    async def _restore(self) -> None:
        saved = self._restoring
        mask_ok = True
        try:
            for problem in self._problems:
                self._session.runner.report_text(problem)
            self._problems.clear()
            if saved is not None and saved.photo is not None and saved.photo.file is not None:
                mask_ok = await self._restore_picture(saved, saved.photo.file)
            if saved is not None:
                await self._restore_gallery(saved)
        finally:
            self._restoring = None
            if saved is not None:  # what came back is what the folder holds
                self._on_disk = self.snapshot()
                if saved.mask_file and self._session.mask.has_painting():
                    self._on_disk = replace(self._on_disk, mask_file=saved.mask_file)
                self._mask_dirty = not mask_ok  # a mask that could not come back: say so
                if not mask_ok:
                    self._schedule()
            self.restored.emit()

    async def _restore_gallery(self, saved: SavedSession) -> None:
        """The jobs that were in the gallery, from the history, with the variants that
        were still in it (a job whose process died shows as interrupted)."""
        jobs, runner = self._session.jobs, self._session.runner
        recorder = jobs.recorder
        if not saved.gallery or recorder is None:
            return

        def read() -> list[tuple[JobRecord | None, tuple[int, ...]]]:
            store = recorder.open()
            if store is None:
                return []
            return [(store.get_job(job_id), kept) for job_id, kept in saved.gallery]

        try:
            found = await asyncio.to_thread(read)
        except HistoryError as exc:
            runner.report_text(f"{exc} The last session's results are in its job folders.")
            return
        providers = self._session.settings.providers()
        for record, kept in found:
            if record is not None:
                _job, missing = await jobs.recall(
                    record, provider_for(record, providers), variants=kept
                )
                for text in missing:
                    self.notice.emit(text)
        lost = sum(record is None for record, _kept in found)
        if lost:
            self.notice.emit(f"{lost} job(s) of the last session are no longer in the history.")

    async def _restore_picture(self, saved: SavedSession, file: Path) -> bool:
        """Open the photo, put its mask and the other inputs back; False when the saved
        mask could not be restored."""
        runner, document = self._session.runner, self._session.document
        if not await asyncio.to_thread(file.exists):
            runner.report_text(
                f"The photo of the last session was not found: {file}. The prompt and "
                "parameters are back; open the photo again to go on."
            )
            return True
        if not await self._open(file, saved.photo.name if saved.photo else None):
            return True  # the document said why
        picture = document.picture
        if picture is None or picture.original != file:
            return True  # the designer opened something else meanwhile
        mask_ok = True
        if saved.mask_file is not None:
            mask_ok = await self._restore_mask(saved, picture.name)
        await self._restore_inputs(saved, picture.path)
        self.notice.emit(f"Restored the last session: {picture.name}")
        return mask_ok

    async def _open(self, file: Path, name: str | None = None) -> bool:
        document = self._session.document
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def opened(*_: object) -> None:
            if not done.done():
                done.set_result(True)

        def failed(*_: object) -> None:
            if not done.done():
                done.set_result(False)

        document.opened.connect(opened)
        document.open_failed.connect(failed)
        try:
            document.open(file, name)
            return await asyncio.wait_for(done, OPEN_TIMEOUT_S)
        except TimeoutError:
            return False
        finally:
            document.opened.disconnect(opened)
            document.open_failed.disconnect(failed)

    async def _restore_mask(self, saved: SavedSession, name: str) -> bool:
        mask, runner = self._session.mask, self._session.runner
        try:
            coverage = await asyncio.to_thread(self.files.read_mask, saved)
        except SessionFileError as exc:
            message = await asyncio.to_thread(
                self._moved_aside, saved.mask_file, "The mask of the last session", exc
            )
            runner.report_text(message)
            return False
        if coverage.shape != mask.mask.shape:
            runner.report_text(
                f"The saved mask is {coverage.shape[1]}x{coverage.shape[0]} pixels but {name} "
                f"is now {mask.width}x{mask.height}: the mask was not restored."
            )
            return False
        mask.swap_mask(coverage)  # the starting point: no undo step, nothing unsaved
        return True

    async def _restore_inputs(self, saved: SavedSession, first: Path | None) -> None:
        inputs, photo = self._session.inputs, saved.photo
        skip = {photo.path, photo.original} if photo else set()
        rest = [i for i in saved.inputs if i.path not in skip]
        if not rest or not await _until(inputs.changed, lambda: inputs.first == first):
            return
        problems = await inputs.add([i.path for i in rest])
        renamed = False
        for item in rest:
            if item.path in inputs.paths and inputs.name(item.path) != item.name:
                inputs.names[item.path] = item.name  # a working copy shows its photo's name
                renamed = True
        if renamed:
            inputs.changed.emit()
        if problems:
            self._session.runner.report_text(
                "Some input images of the last session could not be added:\n" + "\n".join(problems)
            )

    def _moved_aside(self, name: str | None, what: str, reason: SessionFileError) -> str:
        """Move an unreadable file aside; returns what to tell the designer."""
        path = self.files.folder / (name or STATE_FILE)
        said = f"{what} ({path}) cannot be used: {reason}"
        try:
            target = self.files.move_aside(name)
        except OSError as err:
            return f"{said}; it could not be moved aside either ({err})."
        return f"{said}; it was moved to {target}."

    # --- saving --------------------------------------------------------------------------

    def snapshot(self) -> SavedSession:
        """The session as it is now (on the UI thread: no file is touched)."""
        session = self._session
        shown = session.jobs.shown()
        picture, params, inputs, mask = (
            session.document.picture,
            session.params,
            session.inputs,
            session.mask,
        )
        values = tuple(
            (spec.name, params.value(spec.name))
            for spec in params.schema.value_fields
            if spec.name != "prompt"
        )
        photo = (
            None if picture is None else SavedPhoto(picture.name, picture.original, picture.path)
        )
        painted = picture is not None and mask.has_painting()
        kept = self._on_disk.mask_file if self._on_disk is not None and painted else None
        return SavedSession(
            photo=photo,
            prompt=str(params.value("prompt") or ""),
            params=values,
            inputs=tuple(SavedInput(p, inputs.name(p)) for p in inputs.paths),
            mask_size=(mask.width, mask.height) if picture is not None else None,
            mask_file=kept
            if not painted or not self._mask_dirty
            else f"mask-{uuid.uuid4().hex}.png",
            gallery=tuple((job.id, tuple(r.variant for r in job.kept())) for job in shown),
        )

    def _watch(self) -> None:
        session = self._session
        for signal in (
            session.params.value_changed,
            session.inputs.changed,
            session.document.picture_changed,
            session.mask.stroke_committed,
            session.jobs.job_started,
            session.jobs.job_restored,
            session.jobs.variant_discarded,
        ):
            signal.connect(self._on_changed)
        for signal in (session.mask.mask_changed, session.mask.mask_reset):
            signal.connect(self._on_mask_changed)

    def _on_mask_changed(self, *_: object) -> None:
        if self._restoring is None and not self._closed:
            self._mask_dirty = True
            self._schedule()

    def _on_changed(self, *_: object) -> None:
        if self._restoring is None and not self._closed:
            self._schedule()

    def _schedule(self) -> None:
        """Save a second after the first change of a burst (a running timer is not
        restarted: a long stroke or steady typing is still saved every second)."""
        if not self._timer.isActive():
            self._timer.start()

    def _take(self) -> tuple[SavedSession, np.ndarray | None] | None:
        """What to write now, or None when the folder holds it already. The mask is copied
        here, on the UI thread (a memcpy), so that a stroke cannot tear it."""
        state = self.snapshot()
        if not self._mask_dirty and state == self._on_disk:
            return None
        coverage = None
        if self._mask_dirty and state.mask_file is not None:
            coverage = self._session.mask.mask.copy()
        self._mask_dirty = False
        self._on_disk = state
        return state, coverage

    def _save(self) -> None:
        if self._restoring is not None or self._closed:
            return
        if self._session.mask.is_stroking:
            return  # the stroke's end schedules the save
        if self._busy:
            self._next = self._save
            return
        taken = self._take()
        if taken is None:
            return
        state, coverage = taken
        self._busy = True
        self._background.run(
            lambda: self.files.write(state, coverage), self._on_written, self._on_write_failed
        )

    def _on_written(self, _result: object = None) -> None:
        self._busy = False
        if self._write_failed:
            self._write_failed = False
            self.notice.emit(f"The session is saved again in {self.files.folder}")
        follow, self._next = self._next, None
        if follow is not None:
            follow()
        elif not self._busy:
            self.saved.emit()

    def _on_write_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._on_disk, self._mask_dirty = None, True  # write everything next time
        if not self._write_failed:
            self._write_failed = True
            self._session.runner.report_text(
                f"The session could not be saved in {self.files.folder} ({exc}); it will be "
                "tried again with the next change."
            )
        follow, self._next = self._next, None
        if follow is not None:
            follow()

    # --- start fresh, quit ---------------------------------------------------------------

    def start_fresh(self) -> None:
        """Empty the editor (picture, mask, inputs, prompt, parameters) and forget the saved
        session. The caller asks first when painting would be lost."""
        session = self._session
        self._timer.stop()
        if self._restore_task is not None:
            self._restore_task.cancel()  # its photo is not wanted any more
        session.document.close()
        for index in reversed(range(len(session.inputs.paths))):
            session.inputs.remove(index)
        params = session.params
        for spec in params.schema.value_fields:
            params.set_value(spec.name, spec.default)
        models = session.provider.models
        params.set_value("model", models[0] if models else params.schema.field("model").default)
        self._on_disk, self._mask_dirty = self.snapshot(), False
        if self._busy:
            self._next = self._clear
        else:
            self._clear()

    def _clear(self) -> None:
        self._busy = True
        self._background.run(self.files.clear, self._on_written, self._on_write_failed)

    def close(self, timeout_s: float = 5.0) -> None:
        """At quit: write what changed since the last save (in a worker, waited for), so
        the next start goes on from here; no save after this."""
        self._timer.stop()
        self._resume_timer.stop()
        self._closed = True
        self._background.wait(timeout_s)
        if self._restoring is not None:
            return  # the folder still holds the session being restored
        if self._next == self._clear:
            worker_executor().submit(self.files.clear).result(timeout_s)
        taken = self._take()
        if taken is not None:
            worker_executor().submit(self.files.write, *taken).result(timeout_s)


async def _until(
    signal: SignalInstance, predicate: Callable[[], bool], timeout: float = 30
) -> bool:
    """Wait until ``predicate()`` holds, looking again at each ``signal``; False on timeout."""
    if predicate():
        return True
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def look(*_: object) -> None:
        if predicate() and not done.done():
            done.set_result(True)

    signal.connect(look)
    try:
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return False
    finally:
        signal.disconnect(look)
