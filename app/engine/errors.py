"""Errors the engine answers with, in OpenAI's shape
``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from starlette.responses import JSONResponse

from app.core.events import ErrorInfo

# The rest of the body is unread (too large, or too slow): closing makes the sender stop
# instead of pushing it into a connection that would only discard it. A 429 keeps the
# connection open, so that the client reads the answer after sending its body.
_CLOSE_AFTER = frozenset({408, 413})


class EngineError(Exception):
    """A request the engine refuses. ``message`` names the field or file and says what to
    do; ``param`` is the request field; ``code`` is the machine-readable kind;
    ``retry_after``: seconds after which the same request may succeed (429, 503)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.info = ErrorInfo(message=message, type=type, param=param, code=code)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.status == 401:
            headers["www-authenticate"] = "Bearer"
        if self.status in _CLOSE_AFTER:
            headers["connection"] = "close"
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers

    def response(self) -> JSONResponse:
        return JSONResponse(self.info.to_json(), status_code=self.status, headers=self.headers())
