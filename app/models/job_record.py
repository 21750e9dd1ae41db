"""The editor's jobs in the history (app.services.history), recorded from the worker calls
that write the job's files: begun once the job folder is prepared, each image added in the
call that saved it, finished with job.json. Nothing here runs on the UI thread.

A history that cannot be written never fails a job: the first failure of a run of them is
handed to ``report`` (JobsModel.history_failed, for the error bar) and the job goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from app.core.errors import ErrorKind, UserError
from app.core.events import CompletedImage, ImageEvent
from app.models.job import Job, JobStatus
from app.services.history import HistoryError, HistoryStore

_ENDED = {JobStatus.DONE: "done", JobStatus.FAILED: "failed", JobStatus.CANCELLED: "cancelled"}


class JobRecorder:
    """Records jobs into the history at ``path``; safe to call from any worker thread.
    The store is opened by ``open`` (or by the first record), which also marks the jobs of
    processes that died as interrupted."""

    def __init__(self, path: Path, report: Callable[[UserError], None]) -> None:
        self.path = path
        self._report = report
        self._lock = threading.Lock()
        self._store: HistoryStore | None = None
        self._opened = False
        self._failing = False  # a failure was reported; the next success clears it
        self.threads: set[str] = set()  # names of the threads that used the store (tests)

    @property
    def store(self) -> HistoryStore | None:
        return self._store

    def open(self) -> HistoryStore | None:
        """Open the store once (a broken file is moved aside, and said so)."""
        with self._lock:
            if not self._opened:
                self._opened = True
                try:
                    self._store = HistoryStore.open(self.path)
                    if self._store.notice:
                        self._report(_problem(self._store.notice))
                    self._store.mark_interrupted()
                except HistoryError as exc:
                    self._fail(exc)
            return self._store

    def begin(self, job: Job, names: list[str], mask_name: str | None) -> None:
        """The job as sent, with copies of what was sent (its job folder's files);
        ``names`` are the designer's file names of the inputs."""
        request = job.request_again()
        provider = job.provider
        self._call(
            lambda store: store.begin_job(
                job.id,
                program="editor",
                inputs=list(request.images),
                mask=request.mask,
                params=dict(request.values),
                provider=provider.name,
                base_url=provider.base_url or None,
                api_path=provider.path,
                folder=job.folder,
                owns_folder=True,
                input_names=names,
                mask_name=mask_name,
                region=job.source.region,
                options={
                    "split_streams": job.split_streams,
                    "force_image_array": provider.force_image_array,
                },
            )
        )

    def saved(self, job: Job, event: ImageEvent, path: Path) -> None:
        final = isinstance(event, CompletedImage)
        index = None if final else getattr(event, "partial_index", None)
        kind = "final" if final else "partial"
        self._call(lambda store: store.add_file(job.id, event.variant, kind, path, index))

    def drift(self, job_id: str, variant: int, share: float | None) -> None:
        self._call(lambda store: store.set_drift(job_id, variant, share))

    def finish(self, job: Job) -> None:
        status = _ENDED.get(job.status, "failed")
        ids = [*job.request_ids, *([job.error.request_id] if job.error else [])]
        usage = job.usage.to_json()
        self._call(lambda store: store.finish_job(job.id, status, usage, [i for i in ids if i]))

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _call(self, action: Callable[[HistoryStore], None]) -> None:
        store = self.open()
        if store is None:
            return
        self.threads.add(threading.current_thread().name)
        try:
            action(store)
        except HistoryError as exc:
            with self._lock:
                self._fail(exc)
            return
        self._failing = False

    def _fail(self, exc: HistoryError) -> None:
        if not self._failing:
            self._failing = True
            self._report(_problem(f"{exc} The job and its images are not affected."))


def _problem(message: str) -> UserError:
    return UserError(message, ErrorKind.DISK, retryable=False)
