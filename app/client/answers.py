"""Reading what a server sent: image events from SSE and JSON bodies, error bodies and
network failures, turned into typed records and one-line messages. Pure functions: the
client decides which thread runs them."""

from __future__ import annotations

import json
import re
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.client.config import ClientConfig
from app.client.errors import ApiError, ProtocolError, status_line
from app.client.sse import ServerSentEvent
from app.core.events import (
    COMPLETED_TYPE,
    PARTIAL_TYPE,
    CompletedImage,
    ErrorInfo,
    PartialImage,
    PayloadError,
    event_from_stream_payload,
    images_from_response,
    loads_images_json,
)
from app.core.imageio import ImageFileError, describe_unknown, probe_image, sniff_format

ImageEvent = PartialImage | CompletedImage
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class GarbledEvent(ProtocolError):
    """An event whose data is not JSON: garbled, or cut off by the end of the stream."""


def check_image(data: bytes, label: str, max_pixels: int) -> None:
    """Refuse a returned image that is not one, is truncated, or is too large to decode,
    reading only its header."""
    head = data[:64]
    if sniff_format(head) is None:
        raise ProtocolError(f"{label} from the server is not an image: {describe_unknown(head)}.")
    try:
        info = probe_image(data, name=label, max_pixels=sys.maxsize)
    except ImageFileError as exc:
        raise ProtocolError(f"the server sent an unusable image: {exc}") from None
    if info.pixels > max_pixels:
        raise ProtocolError(
            f"{label} from the server claims {info.width}x{info.height} = {info.pixels:,} "
            f"pixels, over the {max_pixels:,} pixel limit (max_image_pixels); it was not "
            "decoded. It is a decompression bomb or far larger than asked for."
        )


def describe_network_error(
    exc: httpx.TransportError, url: str, config: ClientConfig
) -> tuple[str, str]:
    """A short reason (for retry notices) and a message for the user."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout", (
            f"cannot connect to {url}: no answer within {config.connect_timeout:g} s; "
            "check the base URL and your network."
        )
    if isinstance(exc, httpx.ConnectError):
        root = _root_cause(exc)
        low = f"{detail} {root}".lower()
        if isinstance(root, ConnectionRefusedError) or "refused" in low:
            return "connection refused", (
                f"cannot connect to {url}: connection refused; is the server running and "
                "the base URL right?"
            )
        if isinstance(root, socket.gaierror) or "name or service" in low:
            return "host not found", (
                f"cannot connect to {url}: the host name is unknown ({detail}); check the base URL."
            )
        return "cannot connect", f"cannot connect to {url} ({detail}); check your network."
    if isinstance(exc, httpx.ReadTimeout):
        return "read timeout", (
            f"the server at {url} sent nothing for {config.read_timeout:g} s (read timeout); "
            "it may be overloaded. Try again later or raise the read timeout."
        )
    if isinstance(exc, httpx.WriteTimeout):
        return "write timeout", (
            f"the upload to {url} stalled for {config.read_timeout:g} s (write timeout); "
            "check your network."
        )
    if isinstance(exc, httpx.PoolTimeout):
        return "no free connection", f"no free connection to {url}; too many requests at once."
    return "connection dropped", (
        f"the connection to {url} dropped before the answer was complete ({detail}); "
        "check your network and try again."
    )


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost cause: httpx and anyio wrap "connection refused" in generic errors."""
    seen = set()
    while id(exc) not in seen and (exc.__cause__ or exc.__context__) is not None:
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return exc


def content_kind(content_type: str) -> str:
    main = content_type.partition(";")[0].strip().lower()
    if main == "text/event-stream":
        return "sse"
    if main == "application/json" or main.endswith("+json"):
        return "json"
    if "html" in main:
        return "html"
    return "other"


def is_done(sse: ServerSentEvent) -> bool:
    return len(sse.data) < 32 and sse.data.strip() == "[DONE]"


def is_error_payload(payload: Mapping[str, Any]) -> bool:
    kind = payload.get("type")
    return isinstance(payload.get("error"), Mapping) or (
        isinstance(kind, str) and (kind == "error" or kind.endswith("_error"))
    )


