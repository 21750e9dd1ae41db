"""The History panel's model: the jobs of the history store (app.services.history) as a Qt
list, newest first, filtered by prompt text, status, model and date.

Everything that touches the store or the disk runs on the worker pool (app.qt.background):
the queries (a page of ``PAGE`` records at a time, more as the list is scrolled), the
thumbnails (decoded at thumbnail size, only for the rows the view asks for, the newest
request first), measuring what a delete frees, and deleting. The UI thread only holds the
records and the small images.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage, QImageReader

from app.models.jobs import JobsModel
from app.qt.background import Background
from app.qt.workers import worker_count
from app.services.history import HistoryError, HistoryStore, JobRecord

PAGE = 100
"""Records read per query; scrolling to the end reads the next page."""
THUMB_PX = 144
"""A thumbnail's longest side in device pixels (72 logical pixels at a scale of 2)."""
THUMBS_KEPT = 600
THUMBS_AT_ONCE = 3
"""Thumbnails decoded at the same time at most (and never more than the pool's workers,
so a search is not queued behind them): the rest wait, the newest asked first."""
WAITING_KEPT = 48
"""Thumbnails waiting at most; older requests (rows scrolled past) are dropped and asked
again when their rows are painted again."""
REFRESH_DELAY_MS = 250

RecordRole = Qt.ItemDataRole.UserRole + 1
MetaRole = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex
_ROW_ROLES = [  # what a record's update changes (never the size: no new layout)
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
    RecordRole, MetaRole,
]  # fmt: skip


@dataclass(frozen=True)
class HistoryFilter:
    """What the panel shows: prompts containing ``search``, one ``status`` and ``model``
    (None: any), jobs of the last ``days`` days (0: today; None: any time)."""

    search: str = ""
    status: str | None = None
    model: str | None = None
    days: int | None = None

    def since(self, now: float | None = None) -> float | None:
        if self.days is None:
            return None
        now = time.time() if now is None else now
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp() - self.days * 86400


def thumbnail_file(record: JobRecord) -> Path | None:
    """The image that stands for a job: its first final, else a partial (the first while
    the job runs, so each new partial costs no new thumbnail; the newest once it ended),
    else the photo it was sent."""
    finals = [f.path for f in record.files if f.kind == "final" and not f.missing]
    partials = [f.path for f in record.files if f.kind == "partial" and not f.missing]
    partial = partials[:1] if record.status == "running" else partials[-1:]
    inputs = [i.path for i in record.inputs if not i.missing]
    return next(iter(finals or partial or inputs), None)


def read_thumbnail(path: Path, edge: int = THUMB_PX) -> QImage:
    """In a worker: ``path`` decoded at most ``edge`` pixels on its longest side (a JPEG
    is decoded at that size, not whole)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > edge:
        reader.setScaledSize(size.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ValueError(f"{path.name}: {reader.errorString()}")
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def when(moment: datetime, now: datetime | None = None) -> str:
    """A job's time as a list shows it: ``today 14:03``, ``27 Nov 09:12``, ``3 Mar 2025``."""
    now = now or datetime.now()
    if moment.date() == now.date():
        return moment.strftime("today %H:%M")
    if moment.year == now.year:
        return f"{moment.day} {moment.strftime('%b %H:%M')}"
    return f"{moment.day} {moment.strftime('%b %Y')}"


def describe(record: JobRecord) -> str:
    """The line under a job's prompt: status, model, results, when, and what is missing."""
    finals = len(record.results)
    parts = [
        record.status,
        record.model or "no model",
        f"{finals} result{'s' if finals != 1 else ''}",
        when(record.created),
    ]
    if record.folder_missing or record.files_missing:
        parts.append("files missing")
    return " · ".join(parts)


