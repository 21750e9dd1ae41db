"""The one error a person sees, from the CLI (``retouch edit``) and from the editor.

A ``UserError`` is what is left of a failure once it has been explained: a message that
says what happened and what to do, its kind (which decides the CLI's exit code and
whether the editor offers Retry or Settings…), and the server's details when a server
said something. ``app.client.errors.user_error`` makes one from any exception.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from enum import StrEnum
from typing import Self


class ErrorKind(StrEnum):
    """What kind of thing went wrong, in the user's terms. The values are the ``kind``
    strings of the CLI's JSON ``error`` records."""

    API = "api"
    """The server understood the request and refused it or failed: an HTTP error status
    or an error event mid-stream (bad parameter, moderation, overload, rate limit)."""

    AUTH = "auth"
    """The server refused the API key (401 or 403): missing, wrong, or without access.
    Retrying cannot help; the key or the provider has to change first."""

    NETWORK = "network"
    """No usable answer came back: the connection failed, timed out or dropped, after
    the retries. Trying again later may work."""

    PROTOCOL = "protocol"
    """The server answered, but with something that cannot be used: an HTML page, bad
    JSON, a broken or oversized image. Usually the base URL or path is wrong."""

    INPUT = "input"
    """The request could not be sent: an input file went missing, became unreadable or
    changed while it was being sent, or the base URL is not a web address."""

    DISK = "disk"
    """A file could not be written (a result, a saved copy, a mask): the disk is full, or
    the folder went away or cannot be written."""

    FILE = "file"
    """A picture or mask cannot be read: not an image, truncated, corrupt or too large.
    The message names the file."""

    INTERNAL = "internal"
    """A bug in Retouch Studio: nothing the user did or can fix by trying again."""

    @property
    def retryable(self) -> bool:
        """Whether trying the same thing again can help, for an error of this kind with
        no more to go on (an API error may still be final, e.g. moderation)."""
        return self not in _FINAL_KINDS


_FINAL_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.FILE, ErrorKind.INTERNAL})

API_ERROR_HINTS = {
    "invalid_input_fidelity_model": "this model does not take input fidelity (gpt-image-2 "
    "refuses it): leave Input fidelity unset",
    "invalid_mask_image_format": "the mask must be a PNG with an alpha channel: export it "
    "again from the editor (Mask ▸ Save mask)",
    "unsupported_file_mimetype": "send PNG, JPEG or WebP images",
    "moderation_blocked": "the request was refused by moderation: change the prompt or "
    "the images; sending it again as it is will be refused again",
}
"""What to do about the API error codes seen in practice (../shared/PROTOCOL.md, Errors),
added to the server's own message."""


@dataclass(frozen=True)
class UserError:
    """What the user is told: one line to show (``message``: what happened and what to
    do, never an API key), the ``kind``, the server's ``status``, ``code``, ``type``,
    ``param`` and ``request_id`` when it answered, and what can help: trying again
    (``retryable``) or fixing the provider's settings (``needs_settings``).

    ``variant`` (an index from 0) is set when only that variant failed and the rest of
    the job goes on; None when the whole job or command ended with this error.

    Everything after ``kind`` is keyword-only. A ``kind`` given as a string is turned into
    its ErrorKind (an unknown one is a ValueError)."""

    message: str
    kind: ErrorKind
    _: KW_ONLY
    status: int | None = None
    code: str | None = None
    type: str | None = None
    param: str | None = None
    request_id: str | None = None
    retryable: bool = True
    variant: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ErrorKind):
            object.__setattr__(self, "kind", ErrorKind(self.kind))

    def __str__(self) -> str:
        return self.message

    @classmethod
    def plain(
        cls,
        message: str,
        kind: ErrorKind | str = ErrorKind.INTERNAL,
        *,
        retryable: bool | None = None,
    ) -> Self:
        """An error with no server details; ``retryable`` defaults to the kind's."""
        kind = ErrorKind(kind)
        return cls(message, kind, retryable=kind.retryable if retryable is None else retryable)

    @property
    def needs_settings(self) -> bool:
        """True when the API key or the provider must change before anything can work."""
        return self.kind is ErrorKind.AUTH

    def for_variant(self, variant: int | None) -> Self:
        """This error, as the failure of one variant only (index from 0); None: of all."""
        return replace(self, variant=variant)
