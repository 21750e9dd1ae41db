"""Bookkeeping for the attempts behind one edit and the variants fanned out of it: the
``Progress`` of an attempt (what it has delivered, and how many images it may deliver at
most: ``image_caps``), the ``AttemptFailed`` signal an attempt
raises when the retry policy may try again, ``retry_delay`` (the wait before the next
attempt, or the user's error when there is none), and, for parallel variants, the
``Finished`` queue marker, ``first_failure`` (the error reported once all are done) and
``is_int`` (whether ``n`` asks for a whole number of images).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.client.answers import ImageEvent
from app.client.errors import ClientError, NetworkError
from app.client.retry import RetryPolicy
from app.core.events import COMPLETED_TYPE, PARTIAL_TYPE, PartialImage
from app.core.request import EditRequest
from app.core.schema import Schema

_MAX_PARTIALS = 3  # the API's most, should the schema not say


def image_caps(request: EditRequest, schema: Schema) -> tuple[int, int]:
    """The most partial and final images one request may deliver: ``partial_images`` per
    image and ``n`` images (PROTOCOL.md). A server sending more is hostile or broken: the
    rest is not kept, so it cannot fill the disk. When ``partial_images`` is unset, the
    API's default is none, but a vendor's default may differ: up to the most the API
    allows (3 per image) are kept then."""
    count = request.get("n", 1)
    finals = count if is_int(count) and count >= 1 else 1
    partials = request.get("partial_images")
    if not is_int(partials) or partials < 0:
        spec = schema.field("partial_images") if schema.has_field("partial_images") else None
        partials = spec.maximum if spec is not None and spec.maximum else _MAX_PARTIALS
    return partials * finals, finals


@dataclass
class Progress:
    """What an attempt has delivered, in any order (the final image may come before the
    partials), and the most it may deliver (None: no cap)."""

    partials: int = 0
    finals: int = 0
    max_partials: int | None = None
    max_finals: int | None = None
    partials_unset: bool = False  # max_partials is image_caps' guess, not partial_images
    ignored: dict[str, int] = field(default_factory=dict)  # images over a cap, by type

    @property
    def delivered(self) -> int:
        return self.partials + self.finals

    @property
    def full(self) -> bool:
        """Every image the request may deliver has come: anything more is ignored."""
        return (
            self.max_partials is not None
            and self.max_finals is not None
            and (self.partials >= self.max_partials and self.finals >= self.max_finals)
        )

    def has_room(self, kind: str) -> bool:
        """Whether an image event of this ``type`` is still within its cap."""
        if kind == PARTIAL_TYPE:
            return self.max_partials is None or self.partials < self.max_partials
        if kind == COMPLETED_TYPE:
            return self.max_finals is None or self.finals < self.max_finals
        return True

    def ignore(self, kind: str) -> bool:
        """Count an image over its cap; True for the first of its type (warn once)."""
        self.ignored[kind] = self.ignored.get(kind, 0) + 1
        return self.ignored[kind] == 1

    def count(self, event: ImageEvent) -> None:
        if isinstance(event, PartialImage):
            self.partials += 1
        else:
            self.finals += 1

    def describe(self) -> str:
        def plural(count: int, what: str) -> str:
            return f"{count} {what}" + ("s" if count != 1 else "")

        parts = [
            plural(self.partials, "partial image") if self.partials else "",
            plural(self.finals, "final image") if self.finals else "",
        ]
        return " and ".join(p for p in parts if p) or "nothing"


class Finished:
    """Put on the fan-out queue when a variant's task ends."""


class AttemptFailed(Exception):
    """An attempt failed in a way the retry policy may retry; ``error`` is what the user
    sees when it is not."""

    def __init__(
        self,
        error: ClientError,
        reason: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.status = status
        self.headers: Mapping[str, str] = headers or {}
        self.error_type = error_type


def retry_delay(
    policy: RetryPolicy,
    failure: AttemptFailed,
    retries: int,
    progress: Progress,
    read_timeout: float,
) -> float:
    """The wait before the next attempt; raises the user's error when there is none."""
    if progress.delivered:
        # The server produced (and bills) this edit: never run it twice.
        if failure.reason == "idle timeout":  # its message says after what
            raise failure.error
        if failure.reason == "read timeout":
            what = f"the server went silent for {read_timeout:g} s"
        else:
            what = "the connection dropped"
        raise NetworkError(
            f"{what} after {progress.describe()} arrived; the rest of this edit is lost. Try again."
        )
    if failure.status is None:
        decision = policy.for_network_error(retries)
    else:
        decision = policy.for_status(retries, failure.status, failure.headers, failure.error_type)
    if decision.retry:
        return decision.delay
    notes = [decision.why_not] if decision.why_not else []
    if retries:
        notes.append(f"gave up after {retries + 1} attempts")
    if not notes:
        raise failure.error
    raise failure.error.retext(f"{failure.error}; {'; '.join(notes)}")


def first_failure(failures: list[tuple[int, BaseException]], count: int) -> BaseException:
    variant, first = failures[0]
    if not isinstance(first, ClientError):
        return first
    others = len(failures) - 1
    tail = f" ({others} other variant{'s' if others != 1 else ''} failed too)" if others else ""
    # Counted from 1, as the gallery's tiles are; ``error.variant`` stays the index.
    error = first.retext(f"variant {variant + 1} of {count} failed{tail}: {first}")
    error.variant = variant
    return error


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
