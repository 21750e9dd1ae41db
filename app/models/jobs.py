"""Generate jobs: run requests on the asyncio loop, save every image, decode off the UI thread.

One job is one press of Generate. Its events arrive from the client on the (qasync) loop;
each image is written to the results folder first (a paid-for result is never lost), then
decoded to a display-sized QImage in a worker thread, and only then announced. A partial
that is still waiting to be decoded when a newer one of the same variant arrives is
dropped from display (it is already on disk).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.client import ClientConfig, ImageEditClient, prepare
from app.client.errors import user_error
from app.core.errors import ErrorKind, UserError
from app.core.events import CompletedImage, ImageEvent, JobWarning, PartialImage
from app.core.imageio import ImageFileError, write_atomic, write_new
from app.core.limits import open_pixel_limit
from app.core.naming import result_name
from app.core.original import read_space
from app.core.providers import Provider
from app.core.request import EditRequest
from app.core.schema import Schema
from app.models.display import decode_saved
from app.models.history_jobs import find_source, job_from_record
from app.models.job import Job, JobSource, JobStatus, VariantState, new_job_id
from app.models.job_record import JobRecorder
from app.services.history import HistoryStore, JobRecord

SAVE_HINT = "free some disk space or check that the results folder can be written, then retry"


class JobsModel(QObject):
    """Starts, tracks and cancels generate jobs; ``jobs`` holds every Job of the session,
    whose state the signals announce (ids are ``Job.id`` strings)."""

    job_started = Signal(str, int)  # job id, variants
    partial_received = Signal(str, int, int, QImage, str)  # job, variant, index, image, file
    image_received = Signal(str, int, QImage, str)  # job, variant, image, file
    job_finished = Signal(str, object)  # job id, Usage
    job_failed = Signal(str, object)  # job id, UserError (its variant set: only that one)
    job_cancelled = Signal(str)
    variant_discarded = Signal(str, int)
    history_failed = Signal(object)  # UserError: the history could not be written (once)
    job_restored = Signal(str)  # a recorded job shown again; its images follow as arriving
    job_warning = Signal(str, str)  # job id, what the client worked around (extra images)

    def __init__(
        self,
        schema: Schema,
        results_dir: Path,
        config_for: Callable[[Provider], ClientConfig],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._schema = schema
        self._results_dir = results_dir
        self._config_for = config_for
        self._numbers = itertools.count(1)
        self.jobs: dict[str, Job] = {}
        self._running: set[str] = set()  # ids of jobs whose last signal has not gone out
        self._recorder: JobRecorder | None = None
        self._shown: set[str] = set()  # jobs the gallery shows

    def use_history(self, path: Path) -> None:
        """Record every job from now on in the history at ``path`` (app.services.history,
        usually ``default_path()``). The store is opened in a background thread at once
        (a broken file is moved aside, jobs of processes that died become interrupted);
        problems go out through ``history_failed``, never failing a job."""
        if self._recorder is not None and self._recorder.path == path:
            return
        self.close_history()
        self._recorder = JobRecorder(path, self.history_failed.emit)
        threading.Thread(target=self._recorder.open, name="history-open", daemon=True).start()

    def close_history(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None

    @property
    def recorder(self) -> JobRecorder | None:
        return self._recorder

    def open_history(self) -> HistoryStore | None:
        """The history store (opened on first use: call it in a worker), or None."""
        recorder = self._recorder
        return recorder.open() if recorder is not None else None

    @property
    def busy(self) -> bool:
        """True while a job is running; already False when its last signal is emitted."""
        return bool(self._running)

    def shown(self) -> list[Job]:
        """The jobs in the gallery (a variant of each still in it), oldest first."""
        found = [self.jobs[i] for i in self._shown if i in self.jobs and self.jobs[i].kept()]
        return sorted(found, key=lambda job: job.number)

    def newest(self) -> Job | None:
        """The newest job that still has a variant in the gallery."""
        kept = [job for job in self.jobs.values() if job.kept()]
        return max(kept, key=lambda job: job.number, default=None)

    def submit(
        self,
        request: EditRequest,
        provider: Provider,
        *,
        split_streams: bool = True,
        source: JobSource | None = None,
    ) -> str:
        """Start a job. ``source`` is what is retouched (by default the first input and
        the request's mask); it is copied into the job's folder before anything is sent."""
        job_id, number = new_job_id(), next(self._numbers)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = self._results_dir / f"{stamp}-{job_id[:8]}"
        source = source or JobSource(request.images[0], request.mask)
        job = Job(job_id, number, request, provider, folder, source, split_streams)
        self.jobs[job_id] = job
        self._shown.add(job_id)
        self._running.add(job_id)
        job.task = asyncio.ensure_future(self._run(job))
        self.job_started.emit(job_id, job.variants)
        return job_id

    def cancel(self, job_id: str | None = None) -> None:
        """Cancel one job, or every running job. The connection is closed; what arrived
        stays on disk and in the gallery."""
        for job in self.jobs.values():
            if (job_id is None or job.id == job_id) and job.task and not job.task.done():
                job.task.cancel()

    def rerun(self, job_id: str) -> str:
        """Send a job's request again (billed again), from its own copies of the original,
        the mask and the other inputs: moving or editing those files since changes nothing."""
        job = self.jobs[job_id]
        source = replace(job.source, references=())
        return self.submit(
            job.request_again(), job.provider, split_streams=job.split_streams, source=source
        )

    async def recall(
        self,
        record: JobRecord,
        provider: Provider,
        *,
        show: bool = True,
        variants: Sequence[int] | None = None,
    ) -> tuple[Job, list[str]]:
        """A job of the history as a Job of this session (the same one when it is here
        already), and what of it could not be found. ``show``: into the gallery, its
        images decoded in workers and announced as arriving ones are; ``variants``: only
        those (the others stay discarded)."""
        job = self.jobs.get(record.id)
        missing: list[str] = []
        if job is None:
            found = await asyncio.to_thread(find_source, record)
            job = job_from_record(record, found, provider, next(self._numbers))
            missing = found.missing
            self.jobs[job.id] = job
        if not show or (job.id in self._shown and job.kept()):
            return job, missing
        for result in job.results.values():
            result.discarded = variants is not None and result.variant not in variants
        self._shown.add(job.id)
        self.job_restored.emit(job.id)
        for result in job.kept():
            path = result.file
            if path is None:
                continue
            try:
                image = await asyncio.to_thread(decode_saved, path)
            except ValueError as exc:
                missing.append(f"{path.name}: {exc}")
                continue
            if result.final is not None:
                self.image_received.emit(job.id, result.variant, image, str(path))
            else:
                index = len(result.partials) - 1
                self.partial_received.emit(job.id, result.variant, index, image, str(path))
        return job, missing

    def record_drift(self, job_id: str, variant: int, share: float | None) -> None:
        """Keep a measured drift in the history (in a worker)."""
        recorder = self._recorder
        if recorder is not None:
            threading.Thread(
                target=recorder.drift, args=(job_id, variant, share), name="history-drift"
            ).start()

    def discard(self, job_id: str, variant: int) -> None:
        """Take a variant out of the gallery (its files stay in the job's folder)."""
        job = self.jobs.get(job_id)
        if job is not None and variant in job.results and not job.results[variant].discarded:
            job.results[variant].discarded = True
            if not job.kept():
                self._shown.discard(job_id)
            self.variant_discarded.emit(job_id, variant)

    async def wait(self, job_id: str) -> None:
        task = self.jobs[job_id].task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def _warn(self, job_id: str, warning: JobWarning) -> None:
        """Something the client worked around (extra images ignored): said, not failed."""
        self.job_warning.emit(job_id, warning.message)

    async def _run(self, job: Job) -> None:
        display = _LatestOnly()
        try:
            await asyncio.to_thread(self._prepare_folder, job)
            config = self._config_for(job.provider)
            await prepare()  # the client's TLS set-up, in a worker thread (once)
            warn = partial(self._warn, job.id)
            async with ImageEditClient(config, self._schema, on_warning=warn) as client:
                events = client.variants(job.request, split_streams=job.split_streams)
                async for event in events:
                    path = await asyncio.to_thread(self._save, job, event)
                    display.offer(event.variant, self._show(job, event, path))
            await display.drain()
        except asyncio.CancelledError:
            # What arrived before the cancel is on disk; show it too.
            await display.drain()
            self._end(job, JobStatus.CANCELLED)
            await self._write_card(job)  # a second cancel changes nothing: it raises next
            self._running.discard(job.id)
            self.job_cancelled.emit(job.id)
            raise
        except Exception as exc:  # every failure reaches the user, never a silent task
            await display.drain()
            self._end(job, JobStatus.FAILED, user_error(exc, save_hint=SAVE_HINT))
            cancelled = not await self._write_card(job)
            self._running.discard(job.id)
            self.job_failed.emit(job.id, job.error)
            if cancelled:
                raise asyncio.CancelledError from None
            return
        self._end(job, JobStatus.DONE)
        cancelled = not await self._write_card(job)
        self._running.discard(job.id)
        self.job_finished.emit(job.id, job.usage)
        if cancelled:  # a cancel that came while the card was written, after the end
            raise asyncio.CancelledError

    def _end(self, job: Job, status: JobStatus, error: UserError | None = None) -> None:
        job.status, job.error = status, error
        ended = VariantState.CANCELLED if status == JobStatus.CANCELLED else VariantState.FAILED
        for result in job.results.values():
            if not result.is_final and status != JobStatus.DONE:
                result.state = ended
                result.error = error.message if error else result.error

    async def _write_card(self, job: Job) -> bool:
        """job.json again, with the outcome, in a worker (it is fsynced). A full disk must
        not hide the result, which is on disk and shown already. A cancel that arrives
        meanwhile does not stop the write, nor the job's last signal: False tells the
        caller to raise it once that signal is out."""
        card = json.dumps(job.card(), indent=2).encode()
        write = asyncio.ensure_future(asyncio.to_thread(self._write_card_file, job, card))
        write.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            return False
        except OSError:
            pass
        return True

    def _write_card_file(self, job: Job, card: bytes) -> None:
        """job.json, then the job's end in the history (in the same worker call)."""
        recorder = self._recorder
        try:
            write_atomic(job.folder / "job.json", card)
        finally:
            if recorder is not None:
                recorder.finish(job)

    async def _show(self, job: Job, event: ImageEvent, path: Path) -> None:
        result = job.result(event.variant)
        try:
            # From the file just saved, not from event.data: copying 19 MB of PNG into a
            # QByteArray is one call that holds the GIL for about 12 ms (a UI stall), while
            # Qt reads a file with the GIL released, and the file is in the page cache.
            image = await asyncio.to_thread(decode_saved, path)
        except ValueError as exc:
            message = (
                f"Variant {event.variant + 1}: {path.name} is saved in {path.parent}, but {exc}; "
                "open it from there in another program."
            )
            error = UserError(message, ErrorKind.PROTOCOL, retryable=False, variant=event.variant)
            if not result.is_final:
                result.state, result.error = VariantState.FAILED, message
            self.job_failed.emit(job.id, error)
            return
        if isinstance(event, PartialImage):
            if result.is_final:
                return  # a late partial never replaces a final
            result.state, result.shown_partial = VariantState.STREAMING, event.partial_index
            result.error = None  # an earlier image's failure is over
            self.partial_received.emit(job.id, event.variant, event.partial_index, image, str(path))
        else:
            result.state, result.error = VariantState.FINAL, None
            self.image_received.emit(job.id, event.variant, image, str(path))

    def _save(self, job: Job, event: ImageEvent) -> Path:
        job.folder.mkdir(parents=True, exist_ok=True)  # made again if it was removed
        path = write_new(job.folder / result_name(event, len(job.files) + 1), event.data)
        job.files.append(path)
        result = job.result(event.variant)
        if isinstance(event, CompletedImage):
            result.final = path
            if event.usage is not None:
                job.usage = job.usage + event.usage
        else:
            result.partials.append(path)
            job.status = JobStatus.STREAMING
        if event.request_id:
            job.request_ids.append(event.request_id)
        recorder = self._recorder
        if recorder is not None:  # in this worker call: the UI thread does no store work
            recorder.saved(job, event, path)
        return path

    def _prepare_folder(self, job: Job) -> None:
        """The job's folder, with its own copies of the original, the mask and the other
        input images."""
        job.folder.mkdir(parents=True, exist_ok=True)
        source, folder, request = job.source, job.folder, job.request
        # The designer's names of what is sent, before the copies rename them.
        names = [(source.photo or source.original).name, *(p.name for p in request.images[1:])]
        mask_name = source.mask.name if source.mask else None

        def keep(path: Path | None, name: str) -> Path | None:
            return _keep_copy(path, folder / f"{name}{path.suffix}") if path else None

        original = _keep_copy(source.original, folder / f"original{source.original.suffix}")
        sent = request.images[0] if request.images[0] != source.original else None
        sent_mask = request.mask if request.mask != source.mask else None
        job.source = JobSource(
            original,
            keep(source.mask, "mask"),
            source.region,
            tuple(
                _keep_copy(path, folder / f"input-{number}{path.suffix}")
                for number, path in enumerate(request.images[1:], start=2)
            ),
            photo=keep(source.photo, "photo"),
            sent=keep(sent, "sent"),
            sent_mask=keep(sent_mask, "sent-mask"),
            painted=keep(source.painted, "painted"),
        )
        try:
            space = read_space(job.source.kept_space, max_pixels=open_pixel_limit())
        except ImageFileError:
            space = None  # kept as 8-bit sRGB; the save itself reports what is wrong
        job.source = replace(job.source, space=space)
        write_atomic(folder / "job.json", json.dumps(job.card(), indent=2).encode())
        recorder = self._recorder
        if recorder is not None:
            recorder.begin(job, names, mask_name)


def _keep_copy(source: Path, target: Path) -> Path:
    """``source`` under ``target``: a hard link where the file system allows one (no space
    used, and the original's later replacement by a save does not change it), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


class _LatestOnly:
    """Per variant, at most one display task running and one waiting; a newer partial
    replaces the waiting one. Finals are never dropped."""

    def __init__(self) -> None:
        self._running: dict[int, asyncio.Task[None]] = {}
        self._waiting: dict[int, Any] = {}
        self._final: list[asyncio.Task[None]] = []

    def offer(self, variant: int, show: Any) -> None:
        stale = self._waiting.pop(variant, None)
        if stale is not None:
            stale.close()  # a coroutine that never ran
        self._waiting[variant] = show
        self._pump(variant)

    def _pump(self, variant: int) -> None:
        running = self._running.get(variant)
        if running is not None and not running.done():
            return
        show = self._waiting.pop(variant, None)
        if show is None:
            return
        task = asyncio.ensure_future(show)
        task.add_done_callback(lambda _: self._pump(variant))
        self._running[variant] = task
        self._final.append(task)

    async def drain(self) -> None:
        while self._waiting or any(not t.done() for t in self._final):
            await asyncio.gather(*self._final, return_exceptions=True)
            await asyncio.sleep(0)
