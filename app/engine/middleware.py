"""ASGI middleware of the engine: a request id on every response (and a generic answer for
any failure), requests only from this machine's programs (Host and Origin), and bearer-token
auth."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import uuid
from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.engine.errors import EngineError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_PORT = re.compile(r":[0-9]{1,5}")
log = logging.getLogger(__name__)


class BearerAuth:
    """Refuses HTTP requests without ``Authorization: Bearer <token>`` (401, OpenAI shape),
    except on ``open_paths``. Without a token every request passes."""

    def __init__(
        self, app: ASGIApp, token: str | None, open_paths: Collection[str] = ("/health",)
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        error = self._problem(Headers(scope=scope).get("authorization"))
        if error is None:
            await self.app(scope, receive, send)
        else:
            await error.response()(scope, receive, send)

    def _problem(self, header: str | None) -> EngineError | None:
        if not header or not header.strip():
            return EngineError(
                401,
                "No API key was sent. This engine needs its token: send "
                "'Authorization: Bearer <token>' with the token retouch serve printed when it "
                "started (or the one it was given: RETOUCH_ENGINE_TOKEN, --token-file).",
                code="missing_api_key",
            )
        scheme, _, credential = header.strip().partition(" ")
        # compare_digest: the time taken must not tell how much of a guess was right.
        if scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), self.token or b""
        ):
            return None
        return EngineError(
            401,
            "Incorrect API key: it is not this engine's token. Use the token retouch serve "
            "printed when it started (or the one it was given: RETOUCH_ENGINE_TOKEN, "
            "--token-file).",
            code="invalid_api_key",
        )


class RequestId:
    """Adds ``x-request-id`` (as OpenAI does) so a client can quote it in logs, and keeps it
    in ``scope["state"]["request_id"]``. A failure that nothing else answered is logged here
    with its traceback and answered with a generic 500 naming the request id: the answer
    never carries the exception's text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{uuid.uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s (%s %s) failed", request_id, scope["method"], scope["path"])
            if not started:  # else the connection ends with the answer cut short
                await failure(request_id).response()(scope, receive, send_with_id)


def failure(request_id: str) -> EngineError:
    """What a client is told when the engine itself failed."""
    return EngineError(
        500,
        f"The local engine failed unexpectedly (request {request_id}); the details are in "
        "its log. Try again, and quote the request id if it keeps happening.",
        type="server_error",
        code="server_error",
    )


class LocalOnly:
    """Refuses (403) a request whose ``Host`` is not a loopback name (localhost, 127.0.0.1,
    [::1]) or the address the engine was bound to (DNS rebinding: a web page whose name
    resolves to 127.0.0.1 sends its own name), and any request that carries an ``Origin``
    other than the engine's own (a web page: browsers send it on cross-site requests). When
    the engine listens on every interface, any IP address is a right Host, never a name.
    No answer ever grants CORS."""

    def __init__(self, app: ASGIApp, bound_host: str | None = None) -> None:
        self.app = app
        bound = (bound_host or "127.0.0.1").strip("[]").lower()
        self.any_address = bound in WILDCARDS
        self.names = LOOPBACK_NAMES | ({bound} - WILDCARDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = self._problem(headers.get("host"), headers.get("origin"))
        if problem is not None:
            await problem.response()(scope, receive, send)
            return

        async def send_without_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not name.lower().startswith(b"access-control-")
                ]
            await send(message)

        await self.app(scope, receive, send_without_cors)

    def allows(self, host: str) -> bool:
        name = host_name(host)
        if name is None:
            return False
        if name in self.names:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or self.any_address

    def _problem(self, host: str | None, origin: str | None) -> EngineError | None:
        if host is None or not self.allows(host):
            shown = "no Host header" if host is None else f"the Host {host[:100]!r}"
            return EngineError(
                403,
                f"Refused: the request was addressed to {shown}. The engine answers "
                "requests for localhost, 127.0.0.1 or [::1] (and the address it was started "
                "on): connect to http://127.0.0.1:PORT.",
                type="permission_error",
                code="host_not_allowed",
            )
        if origin is not None and not self._same_origin(origin, host):
            return EngineError(
                403,
                f"Refused: the request came from the web page {origin[:100]!r}. The engine "
                "serves programs on this machine (the editor, retouch edit, the openai "
                "package), not web pages.",
                type="permission_error",
                code="origin_not_allowed",
            )
        return None

    @staticmethod
    def _same_origin(origin: str, host: str) -> bool:
        try:
            parts = urlsplit(origin.strip())
        except ValueError:
            return False
        return parts.scheme == "http" and parts.netloc.lower() == host.strip().lower()


def host_name(host: str) -> str | None:
    """The name or address of a Host header (``name``, ``name:port``, ``[v6]:port``),
    lower-case and without brackets; None when it is malformed."""
    text = host.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text[1:].partition("]")
        if not bracket:
            return None
    else:
        name, colon, port = text.partition(":")
        rest = colon + port
    if rest and not _PORT.fullmatch(rest):
        return None
    return name or None
