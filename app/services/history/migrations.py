"""The history's schema, as a list of migrations: ``MIGRATIONS[k]`` takes a database from
version k to k + 1 (``PRAGMA user_version``). Version 1 is the first schema. A later change
appends a step; a step already released is never edited.

Each step runs inside the transaction that also sets ``user_version``, so a crash during an
upgrade leaves the database at its old version (SQLite's DDL is transactional). Steps use
``execute``, never ``executescript``, which would commit on its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

Migration = Callable[[sqlite3.Connection], None]

_VERSION_1 = (
    # One row per job. Times are Unix seconds (UTC). JSON columns hold what was sent or
    # reported, as it was: params (every request field as sent, prompt and model included),
    # region [x, y, width, height] or NULL, paste_back settings or NULL, options (how it
    # was sent: split streams, image[]), usage, request_ids. Never an API key.
    """CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        finished REAL,
        status TEXT NOT NULL
            CHECK (status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')),
        program TEXT NOT NULL,
        provider TEXT NOT NULL DEFAULT '',
        base_url TEXT,
        api_path TEXT,
        model TEXT,
        prompt TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        region TEXT,
        paste_back TEXT,
        options TEXT NOT NULL DEFAULT '{}',
        usage TEXT,
        request_ids TEXT NOT NULL DEFAULT '[]',
        folder TEXT,
        owns_folder INTEGER NOT NULL DEFAULT 0,
        pid INTEGER,
        host TEXT
    )""",
    "CREATE INDEX jobs_by_created ON jobs (created DESC)",
    "CREATE INDEX jobs_running ON jobs (status) WHERE status = 'running'",
    # The inputs (role 'image', position from 0) and the mask (role 'mask', position 0):
    # ``blob`` is the stored copy's path inside the data folder (blobs/ab/<sha256>.ext).
    """CREATE TABLE job_inputs (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('image', 'mask')),
        position INTEGER NOT NULL,
        blob TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (job_id, role, position)
    )""",
    "CREATE INDEX job_inputs_by_blob ON job_inputs (blob)",
    # Every image the job wrote, in arrival order (id). ``path`` is absolute.
    """CREATE TABLE job_files (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        variant INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('final', 'partial', 'pasted')),
        partial_index INTEGER,
        path TEXT NOT NULL,
        drift REAL,
        UNIQUE (job_id, path)
    )""",
    "CREATE INDEX job_files_by_job ON job_files (job_id)",
)


def _version_1(db: sqlite3.Connection) -> None:
    for statement in _VERSION_1:
        db.execute(statement)


MIGRATIONS: Sequence[Migration] = (_version_1,)
