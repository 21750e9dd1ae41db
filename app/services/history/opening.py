"""Opening the history's database: WAL mode, the busy timeout, the schema brought to the
current version by the migrations, and a file that cannot be used (not a database, corrupt,
or of a newer version) recognised so that ``HistoryStore.open`` can move it aside."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from app.services.history.migrations import Migration

BUSY_TIMEOUT_S = 15.0
_UNUSABLE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


class Unusable(Exception):
    """The database file cannot be used as it is (moved aside by ``open``)."""

    def __init__(self, reason: str, tag: str) -> None:
        super().__init__(reason)
        self.reason, self.tag = reason, tag


def connect(path: Path, migrations: Sequence[Migration]) -> sqlite3.Connection:
    """A connection in WAL mode, the schema at ``len(migrations)``; Unusable when the file
    cannot be used as it is.

    Several processes opening a new file at once race to switch it to WAL, and SQLite
    answers the loser "database is locked" at once, without its busy handler: that is
    tried again, up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return _connect_once(path, migrations)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + random.random() * 0.04)


def _connect_once(path: Path, migrations: Sequence[Migration]) -> sqlite3.Connection:
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode = WAL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) in _UNUSABLE_CODES:
                raise Unusable(f"could not be read ({exc})", "corrupt") from exc
            raise
        if check != "ok":
            raise Unusable(f"is damaged ({check})", "corrupt")
        if version > len(migrations):
            raise Unusable(
                f"was written by a newer Retouch Studio (schema version {version}; this one "
                f"knows up to {len(migrations)})",
                "newer",
            )
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at each checkpoint
        if version < len(migrations):
            migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    return db


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated meanwhile.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for step in migrations[version:]:
            step(db)
        db.execute(f"PRAGMA user_version = {len(migrations):d}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def move_aside(path: Path, tag: str) -> Path:
    """Rename the database (and its WAL and shared-memory files) out of the way."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{tag}-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.{tag}-{stamp}-{number}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def explain(path: Path, exc: BaseException) -> str:
    text = str(exc)
    if "disk is full" in text or getattr(exc, "errno", None) == 28:  # ENOSPC
        advice = "the disk is full; free some space (the images themselves are saved)"
    elif "locked" in text or "busy" in text:
        advice = f"another program kept it busy ({text}); try again"
    else:
        advice = f"{text}; check that the folder can be written"
    return f"The history {path} could not be updated: {advice}."
