"""The history: every job of the editor and of ``retouch edit``, kept in one SQLite file.

The store (``HistoryStore``) is plain Python on the stdlib ``sqlite3`` module: no Qt, no
network, so the editor (in its worker threads) and the command line share it. Records are
frozen dataclasses (``records.py``); inputs and masks are kept as content-addressed copies
beside the database (``blobs.py``); the schema has a version and a list of migrations from
the start (``migrations.py``).

Typical use::

    store = HistoryStore.open(default_path())   # a broken file is moved aside: store.notice
    store.mark_interrupted()                    # jobs of processes that died
    store.begin_job(job_id, program="cli", inputs=[photo], mask=mask, params=values, ...)
    store.add_file(job_id, 0, "partial", path, partial_index=0)
    store.finish_job(job_id, "done", usage={...}, request_ids=["req_1"])
    store.list_jobs(limit=50, search="spoon")

Every failure of the store is a ``HistoryError`` whose message names the database file and
says what to do; a job must go on without its record (the result files are the priority).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

from app.services.history.migrations import MIGRATIONS, Migration
from app.services.history.records import (
    FILE_KINDS,
    STATUSES,
    JobRecord,
    StoredFile,
    StoredInput,
)
from app.services.history.store import HistoryError, HistoryStore

FILE_NAME = "history.sqlite3"


def default_path() -> Path:
    """Where the history lives: ``$RETOUCH_HOME/history.sqlite3`` (tests, portable use, as
    app.gui.home_paths puts everything there), else the platform's data folder for
    Retouch Studio (``~/.local/share/retouch-studio`` on Linux)."""
    home = os.environ.get("RETOUCH_HOME")
    if home:
        return Path(home) / FILE_NAME
    return Path(user_data_dir("retouch-studio", appauthor=False)) / FILE_NAME


__all__ = [
    "FILE_KINDS",
    "FILE_NAME",
    "MIGRATIONS",
    "STATUSES",
    "HistoryError",
    "HistoryStore",
    "JobRecord",
    "Migration",
    "StoredFile",
    "StoredInput",
    "default_path",
]
