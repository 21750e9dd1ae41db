"""What can go wrong talking to an image-edit server. Every error's ``str()`` is one line a
user can read; none ever contains the API key."""

from __future__ import annotations

from http import HTTPStatus
from typing import Self

_MAX_MESSAGE = 600


class ClientError(Exception):
    """Base of the client's errors. ``variant`` is set when the error belongs to one of
    several parallel variant requests: the index from 0, as in the events (messages count
    variants from 1, as people do)."""

    variant: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def retext(self, text: str) -> Self:
        """A copy of this error with another message (same type and attributes)."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.args = (one_line(text),)
        return clone


class ApiError(ClientError):
    """The server answered with an error: an HTTP error status, or an error event in the
    middle of a stream (``status`` is None then)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        note: str = "",
    ) -> None:
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.message = one_line(message)
        self.request_id = request_id
        super().__init__(self._describe(note))

    def _describe(self, note: str) -> str:
        head = status_line(self.status) if self.status else "the server reported an error"
        kind = "/".join(dict.fromkeys(x for x in (self.type, self.code) if x))
        details = [
            kind,
            f"param {self.param}" if self.param else "",
            f"request id {self.request_id}" if self.request_id else "",
        ]
        listed = ", ".join(d for d in details if d)
        text = f"{head}: {self.message}"
        if listed:
            text += f" ({listed})"
        return f"{text}; {note}" if note else text


class NetworkError(ClientError):
    """No usable answer: the connection failed, timed out or dropped (after retries)."""


class ProtocolError(ClientError):
    """A 2xx answer that cannot be used: HTML, bad JSON, bad base64, an image that is
    not one, too large, or a response over the size cap."""


class InputError(ClientError):
    """The request cannot be sent: an input file is missing, unreadable, not an image or
    changed while it was being sent, or the base URL is not a web address."""


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"
