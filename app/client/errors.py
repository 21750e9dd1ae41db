"""What can go wrong talking to an image-edit server. Every error's ``str()`` is one line a
user can read; none ever contains the API key. ``user_error`` turns any exception (these,
a file or disk error, a bug) into the UserError the CLI and the editor show."""

from __future__ import annotations

from http import HTTPStatus
from typing import Self

from app.core.errors import API_ERROR_HINTS, ErrorKind, UserError
from app.core.imageio import ImageFileError

_MAX_MESSAGE = 600
AUTH_STATUSES = frozenset({401, 403})
KEY_HINT = "check the provider's API key in Settings ▸ Providers (Ctrl+,), then generate again"
SAVE_HINT = "free some disk space or check that the folder can be written, then retry"


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


def user_error(
    exc: BaseException, *, save_hint: str | None = None, key_hint: str | None = None
) -> UserError:
    """What to tell the user about ``exc``, whatever it is.

    ``save_hint`` says what to do when a result cannot be saved (an OSError), e.g.
    "free some disk space or choose another --out" (default: SAVE_HINT); ``key_hint`` what
    to do when the server refuses the key, 401 or 403 (default: KEY_HINT, the editor's
    Settings). The result's ``variant`` is None: a caller that goes on with the other
    variants says which one failed with ``for_variant``."""
    if isinstance(exc, ClientError):
        return _client_error(exc, key_hint or KEY_HINT)
    if isinstance(exc, ImageFileError):  # its message names the file and says why
        return UserError(one_line(str(exc)), ErrorKind.FILE, code=exc.code, retryable=False)
    if isinstance(exc, ConnectionError | TimeoutError):  # OSErrors, but not the disk's
        reason = exc.strerror or str(exc) or type(exc).__name__
        return UserError.plain(one_line(f"Network failure: {reason}."), ErrorKind.NETWORK)
    if isinstance(exc, OSError):
        what = str(exc.filename) if exc.filename else "A file"
        hint = _clause(save_hint or SAVE_HINT)
        text = f"{what} could not be written ({exc.strerror or exc}); {hint}."
        return UserError.plain(one_line(text), ErrorKind.DISK)
    text = f"Unexpected error: {type(exc).__name__}" + (f": {exc}" if str(exc) else "")
    return UserError.plain(one_line(text), ErrorKind.INTERNAL)


def _client_error(exc: ClientError, key_hint: str) -> UserError:
    # Only ApiError declares the server's details, but any client error may carry some
    # (a status, a request id); none is lost.
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    type_ = getattr(exc, "type", None)
    param = getattr(exc, "param", None)
    request_id = getattr(exc, "request_id", None)
    message = str(exc)
    if isinstance(exc, ApiError):
        if status in AUTH_STATUSES:
            # The same key is refused the same way every time: retrying cannot help,
            # the key or the provider has to change first.
            kind, retryable = ErrorKind.AUTH, False
            message = one_line(f"{message}; {_clause(key_hint)}.")
        else:
            kind, retryable = ErrorKind.API, type_ != "image_generation_user_error"
            hint = API_ERROR_HINTS.get(code or "")
            if hint and hint not in message:
                message = one_line(f"{message.rstrip('. ')}; {hint}.")
    elif isinstance(exc, NetworkError):
        kind, retryable = ErrorKind.NETWORK, True
    elif isinstance(exc, InputError):
        kind, retryable = ErrorKind.INPUT, True
    else:
        kind, retryable = ErrorKind.PROTOCOL, True
    return UserError(
        message,
        kind,
        status=status,
        code=code,
        type=type_,
        param=param,
        request_id=request_id,
        retryable=retryable,
    )


def _clause(hint: str) -> str:
    return hint.strip().rstrip(".")


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"
