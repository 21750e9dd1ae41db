"""Content-addressed copies of inputs and masks: ``blobs/ab/abcdef….png`` inside the data
folder, named by the SHA-256 of their bytes, so identical inputs are stored once and a
moved or replaced original does not break a record.

A copy is a real copy, never a hard link: a hard link shares the original's bytes, and a
program that saves over the original in place (``open(path, "wb")``: GIMP's exports,
Python's ``Path.write_bytes``) would change the stored copy with it, breaking the record
and its content address. tests/integration/test_cli_history.py edits an original in place
after a job and re-runs the job from its copy. Identical inputs are still stored once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def blob_key(sha256: str, source: Path) -> str:
    """The copy's path relative to the data folder (what the database keeps)."""
    suffix = source.suffix.lower() if len(source.suffix) <= 6 else ""
    return f"blobs/{sha256[:2]}/{sha256}{suffix}"


def store_blob(root: Path, key: str, source: Path) -> Path:
    """The copy of ``source`` at ``root / key``; nothing is written when it exists."""
    target = root / key
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def remove_file(path: Path) -> int:
    """Remove a file; the bytes this frees (0 while another hard link keeps them)."""
    try:
        info = path.stat()
        path.unlink()
    except FileNotFoundError:
        return 0
    return info.st_size if info.st_nlink <= 1 else 0
