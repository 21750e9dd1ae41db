"""ASGI middleware of the engine: bearer-token auth and a request id on every response."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.engine.errors import EngineError


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
                "No API key was sent. This engine was started with a token: send "
                "'Authorization: Bearer <token>' with that token.",
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
            "Incorrect API key: it is not this engine's token. Use the token the engine was "
            "started with (--token or RETOUCH_ENGINE_TOKEN).",
            code="invalid_api_key",
        )


class RequestId:
    """Adds ``x-request-id`` (as OpenAI does) so a client can quote it in logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{uuid.uuid4().hex}"

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)
