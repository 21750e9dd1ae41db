"""Errors the engine answers with, in OpenAI's shape
``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from starlette.responses import JSONResponse

from app.core.events import ErrorInfo


class EngineError(Exception):
    """A request the engine refuses. ``message`` names the field or file and says what to
    do; ``param`` is the request field; ``code`` is the machine-readable kind."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.info = ErrorInfo(message=message, type=type, param=param, code=code)

    def response(self) -> JSONResponse:
        headers = {}
        if self.status == 401:
            headers["www-authenticate"] = "Bearer"
        if self.status == 413:
            # The rest of the body is unread: closing makes the sender stop instead of
            # pushing it all into a connection that would only discard it.
            headers["connection"] = "close"
        return JSONResponse(self.info.to_json(), status_code=self.status, headers=headers)