class HistoryList(QAbstractListModel):
    """The rows are ``JobRecord``s (``RecordRole``); the display text is the prompt, the
    decoration a thumbnail once decoded, ``MetaRole`` the line ``describe`` makes.

    Signals: ``loaded`` when a query's rows are in; ``models_found(list)`` the models any
    job used (for the filter); ``measured(id, bytes)`` what deleting a job would free;
    ``deleted(id, bytes)``; ``failed(text)`` a sentence for the error bar."""

    loaded = Signal()
    models_found = Signal(list)
    measured = Signal(str, int)
    deleted = Signal(str, int)
    failed = Signal(str)

    def __init__(
        self, open_store: Callable[[], HistoryStore | None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._open_store = open_store  # called in workers: it may open the file
        self._rows: list[JobRecord] = []
        self.filter = HistoryFilter()
        self._serial = 0
        self._more = False
        self._fetching = False
        self._thumbs: OrderedDict[Path, QImage] = OrderedDict()
        self._waiting: list[Path] = []
        self._loading: set[Path] = set()
        self._broken: set[Path] = set()
        self._models: list[str] | None = None
        self._by_path: dict[Path, list[str]] = {}  # thumbnail file -> ids of its rows
        self._index: dict[str, int] | None = None  # job id -> row
        self.visible = True  # the panel is on screen: live updates are read at once
        self._stale = False  # something changed while hidden: read when shown
        self._jobs_due: set[str] = set()  # jobs whose images arrived: their rows only
        self._background = Background(self)
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._job_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._job_timer.timeout.connect(self._refresh_jobs)

    # --- reading ------------------------------------------------------------------------

    def set_filter(self, **changes: Any) -> None:
        changed = replace(self.filter, **changes)
        if changed != self.filter:
            self.filter = changed
            self.refresh()

    def refresh_soon(self) -> None:
        """Read again shortly (a job started): bursts read once; while the panel is
        hidden, only when it is shown again."""
        if not self.visible:
            self._stale = True
        elif not self._timer.isActive():
            self._timer.start()

    def refresh_job(self, job_id: str) -> None:
        """A job's images arrived or it ended: read that job again, not the list."""
        if not self.visible:
            self._stale = True
            return
        self._jobs_due.add(job_id)
        if not self._job_timer.isActive():
            self._job_timer.start()

    def follow(self, jobs: JobsModel) -> None:
        """Keep up with the editor's jobs: a started job adds a row, its images and its
        end update that row only."""
        jobs.job_started.connect(lambda *_: self.refresh_soon())
        for signal in (jobs.image_received, jobs.partial_received, jobs.job_finished,
                       jobs.job_failed, jobs.job_cancelled):  # fmt: skip
            signal.connect(lambda job_id, *_: self.refresh_job(job_id))

    def set_visible(self, shown: bool) -> None:
        """The panel is on screen or not; shown after changes, it reads them."""
        self.visible = shown
        if shown and (self._stale or not self._rows):
            self._stale = False
            self.refresh()

    def refresh(self) -> None:
        """Read the first page again with the current filter."""
        self._serial += 1
        serial, wanted = self._serial, self.filter

        def work() -> tuple[list[JobRecord], list[str]]:
            store = self._open_store()
            if store is None:
                return [], []
            return self._page(store, wanted, 0), store.models()

        self._background.run(work, lambda found: self._on_first(serial, *found), self._on_failed)

    def _refresh_jobs(self) -> None:
        due, self._jobs_due = set(self._jobs_due), set()
        known = [job_id for job_id in due if self.row_of(job_id) is not None]
        if len(known) < len(due):  # a job not listed yet: the list itself changed
            self.refresh()
            return

        def work() -> list[JobRecord]:
            store = self._open_store()
            found = [store.get_job(job_id) for job_id in known] if store else []
            return [record for record in found if record is not None]

        self._background.run(work, self._on_jobs, self._on_failed)

    def _on_jobs(self, records: list[JobRecord]) -> None:
        for record in records:
            row = self.row_of(record.id)
            if row is not None:
                self._rows[row] = record
                self._index_thumbnail(record)
                index = self.index(row)
                self.dataChanged.emit(index, index, _ROW_ROLES)

    def record(self, row: int) -> JobRecord:
        return self._rows[row]

    def records(self) -> list[JobRecord]:
        return list(self._rows)

    def row_of(self, job_id: str) -> int | None:
        if self._index is None:  # made again after the rows changed
            self._index = {record.id: row for row, record in enumerate(self._rows)}
        return self._index.get(job_id)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the work in flight has ended (tests, benchmarks)."""
        return self._background.wait(timeout_s)

    # --- Qt's list model --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return record.prompt or "(no prompt)"
        if role == RecordRole:
            return record
        if role == MetaRole:
            return describe(record)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            values = "\n".join(f"{k}: {v}" for k, v in record.params.items() if k != "prompt")
            return f"{record.prompt}\n\n{values}\nprovider: {record.provider}\nid: {record.id}"
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        serial, wanted, offset = self._serial, self.filter, len(self._rows)

        def work() -> list[JobRecord]:
            store = self._open_store()
            return [] if store is None else self._page(store, wanted, offset)

        self._background.run(work, lambda found: self._on_more(serial, found), self._on_failed)

    # --- deleting --------------------------------------------------------------------------

    def measure(self, job_id: str) -> None:
        """Find what deleting a job frees (``measured``)."""

        def work() -> int:
            store = self._open_store()
            return 0 if store is None else store.space_of(job_id)

        self._background.run(work, lambda size: self.measured.emit(job_id, size), self._on_failed)

    def delete(self, job_id: str) -> None:
        """Forget a job and remove its files (``deleted`` with the bytes freed)."""

        def work() -> int:
            store = self._open_store()
            if store is None:
                raise HistoryError("The history cannot be opened; nothing was deleted.")
            return store.delete_job(job_id)

        def done(freed: int) -> None:
            row = self.row_of(job_id)
            if row is not None:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self._index = None
                self.endRemoveRows()
            self.deleted.emit(job_id, freed)

        self._background.run(work, done, self._on_failed)

    # --- answers ---------------------------------------------------------------------------

    @staticmethod
    def _page(store: HistoryStore, wanted: HistoryFilter, offset: int) -> list[JobRecord]:
        return store.list_jobs(
            limit=PAGE,
            offset=offset,
            search=wanted.search.strip() or None,
            status=wanted.status,
            model=wanted.model,
            since=wanted.since(),
        )

    def _on_first(self, serial: int, rows: list[JobRecord], models: list[str]) -> None:
        if serial != self._serial:
            return  # a newer query is on its way
        same = [r.id for r in rows] == [r.id for r in self._rows[: len(rows)]]
        if same and rows and (len(rows) == PAGE or len(rows) == len(self._rows)):
            # The usual update: the same jobs on top. In place, keeping the pages read
            # below and where the list is scrolled.
            self._rows[: len(rows)] = rows
            self.dataChanged.emit(self.index(0), self.index(len(rows) - 1), _ROW_ROLES)
        else:
            self.beginResetModel()
            self._rows, self._more, self._fetching = rows, len(rows) == PAGE, False
            self._index = None
            self.endResetModel()
        self._index_thumbnails()
        if models != self._models:
            self._models = models
            self.models_found.emit(models)
        self.loaded.emit()

    def _on_more(self, serial: int, rows: list[JobRecord]) -> None:
        self._fetching = False
        if serial != self._serial:
            return
        known = {r.id for r in self._rows}
        rows = [r for r in rows if r.id not in known]  # a job recorded meanwhile
        self._more = len(rows) > 0
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self._index = None
            self.endInsertRows()
            for record in rows:
                self._index_thumbnail(record)

    def _on_failed(self, exc: BaseException) -> None:
        self._fetching = False
        self.failed.emit(str(exc) if isinstance(exc, HistoryError) else f"The history: {exc}")

    # --- thumbnails --------------------------------------------------------------------------

    def _thumbnail(self, record: JobRecord) -> QImage | None:
        path = thumbnail_file(record)
        if path is None or path in self._broken:
            return None
        image = self._thumbs.get(path)
        if image is not None:
            self._thumbs.move_to_end(path)
            return image
        if path not in self._loading:
            if path in self._waiting:
                self._waiting.remove(path)
            self._waiting.append(path)  # the newest asked is decoded first
            del self._waiting[:-WAITING_KEPT]  # rows scrolled past long ago: asked again
            self._pump()
        return None

    def _pump(self) -> None:
        while self._waiting and len(self._loading) < min(THUMBS_AT_ONCE, worker_count()):
            path = self._waiting.pop()
            self._loading.add(path)
            self._background.run(
                lambda p=path: read_thumbnail(p),
                lambda image, p=path: self._on_thumbnail(p, image),
                lambda _exc, p=path: self._on_thumbnail(p, None),
            )

    def _on_thumbnail(self, path: Path, image: QImage | None) -> None:
        self._loading.discard(path)
        if image is None:
            self._broken.add(path)
        else:
            self._thumbs[path] = image
            while len(self._thumbs) > THUMBS_KEPT:
                self._thumbs.popitem(last=False)
        for job_id in self._by_path.get(path, ()):
            row = self.row_of(job_id)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
        self._pump()

    def _index_thumbnails(self) -> None:
        self._by_path.clear()
        for record in self._rows:
            self._index_thumbnail(record)

    def _index_thumbnail(self, record: JobRecord) -> None:
        path = thumbnail_file(record)
        if path is not None:
            ids = self._by_path.setdefault(path, [])
            if record.id not in ids:
                ids.append(record.id)
