"""``HistoryStore``: the SQLite catalogue of jobs, safe for several processes at once.

Concurrency: WAL journal (readers never wait for the writer), a busy timeout (a writer
waits for another's short transaction rather than failing), and every write is one short
``BEGIN IMMEDIATE`` transaction. One store object may be used from several threads; its
calls are serialised by a lock.

Faults: a database that is not one, is corrupt, or was written by a newer Retouch Studio
is moved aside (renamed with a timestamp) and a fresh one started; ``notice`` says so. Any
other failure (a full disk, a folder that cannot be written) is a ``HistoryError`` whose
message names the file: the caller reports it and goes on, the job's images are on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from app.services.history.blobs import blob_key, remove_file, sha256_of, store_blob
from app.services.history.migrations import MIGRATIONS, Migration
from app.services.history.opening import Unusable, connect, explain, move_aside
from app.services.history.processes import pid_alive
from app.services.history.records import (
    FILE_KINDS,
    STATUSES,
    JobRecord,
    StoredFile,
    StoredInput,
)

T = TypeVar("T")


class HistoryError(Exception):
    """The history could not be read or written; the message names the file and says
    what to do. The job it was recording is not affected."""


class HistoryStore:
    """The history database at ``path`` and the stored copies beside it (``blobs/``).
    Make one with ``HistoryStore.open``; ``close`` it when done."""

    def __init__(self, path: Path, db: sqlite3.Connection, notice: str | None = None) -> None:
        self.path = path
        self.root = path.parent
        self.notice = notice
        """Set when the file found was moved aside: one sentence for the user."""
        self._db = db
        self._lock = threading.RLock()
        self._host = socket.gethostname()

    # --- opening --------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> HistoryStore:
        """Open (or create) the history at ``path``, upgraded to ``len(migrations)``.

        A file that is not a database, is corrupt, or has a newer schema version than
        this program knows is renamed ``<name>.<reason>-<timestamp>`` and a new history
        is started (``store.notice`` says so). Raises HistoryError when even a new one
        cannot be made (the folder cannot be written)."""
        path = Path(path).absolute()
        notice = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = connect(path, migrations)
            except Unusable as problem:
                moved = move_aside(path, problem.tag)
                notice = (
                    f"The history {path} {problem.reason}; it was moved to {moved.name} "
                    "and a new, empty history was started."
                )
                db = connect(path, migrations)
        except (OSError, sqlite3.Error, Unusable) as exc:
            raise HistoryError(explain(path, exc)) from exc
        return cls(path, db, notice)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._read(lambda: self._db.execute("PRAGMA user_version").fetchone()[0]))

    # --- recording ------------------------------------------------------------------

    def begin_job(
        self,
        job_id: str,
        *,
        program: str,
        inputs: Sequence[Path],
        mask: Path | None = None,
        params: Mapping[str, Any],
        provider: str = "",
        base_url: str | None = None,
        api_path: str | None = None,
        folder: Path | None = None,
        owns_folder: bool = False,
        input_names: Sequence[str] | None = None,
        mask_name: str | None = None,
        region: tuple[int, int, int, int] | None = None,
        paste_back: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a job as ``running``, with copies of its inputs and mask. ``params``
        are the request fields as sent (never a key); ``input_names`` the names of the
        designer's files when ``inputs`` are copies of them."""
        names = list(input_names or [p.name for p in inputs])
        try:  # hashing reads the files: outside the lock and the transaction
            hashed = [(p, sha256_of(p)) for p in inputs]
            mask_hash = (mask, sha256_of(mask)) if mask is not None else None
        except OSError as exc:
            raise HistoryError(explain(self.path, exc)) from exc
        row = {
            "id": job_id,
            "created": round(time.time(), 6),  # microseconds, as a datetime holds it
            "status": "running",
            "program": program,
            "provider": provider,
            "base_url": base_url,
            "api_path": api_path,
            "model": _text_or_none(params.get("model")),
            "prompt": str(params.get("prompt") or ""),
            "params": _dumps(params),
            "region": _dumps(list(region)) if region else None,
            "paste_back": _dumps(paste_back) if paste_back is not None else None,
            "options": _dumps(options or {}),
            "folder": str(folder.absolute()) if folder else None,
            "owns_folder": int(owns_folder),
            "pid": os.getpid(),
            "host": self._host,
        }

        def write() -> None:
            self._db.execute(
                f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            # Blobs are linked inside the write transaction, so that a concurrent delete
            # (which removes unreferenced blobs under the same lock) cannot remove one
            # between its existence check here and the row that references it.
            stored = [("image", n, p, h, names[n]) for n, (p, h) in enumerate(hashed)]
            if mask_hash is not None:
                stored.append(
                    ("mask", 0, mask_hash[0], mask_hash[1], mask_name or mask_hash[0].name)
                )
            for role, position, source, digest, name in stored:
                key = blob_key(digest, source)
                store_blob(self.root, key, source)
                self._db.execute(
                    "INSERT INTO job_inputs (job_id, role, position, blob, name)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (job_id, role, position, key, name),
                )

        self._write(write)

    def add_file(
        self,
        job_id: str,
        variant: int,
        kind: str,
        path: Path,
        partial_index: int | None = None,
    ) -> None:
        """Record an image the job wrote (call it once the file is on disk)."""
        if kind not in FILE_KINDS:
            raise ValueError(f"kind must be one of {FILE_KINDS}, not {kind!r}")
        self._write(
            lambda: self._db.execute(
                "INSERT OR IGNORE INTO job_files (job_id, variant, kind, partial_index, path)"
                " VALUES (?, ?, ?, ?, ?)",
                (job_id, variant, kind, partial_index, str(Path(path).absolute())),
            )
        )

    def set_drift(self, job_id: str, variant: int, drift: float | None) -> None:
        """The drift measured for the variant's final image (share of pixels outside
        the mask that changed; None: not measurable)."""
        self._write(
            lambda: self._db.execute(
                "UPDATE job_files SET drift = ?"
                " WHERE job_id = ? AND variant = ? AND kind = 'final'",
                (drift, job_id, variant),
            )
        )

    def finish_job(
        self,
        job_id: str,
        status: str,
        usage: Mapping[str, Any] | None = None,
        request_ids: Iterable[str] = (),
    ) -> None:
        """The job ended: ``done``, ``cancelled`` or ``failed``."""
        if status not in STATUSES or status == "running":
            raise ValueError(f"a job ends as one of {STATUSES[1:]}, not {status!r}")
        ids = list(dict.fromkeys(i for i in request_ids if i))
        self._write(
            lambda: self._db.execute(
                "UPDATE jobs SET status = ?, finished = ?, usage = ?, request_ids = ? WHERE id = ?",
                (status, time.time(), _dumps(usage) if usage else None, _dumps(ids), job_id),
            )
        )

    def mark_interrupted(self) -> list[str]:
        """Jobs still ``running`` whose process (on this host) is gone become
        ``interrupted``; their ids. Call it when a program starts."""

        def mark() -> list[str]:
            rows = self._db.execute(
                "SELECT id, pid FROM jobs WHERE status = 'running' AND host = ?", (self._host,)
            ).fetchall()
            dead = [job_id for job_id, pid in rows if pid is None or not pid_alive(pid)]
            self._db.executemany(
                "UPDATE jobs SET status = 'interrupted' WHERE id = ? AND status = 'running'",
                [(job_id,) for job_id in dead],
            )
            return dead

        return self._write(mark)

    def delete_job(self, job_id: str) -> int:
        """Forget a job and remove the images it wrote (its folder too, when the folder
        is its own) and the stored inputs no other job uses. Returns the bytes freed."""

        def delete() -> tuple[list[Path], Path | None, int]:
            row = self._db.execute(
                "SELECT folder, owns_folder FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise HistoryError(f"No job {job_id} in the history {self.path}.")
            files = [Path(p) for (p,) in self._db.execute(
                "SELECT path FROM job_files WHERE job_id = ?", (job_id,))]  # fmt: skip
            blobs = {key for (key,) in self._db.execute(
                "SELECT blob FROM job_inputs WHERE job_id = ?", (job_id,))}  # fmt: skip
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))  # cascades
            # Unreferenced blobs go under the write lock (see begin_job); a file that
            # cannot be removed stays, and costs only its space.
            freed = 0
            for key in blobs:
                used = self._db.execute("SELECT 1 FROM job_inputs WHERE blob = ?", (key,))
                if used.fetchone() is None:
                    freed += _quietly_remove(self.root / key)
            folder = Path(row["folder"]) if row["owns_folder"] and row["folder"] else None
            return files, folder, freed

        files, folder, freed = self._write(delete)
        freed += sum(_quietly_remove(path) for path in files)
        if folder is not None:
            freed += _remove_tree(folder)
        return freed

    # --- reading --------------------------------------------------------------------

    def list_jobs(
        self,
        limit: int = 50,
        search: str | None = None,
        status: str | None = None,
        model: str | None = None,
        since: datetime | float | None = None,
        offset: int = 0,
    ) -> list[JobRecord]:
        """Newest first. ``search``: text the prompt contains (any case, for ASCII
        letters); ``since``: created at or after (a datetime or Unix seconds)."""
        where, args = [], []
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("prompt LIKE ? ESCAPE '\\'")
            args.append(f"%{escaped}%")
        if status:
            where.append("status = ?")
            args.append(status)
        if model:
            where.append("model = ?")
            args.append(model)
        if since is not None:
            where.append("created >= ?")
            seconds = since.timestamp() if isinstance(since, datetime) else float(since)
            args.append(seconds - 5e-7)  # a record's own datetime finds the record
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT * FROM jobs {clause} ORDER BY created DESC, id LIMIT ? OFFSET ?"
        return self._records(query, [*args, limit, offset])

    def get_job(self, job_id: str) -> JobRecord | None:
        found = self._records("SELECT * FROM jobs WHERE id = ?", [job_id])
        return found[0] if found else None

    def match_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids starting with ``prefix`` (for ids typed short), newest first."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

        def query() -> list[str]:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE id LIKE ? ESCAPE '\\' ORDER BY created DESC LIMIT ?",
                (f"{escaped}%", limit),
            )
            return [job_id for (job_id,) in rows]

        return self._read(query)

    def models(self) -> list[str]:
        """Every model a recorded job used, sorted (the History panel's filter)."""
        rows = self._read(
            lambda: self._db.execute(
                "SELECT DISTINCT model FROM jobs WHERE model IS NOT NULL ORDER BY model"
            ).fetchall()
        )
        return [model for (model,) in rows]  # fmt: skip

    def space_of(self, job_id: str) -> int:
        """The bytes ``delete_job`` would free now: the job's images (its folder, when
        its own) and the stored inputs no other job uses. It reads the disk."""

        def query() -> tuple[list[str], list[str], Any]:
            files = [p for (p,) in self._db.execute(
                "SELECT path FROM job_files WHERE job_id = ?", (job_id,))]  # fmt: skip
            only = [key for (key,) in self._db.execute(
                "SELECT blob FROM job_inputs WHERE job_id = ? AND blob NOT IN"
                " (SELECT blob FROM job_inputs WHERE job_id != ?)", (job_id, job_id))]  # fmt: skip
            row = self._db.execute(
                "SELECT folder, owns_folder FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            return files, only, row

        files, only, row = self._read(query)
        paths = {Path(p) for p in files} | {self.root / key for key in set(only)}
        if row is not None and row["owns_folder"] and row["folder"]:
            folder = Path(row["folder"])
            paths |= set(folder.rglob("*")) if folder.is_dir() else set()
        return sum(_freed_by(path) for path in paths)

    def count(self) -> int:
        return int(self._read(lambda: self._db.execute("SELECT count(*) FROM jobs").fetchone()[0]))

    # --- inside ---------------------------------------------------------------------

    def _records(self, query: str, args: Sequence[Any]) -> list[JobRecord]:
        def read() -> tuple[list[sqlite3.Row], list[Any], list[Any]]:
            self._db.execute("BEGIN")  # one snapshot for the three queries
            try:
                jobs = self._db.execute(query, args).fetchall()
                # The same query again as a subquery: no limit on the number of ids.
                chosen = f"job_id IN (SELECT id FROM ({query}))"
                inputs = self._db.execute(
                    f"SELECT * FROM job_inputs WHERE {chosen} ORDER BY role, position", args
                ).fetchall()
                files = self._db.execute(
                    f"SELECT * FROM job_files WHERE {chosen} ORDER BY id", args
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
            return jobs, inputs, files

        jobs, inputs, files = self._read(read)
        by_job: dict[str, tuple[list[Any], list[Any]]] = {row["id"]: ([], []) for row in jobs}
        for row in inputs:
            by_job[row["job_id"]][0].append(row)
        for row in files:
            by_job[row["job_id"]][1].append(row)
        return [self._record(row, *by_job[row["id"]]) for row in jobs]

    def _record(self, row: sqlite3.Row, inputs: list[Any], files: list[Any]) -> JobRecord:
        def stored(item: Any) -> StoredInput:
            path = self.root / item["blob"]
            digest = Path(item["blob"]).stem
            return StoredInput(item["position"], path, item["name"], digest, not path.is_file())

        folder = Path(row["folder"]) if row["folder"] else None
        region = json.loads(row["region"]) if row["region"] else None
        return JobRecord(
            id=row["id"],
            created=datetime.fromtimestamp(row["created"]).astimezone(),
            finished=datetime.fromtimestamp(row["finished"]).astimezone()
            if row["finished"] is not None
            else None,
            status=row["status"],
            program=row["program"],
            provider=row["provider"],
            base_url=row["base_url"],
            api_path=row["api_path"],
            model=row["model"],
            prompt=row["prompt"],
            params=json.loads(row["params"]),
            region=tuple(region) if region else None,
            paste_back=json.loads(row["paste_back"]) if row["paste_back"] else None,
            options=json.loads(row["options"]),
            usage=json.loads(row["usage"]) if row["usage"] else None,
            request_ids=tuple(json.loads(row["request_ids"])),
            folder=folder,
            owns_folder=bool(row["owns_folder"]),
            pid=row["pid"],
            host=row["host"],
            inputs=tuple(stored(i) for i in inputs if i["role"] == "image"),
            mask=next((stored(i) for i in inputs if i["role"] == "mask"), None),
            files=tuple(_stored_file(f) for f in files),
            folder_missing=folder is not None and not folder.is_dir(),
        )

    def _read(self, read: Callable[[], T]) -> T:
        with self._lock:
            try:
                return read()
            except sqlite3.Error as exc:
                raise HistoryError(explain(self.path, exc)) from exc

    def _write(self, write: Callable[[], T]) -> T:
        """One short write transaction; BEGIN IMMEDIATE takes the write lock first (waiting
        up to the busy timeout), so it never fails half-way for lack of it."""
        with self._lock:
            try:
                with self._transaction():
                    return write()
            except HistoryError:
                raise
            except (sqlite3.Error, OSError) as exc:
                raise HistoryError(explain(self.path, exc)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _stored_file(row: Any) -> StoredFile:
    path = Path(row["path"])
    return StoredFile(
        row["variant"], row["kind"], path, row["partial_index"], row["drift"], not path.is_file()
    )


# --- helpers ---------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _freed_by(path: Path) -> int:
    """What removing ``path`` frees: its size, 0 for a folder, a missing file or one
    another hard link keeps."""
    try:
        info = path.lstat()
    except OSError:
        return 0
    return info.st_size if path.is_file() and info.st_nlink <= 1 else 0


def _quietly_remove(path: Path) -> int:
    try:
        return remove_file(path)
    except OSError:
        return 0


def _remove_tree(folder: Path) -> int:
    """Remove a job's own folder and what is in it; the bytes freed. What cannot be
    removed stays."""
    freed = 0
    if not folder.is_dir():
        return 0
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.rmdir()
        else:
            freed += _quietly_remove(path)
    with contextlib.suppress(OSError):
        folder.rmdir()
    return freed
