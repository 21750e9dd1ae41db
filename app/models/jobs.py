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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QImageReader

from app.client import ApiError, ClientConfig, ClientError, ImageEditClient, NetworkError, prepare
from app.core.events import CompletedImage, ImageEvent, PartialImage, Usage
from app.core.imageio import write_atomic
from app.core.naming import result_name
from app.core.providers import Provider
from app.core.request import EditRequest
from app.core.schema import Schema

THUMBNAIL_EDGE = 512
AUTH_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class JobError:
    """What the error bar shows: the server's words, its code and the request id, and what
    can help: trying again (``retryable``) or fixing the provider's settings
    (``needs_settings``: a missing, wrong or unauthorised API key)."""

    message: str
    kind: str  # "api", "auth", "network", "protocol", "disk", "internal"
    status: int | None = None
    code: str | None = None
    type: str | None = None
    request_id: str | None = None
    retryable: bool = True
    # Set when only this variant (index from 0) failed and the job goes on; None when the
    # job itself ended with this error.
    variant: int | None = None

    @property
    def needs_settings(self) -> bool:
        return self.kind == "auth"

    @classmethod
    def from_exception(cls, exc: BaseException) -> JobError:
        if isinstance(exc, ApiError):
            if exc.status in AUTH_STATUSES:
                # The same key is refused the same way every time: retrying cannot help,
                # the key or the provider has to change first.
                return cls(
                    f"{exc}; check the provider's API key in Settings ▸ Providers "
                    "(Ctrl+,), then generate again.",
                    "auth",
                    exc.status,
                    exc.code,
                    exc.type,
                    exc.request_id,
                    retryable=False,
                )
            blocked = exc.type == "image_generation_user_error"
            return cls(str(exc), "api", exc.status, exc.code, exc.type, exc.request_id, not blocked)
        if isinstance(exc, NetworkError):
            return cls(str(exc), "network")
        if isinstance(exc, ClientError):
            return cls(str(exc), "protocol")
        if isinstance(exc, OSError):
            where = f" in {exc.filename}" if exc.filename else ""
            return cls(
                f"A result could not be saved{where} ({exc.strerror or exc}); free some disk "
                "space or check that the results folder can be written, then retry.",
                "disk",
            )
        return cls(f"Unexpected error: {type(exc).__name__}: {exc}", "internal")


@dataclass
class Job:
    id: int
    request: EditRequest
    provider: Provider
    folder: Path
    split_streams: bool = True
    usage: Usage = field(default_factory=Usage)
    files: list[Path] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @property
    def variants(self) -> int:
        return int(self.request.get("n", 1))


def decode_for_display(data: bytes, edge: int = THUMBNAIL_EDGE) -> QImage:
    """Decode encoded bytes to a QImage no larger than ``edge`` on its long side. Runs in a
    worker thread: QImage (unlike QPixmap) may be built off the UI thread."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    return _read_scaled(QImageReader(buffer), edge, "the image")


def decode_file_for_display(path: Path, edge: int) -> QImage:
    """As decode_for_display, reading the file directly: no copies of its bytes in memory."""
    return _read_scaled(QImageReader(str(path)), edge, path.name)


def _decode_saved(path: Path) -> QImage:
    """A saved result for display; its error says "the image", the caller names the file."""
    return _read_scaled(QImageReader(str(path)), THUMBNAIL_EDGE, "the image")


def _read_scaled(reader: QImageReader, edge: int, label: str) -> QImage:
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > edge:
        reader.setScaledSize(size.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ValueError(f"{label} could not be decoded ({reader.errorString()})")
    return image


class JobsModel(QObject):
    """Starts, tracks and cancels generate jobs."""

    job_started = Signal(int, int)  # job id, variants
    partial_received = Signal(int, int, int, QImage, str)  # job, variant, index, image, file
    image_received = Signal(int, int, QImage, str)  # job, variant, image, file
    job_finished = Signal(int, object)  # job id, Usage
    job_failed = Signal(int, object)  # job id, JobError
    job_cancelled = Signal(int)

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
        self._ids = itertools.count(1)
        self.jobs: dict[int, Job] = {}
        self._running: set[int] = set()

    @property
    def busy(self) -> bool:
        """True while a job is running; already False when its last signal is emitted."""
        return bool(self._running)

    def submit(
        self, request: EditRequest, provider: Provider, *, split_streams: bool = True
    ) -> int:
        job_id = next(self._ids)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = self._results_dir / f"{stamp}-job{job_id}"
        job = Job(job_id, request, provider, folder, split_streams)
        self.jobs[job_id] = job
        self._running.add(job_id)
        job.task = asyncio.ensure_future(self._run(job))
        self.job_started.emit(job_id, job.variants)
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel one job, or every running job. The connection is closed; what arrived
        stays on disk and in the gallery."""
        for job in self.jobs.values():
            if (job_id is None or job.id == job_id) and job.task and not job.task.done():
                job.task.cancel()

    async def wait(self, job_id: int) -> None:
        task = self.jobs[job_id].task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, job: Job) -> None:
        display = _LatestOnly()
        try:
            await asyncio.to_thread(job.folder.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(self._write_job_card, job)
            config = self._config_for(job.provider)
            await prepare()  # the client's TLS set-up, in a worker thread (once)
            async with ImageEditClient(config, self._schema) as client:
                events = client.variants(job.request, split_streams=job.split_streams)
                async for event in events:
                    path = await asyncio.to_thread(self._save, job, event)
                    if isinstance(event, CompletedImage) and event.usage is not None:
                        job.usage = job.usage + event.usage
                    display.offer(event.variant, self._show(job, event, path))
            await display.drain()
        except asyncio.CancelledError:
            # What arrived before the cancel is on disk; show it too.
            await display.drain()
            self._running.discard(job.id)
            self.job_cancelled.emit(job.id)
            raise
        except Exception as exc:  # every failure reaches the user, never a silent task
            await display.drain()
            self._running.discard(job.id)
            self.job_failed.emit(job.id, JobError.from_exception(exc))
            return
        self._running.discard(job.id)
        self.job_finished.emit(job.id, job.usage)

    async def _show(self, job: Job, event: ImageEvent, path: Path) -> None:
        try:
            # From the file just saved, not from event.data: copying 19 MB of PNG into a
            # QByteArray is one call that holds the GIL for about 12 ms (a UI stall), while
            # Qt reads a file with the GIL released, and the file is in the page cache.
            image = await asyncio.to_thread(_decode_saved, path)
        except ValueError as exc:
            message = (
                f"Variant {event.variant + 1}: {path.name} is saved in {path.parent}, but {exc}; "
                "open it from there in another program."
            )
            error = JobError(message, "protocol", retryable=False, variant=event.variant)
            self.job_failed.emit(job.id, error)
            return
        if isinstance(event, PartialImage):
            self.partial_received.emit(job.id, event.variant, event.partial_index, image, str(path))
        else:
            self.image_received.emit(job.id, event.variant, image, str(path))

    def _save(self, job: Job, event: ImageEvent) -> Path:
        path = write_atomic(job.folder / result_name(event, len(job.files) + 1), event.data)
        job.files.append(path)
        return path

    def _write_job_card(self, job: Job) -> None:
        card: dict[str, Any] = {
            "provider": job.provider.name,
            "values": dict(job.request.values),
            "images": [str(p) for p in job.request.images],
            "mask": str(job.request.mask) if job.request.mask else None,
        }
        write_atomic(job.folder / "job.json", json.dumps(card, indent=2).encode())


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