@dataclass(frozen=True)
class Extra:
    """An image event over the request's cap (``kind`` is its type): not decoded, not kept."""

    kind: str


def event_from_sse(
    sse: ServerSentEvent,
    variant: int,
    request_id: str | None,
    has_room: Callable[[str], bool] | None = None,
) -> ImageEvent | Extra | None:
    """Parse one event's data: the image event, None for kinds that carry no image, or
    ApiError for an error event. An image ``has_room`` refuses comes back as Extra,
    its base64 not decoded. Decodes base64: off the UI thread when large."""
    try:
        payload = loads_images_json(sse.data, views=True)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # long data stays bytes
        raise GarbledEvent(
            f"a stream event is not valid JSON ({_json_problem(exc)}); the "
            "server or a proxy garbled the stream."
        ) from None
    if not isinstance(payload, Mapping):
        raise ProtocolError("a stream event is not a JSON object; the server is not compatible.")
    if sse.event == "error" or is_error_payload(payload):
        raise _api_error(payload, request_id, note="the edit stopped")
    kind = payload.get("type")
    if kind not in (PARTIAL_TYPE, COMPLETED_TYPE):
        return None  # keep-alives and event kinds added later carry no image
    if has_room is not None and not has_room(kind):
        return Extra(kind)
    try:
        event = event_from_stream_payload(payload, variant=variant, request_id=request_id)
    except PayloadError as exc:
        raise ProtocolError(f"the server sent a broken event: {exc}.") from None
    assert isinstance(event, PartialImage | CompletedImage)
    return event


def images_from_body(
    body: bytes, response: httpx.Response, variant: int, keep: int | None = None
) -> tuple[list[CompletedImage], int]:
    """A non-streaming 2xx answer's images, the first ``keep`` of them, and how many more
    it held (not decoded). Parses JSON and decodes base64: off the UI thread when large."""
    head = status_line(response.status_code)
    content_type = response.headers.get("content-type", "")
    if content_kind(content_type) == "html" or body.lstrip()[:1] == b"<" or not body.strip():
        raise ProtocolError(f"{head}: {describe_non_json(body, content_type)}.")
    try:
        payload = loads_images_json(body, views=True)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(
            f"{head}: the answer is not valid JSON ({_json_problem(exc)}); "
            "check the base URL and path."
        ) from None
    request_id = response.headers.get("x-request-id")
    if isinstance(payload, Mapping) and "data" not in payload and is_error_payload(payload):
        raise _api_error(payload, request_id, status=response.status_code)
    extra = 0
    if isinstance(payload, Mapping) and isinstance(payload.get("data"), list) and keep is not None:
        extra = max(0, len(payload["data"]) - keep)
        payload = {**payload, "data": payload["data"][:keep]}
    try:
        images = images_from_response(payload, first_variant=variant, request_id=request_id)
    except PayloadError as exc:
        raise ProtocolError(f"{head}: {exc}.") from None
    if not images:
        raise ProtocolError(f"{head}: the answer holds no image.")
    return images, extra


def _api_error(payload: Mapping[str, Any], request_id: str | None, **extra: Any) -> ApiError:
    """The ApiError an error object in a 2xx answer or a stream stands for."""
    info = ErrorInfo.from_json(payload) or ErrorInfo("the server reported an error")
    return ApiError(
        info.message,
        type=info.type,
        code=info.code,
        param=info.param,
        request_id=request_id,
        **extra,
    )


def error_info(body: bytes) -> ErrorInfo | None:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return ErrorInfo.from_json(payload) if isinstance(payload, Mapping) else None


def describe_non_json(body: bytes, content_type: str) -> str:
    stripped = body.strip()
    if not stripped:
        return "the server answered with an empty body"
    if "html" in content_type.lower() or stripped[:1] == b"<":
        title = _TITLE.search(stripped[:65536])
        named = ""
        if title:
            text = " ".join(title.group(1).decode("utf-8", "replace").split())[:120]
            named = f" ({text!r})" if text else ""
        return f"the server answered with an HTML page{named} instead of JSON"
    text = " ".join(stripped[:200].decode("utf-8", "replace").split())
    return f"the server answered with text instead of JSON: {text!r}"


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at character {exc.pos}"
    return "it is not UTF-8 text"
