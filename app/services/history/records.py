"""What the history store hands out: plain frozen dataclasses, read in one go.

Whether a file is still on disk (``missing``) is checked when the record is read, so a
reader on the UI thread never touches the disk for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

STATUSES = ("running", "done", "cancelled", "failed", "interrupted")
"""A job's status: ``running`` until it ends; ``interrupted`` when its process died first."""

FILE_KINDS = ("final", "partial", "pasted")
"""``final`` and ``partial`` images as they arrived; ``pasted``: a final pasted onto the
original (``retouch edit --paste-back``)."""


@dataclass(frozen=True)
class StoredInput:
    """An input image or the mask: the store's own copy (``path``, named by its SHA-256)
    and the name the designer's file had."""

    position: int
    path: Path
    name: str
    sha256: str
    missing: bool = False


@dataclass(frozen=True)
class StoredFile:
    """An image the job wrote: ``variant`` and ``partial_index`` count from 0, as the API
    does. ``drift``: the share of pixels outside the mask that changed (finals only)."""

    variant: int
    kind: str
    path: Path
    partial_index: int | None = None
    drift: float | None = None
    missing: bool = False


@dataclass(frozen=True)
class JobRecord:
    """One job as recorded. ``params`` are the request fields as sent (prompt and model
    included); ``options`` how they were sent (``split_streams``, ``force_image_array``);
    ``program`` is ``editor`` or ``cli``; ``owns_folder``: the folder is the job's own
    (the editor's job folders), not a shared output folder."""

    id: str
    created: datetime
    finished: datetime | None
    status: str
    program: str
    provider: str
    base_url: str | None
    api_path: str | None
    model: str | None
    prompt: str
    params: Mapping[str, Any]
    region: tuple[int, int, int, int] | None
    paste_back: Mapping[str, Any] | None
    options: Mapping[str, Any]
    usage: Mapping[str, Any] | None
    request_ids: tuple[str, ...]
    folder: Path | None
    owns_folder: bool
    pid: int | None
    host: str | None
    inputs: tuple[StoredInput, ...] = ()
    mask: StoredInput | None = None
    files: tuple[StoredFile, ...] = ()
    folder_missing: bool = False

    @property
    def results(self) -> tuple[Path, ...]:
        """The final images, in arrival order."""
        return tuple(f.path for f in self.files if f.kind == "final")

    @property
    def partials(self) -> tuple[Path, ...]:
        return tuple(f.path for f in self.files if f.kind == "partial")

    @property
    def files_missing(self) -> bool:
        """Some of what the job wrote or was given is no longer on disk."""
        stored = [*self.inputs, *([self.mask] if self.mask else [])]
        return any(f.missing for f in self.files) or any(i.missing for i in stored)

    def to_json(self) -> dict[str, Any]:
        """Everything, as ``retouch history list/show --json`` prints it: absolute paths,
        ISO 8601 times."""
        return {
            "id": self.id,
            "created": self.created.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
            "status": self.status,
            "program": self.program,
            "prompt": self.prompt,
            "model": self.model,
            "provider": self.provider,
            "base_url": self.base_url,
            "path": self.api_path,
            "params": dict(self.params),
            "options": dict(self.options),
            "region": list(self.region) if self.region else None,
            "paste_back": dict(self.paste_back) if self.paste_back is not None else None,
            "inputs": [str(i.path) for i in self.inputs],
            "input_names": [i.name for i in self.inputs],
            "mask": str(self.mask.path) if self.mask else None,
            "results": [str(p) for p in self.results],
            "partials": [str(p) for p in self.partials],
            "files": [
                {
                    "path": str(f.path),
                    "variant": f.variant,
                    "kind": f.kind,
                    "partial_index": f.partial_index,
                    "drift": f.drift,
                    "missing": f.missing,
                }
                for f in self.files
            ],
            "files_missing": self.files_missing,
            "usage": dict(self.usage) if self.usage is not None else None,
            "request_ids": list(self.request_ids),
            "folder": str(self.folder) if self.folder else None,
            "pid": self.pid,
            "host": self.host,
        }
