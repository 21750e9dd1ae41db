"""A recorded job (app.services.history) made a ``Job`` again: to show it in the gallery,
compare its results, reopen what it retouched or send it again.

What it retouched is found in its own folder (``job.json`` names the copies of the
photo, the mask and the other inputs the editor made when it started). When that folder
is gone, or the job came from ``retouch edit``, the history's own stored copies are used:
the images and mask as they were sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.events import Usage
from app.core.providers import Provider
from app.core.request import EditRequest
from app.models.job import Job, JobSource, JobStatus, VariantState
from app.services.history import JobRecord

_STATUS = {
    "done": JobStatus.DONE,
    "cancelled": JobStatus.CANCELLED,
    "failed": JobStatus.FAILED,
    "interrupted": JobStatus.INTERRUPTED,
    "running": JobStatus.STREAMING,
}


@dataclass(frozen=True)
class RecordedSource:
    """What a recorded job retouched, as found on disk: its ``JobSource``, the name the
    designer's photo had, and what could not be found (sentences for the status bar)."""

    source: JobSource
    name: str
    missing: list[str] = field(default_factory=list)


def find_source(record: JobRecord) -> RecordedSource:
    """In a worker (it reads ``job.json`` and checks files): the job's source files."""
    name = record.inputs[0].name if record.inputs else "photo"
    stored = _stored_source(record)
    card = _card(record.folder) if record.owns_folder and record.folder else None
    if card is None:
        missing = [] if record.program == "cli" else [_gone(record)]
        return RecordedSource(stored, name, missing)
    folder, source = record.folder, card.get("source") or {}
    assert folder is not None

    def at(key: str) -> Path | None:
        value = source.get(key)
        return folder / value if isinstance(value, str) and (folder / value).is_file() else None

    original = at("original")
    if original is None:
        return RecordedSource(stored, name, [_gone(record)])
    references = tuple(
        folder / n for n in source.get("references") or () if (folder / str(n)).is_file()
    )
    found = JobSource(
        original,
        at("mask"),
        tuple(source["region"]) if source.get("region") else None,
        references,
        photo=at("photo"),
        sent=at("sent"),
        sent_mask=at("sent_mask"),
        painted=at("painted"),
    )
    return RecordedSource(found, name)


def job_from_record(
    record: JobRecord, found: RecordedSource, provider: Provider, number: int
) -> Job:
    """The recorded job as a ``Job`` of this session: its request as sent (from the
    stored copies), its results as recorded, its folder."""
    source = found.source
    images = tuple(i.path for i in record.inputs) or (source.sent or source.original,)
    mask = record.mask.path if record.mask is not None else (source.sent_mask or source.mask)
    request = EditRequest(images, dict(record.params), mask)
    folder = record.folder or (record.results[0].parent if record.results else source.original)
    options = record.options
    job = Job(
        record.id,
        number,
        request,
        provider,
        folder,
        source,
        split_streams=bool(options.get("split_streams", True)),
        status=_STATUS.get(record.status, JobStatus.FAILED),
        usage=_usage(record.usage),
        request_ids=list(record.request_ids),
    )
    for stored in record.files:
        if stored.missing or stored.kind == "pasted":
            continue
        result = job.result(stored.variant)
        job.files.append(stored.path)
        if stored.kind == "final":
            result.final, result.state = stored.path, VariantState.FINAL
        else:
            result.partials.append(stored.path)
    ended = VariantState.CANCELLED if record.status == "cancelled" else VariantState.FAILED
    for result in job.results.values():
        if not result.is_final:
            result.state = ended
            result.error = _unfinished(record.status)
    return job


def provider_for(record: JobRecord, providers: list[Provider]) -> Provider:
    """The provider the job went to: the one set up with its name, else one at its
    address, else a provider made from the record (it may have no key: the job then says
    so when it is sent)."""
    for provider in providers:
        if provider.name == record.provider:
            return provider
    for provider in providers:
        if record.base_url and provider.base_url == record.base_url:
            return provider
    return Provider(
        id=f"history-{record.provider or 'unknown'}",
        name=record.provider or "unknown provider",
        kind="custom",
        base_url=record.base_url or "",
        path=record.api_path or "/v1/images/edits",
        force_image_array=bool(record.options.get("force_image_array", False)),
    )


def _stored_source(record: JobRecord) -> JobSource:
    first = record.inputs[0].path if record.inputs else Path(record.prompt or "missing")
    mask = record.mask.path if record.mask is not None else None
    return JobSource(first, mask, record.region, tuple(i.path for i in record.inputs[1:]))


def _card(folder: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _gone(record: JobRecord) -> str:
    return (
        f"The folder of this job ({record.folder}) is missing: the copies the history "
        "kept (the photo and mask as they were sent) are used."
    )


def _unfinished(status: str) -> str:
    if status == "interrupted":
        return "The program stopped before this image arrived."
    if status == "cancelled":
        return "Cancelled before the final image."
    return "No final image arrived."


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    try:
        return Usage.from_json(raw) or Usage()
    except (AttributeError, TypeError, ValueError):
        return Usage()
