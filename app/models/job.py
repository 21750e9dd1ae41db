"""What one press of Generate is: a ``Job`` with a stable id, the ``JobSource`` it retouches,
the request as sent, and a ``VariantResult`` per variant. JobsModel (app.models.jobs) fills
them in as images arrive; the gallery, the compare view and the history render them.
"""

from __future__ import annotations

import asyncio
import html
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from app.core.errors import UserError
from app.core.events import Usage
from app.core.original import Space
from app.core.providers import Provider
from app.core.request import EditRequest


class VariantState(StrEnum):
    WAITING = "waiting"  # nothing arrived yet
    STREAMING = "streaming"  # partial images arrived
    FINAL = "final"  # the final image arrived
    FAILED = "failed"  # no final image will come
    CANCELLED = "cancelled"  # the designer stopped it before the final image


class JobStatus(StrEnum):
    SENDING = "sending"
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # a job of the history whose program died while it ran


@dataclass(frozen=True)
class Measure:
    """A final result against the original: the share of pixels outside the mask that
    changed visibly (None without a mask), and whether it had to be scaled to fit."""

    share: float | None
    scaled: bool
    source_size: tuple[int, int]


@dataclass
class VariantResult:
    """One variant of a job: every file it wrote, where it stands, and its measure."""

    variant: int
    state: VariantState = VariantState.WAITING
    partials: list[Path] = field(default_factory=list)
    final: Path | None = None
    shown_partial: int = 0  # the partial index on display while streaming
    discarded: bool = False
    error: str | None = None
    drift: Measure | None = None

    @property
    def is_final(self) -> bool:
        return self.final is not None

    @property
    def file(self) -> Path | None:
        """The image to save, copy or use: the final, or else the newest partial (a
        paid-for image on disk even when the job failed or was cancelled)."""
        return self.final or (self.partials[-1] if self.partials else None)


@dataclass(frozen=True)
class JobSource:
    """What the job retouches: the original picture and the mask, both copied into the job
    folder when it starts (so moving or editing the originals later changes nothing), and
    the region of the original that was sent (None: the whole picture). The other input
    images (references for the model) are copied as well.

    ``original`` is what the canvas shows (upright 8-bit sRGB: the photo, or its working
    copy); ``photo`` is the designer's own file when ``original`` is its working copy, the
    file results are kept in the space of (app.core.original). ``sent`` and ``sent_mask``
    are the smaller copies sent for a photo over the API's limits (app.core.sending);
    None when the original and mask were sent as they are. ``space`` describes the file
    kept results take the space of, read from its header when the job starts."""

    original: Path
    mask: Path | None = None
    region: tuple[int, int, int, int] | None = None  # x, y, width, height
    references: tuple[Path, ...] = ()  # the other input images, copied too
    photo: Path | None = None
    sent: Path | None = None
    sent_mask: Path | None = None
    space: Space | None = None  # the kept file's profile, depth and mode (read at start)
    painted: Path | None = None  # the painting exactly, soft edges too (greyscale, white = edit)

    @property
    def kept_space(self) -> Path:
        """The file whose colour space, depth and metadata kept results take."""
        return self.photo or self.original


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Job:
    """``id`` is unique across runs and machines (it names the job's folder); ``number``
    counts the jobs of this session for people (#1, #2...)."""

    id: str
    number: int
    request: EditRequest
    provider: Provider
    folder: Path
    source: JobSource
    split_streams: bool = True
    status: JobStatus = JobStatus.SENDING
    error: UserError | None = None
    usage: Usage = field(default_factory=Usage)
    results: dict[int, VariantResult] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # every image written, in arrival order
    request_ids: list[str] = field(default_factory=list)  # the server's, as images arrived
    task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        for variant in range(self.variants):
            self.results.setdefault(variant, VariantResult(variant))

    @property
    def variants(self) -> int:
        return int(self.request.get("n", 1))

    @property
    def running(self) -> bool:
        return self.status in (JobStatus.SENDING, JobStatus.STREAMING)

    def result(self, variant: int) -> VariantResult:
        """The variant's result (made on first use: a server may answer more than asked)."""
        return self.results.setdefault(variant, VariantResult(variant))

    def request_again(self) -> EditRequest:
        """The request as sent, made from the job's own copies of its files."""
        source = self.source
        images = (source.sent or source.original, *source.references)
        if len(images) != len(self.request.images):  # the copies are not made yet
            return self.request
        mask = source.sent_mask or source.mask
        return replace(self.request, images=images, mask=mask)

    def kept(self) -> list[VariantResult]:
        """The variants still in the gallery, in order."""
        return [r for _, r in sorted(self.results.items()) if not r.discarded]

    def label(self, variant: int) -> str:
        return f"#{self.number} variant {variant + 1}"

    @property
    def prompt(self) -> str:
        return str(self.request.values.get("prompt", ""))

    def summary(self, limit: int = 90) -> str:
        """The prompt, cut to ``limit`` characters."""
        prompt = self.prompt
        return prompt if len(prompt) < limit else prompt[: limit - 3] + "…"

    def details(self) -> str:
        """Everything that was asked (a tooltip): the prompt, the parameters, the provider."""
        values = "\n".join(f"{k}: {v}" for k, v in self.request.values.items() if k != "prompt")
        return f"{html.escape(self.prompt)}\n\n{values}\nprovider: {self.provider.name}"

    def card(self) -> dict[str, object]:
        """job.json: what a later session (the history) needs to show and redo the job."""
        return {
            "id": self.id,
            "number": self.number,
            "provider": self.provider.name,
            "values": dict(self.request.values),
            "images": [str(p) for p in self.request.images],
            "mask": str(self.request.mask) if self.request.mask else None,
            "source": {
                "original": self.source.original.name,
                "mask": self.source.mask.name if self.source.mask else None,
                "region": list(self.source.region) if self.source.region else None,
                "references": [p.name for p in self.source.references],
                "photo": self.source.photo.name if self.source.photo else None,
                "sent": self.source.sent.name if self.source.sent else None,
                "sent_mask": self.source.sent_mask.name if self.source.sent_mask else None,
                "painted": self.source.painted.name if self.source.painted else None,
            },
            "status": self.status.value,
            "usage": self.usage.to_json(),
            "results": {
                str(v): {
                    "state": r.state.value,
                    "final": r.final.name if r.final else None,
                    "partials": [p.name for p in r.partials],
                    "discarded": r.discarded,
                }
                for v, r in sorted(self.results.items())
            },
        }
