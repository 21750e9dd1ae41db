"""The typed records a job produces, and their wire shapes (PROTOCOL.md).

The client parses payloads into these; the local engine builds payloads from them; the UI
and the CLI consume them. Images travel as encoded bytes: decoding is the consumer's choice.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PARTIAL_TYPE = "image_edit.partial_image"
COMPLETED_TYPE = "image_edit.completed"
ERROR_TYPE = "error"


class PayloadError(ValueError):
    """A response payload that does not have the documented shape."""


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: Any) -> Usage | None:
        if not isinstance(raw, Mapping):
            return None

        def count(key: str) -> int:
            value = raw.get(key)
            return value if isinstance(value, int) else 0

        return cls(count("input_tokens"), count("output_tokens"), count("total_tokens"), dict(raw))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.details,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
        }

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass(frozen=True)
class PartialImage:
    data: bytes = field(repr=False)
    partial_index: int
    variant: int = 0
    output_format: str | None = None
    size: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class CompletedImage:
    data: bytes = field(repr=False)
    variant: int = 0
    usage: Usage | None = None
    output_format: str | None = None
    size: str | None = None
    request_id: str | None = None


ImageEvent = PartialImage | CompletedImage


@dataclass(frozen=True)
class ErrorInfo:
    """The OpenAI error object: ``{"error": {"message", "type", "param", "code"}}``."""

    message: str
    type: str | None = None
    param: str | None = None
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    @classmethod
    def from_json(cls, raw: Any) -> ErrorInfo | None:
        """Accepts both ``{"error": {...}}`` and the bare error object (stream error events
        come in both shapes); None when ``raw`` is neither."""
        if not isinstance(raw, Mapping):
            return None
        inner = raw.get("error")
        body = inner if isinstance(inner, Mapping) else raw
        message = body.get("message")
        if not isinstance(message, str):
            if inner is None and raw.get("type") != ERROR_TYPE:
                return None
            message = str(inner) if isinstance(inner, str) else "the server reported an error"

        def text(key: str) -> str | None:
            value = body.get(key)
            return None if value is None else str(value)

        return cls(message=message, type=text("type"), param=text("param"), code=text("code"))


# Decoded in slices: one b64decode call on 25 MB holds the GIL for about 100 ms, which
# stalls the UI thread even while a worker thread does the decoding.
_B64_SLICE = 1 << 20  # a multiple of 4, so every slice but the last has no padding


_B64_KEY = '"b64_json"'
# A value no server sends: NUL cannot appear unescaped in JSON, nor at all in base64.
_PLACEHOLDER = "\x00b64:"
_CUT_ABOVE = 1 << 16


def loads_images_json(text: str | bytes) -> Any:
    """``json.loads`` for answers that carry images, kind to the UI thread.

    The JSON scanner holds the GIL for its whole run: about 20 ms for one 25 MB event, which
    stalls the Qt event loop even when the parse runs in a worker thread. So each long
    ``"b64_json": "..."`` value is cut out with ``str.find`` and slicing (C loops of a few
    milliseconds) and only the small remainder goes through the scanner. Anything unusual
    (escapes in the value, a key that is not where expected) falls back to ``json.loads``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if len(text) < _CUT_ABOVE or _B64_KEY not in text:
        return json.loads(text)
    pieces: list[str] = []
    values: list[str] = []
    position = 0
    while (key := text.find(_B64_KEY, position)) >= 0:
        colon = text.find(":", key + len(_B64_KEY))
        start = colon + 1
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        end = text.find('"', start + 1) if text[start : start + 1] == '"' else -1
        if colon < 0 or end < 0 or end - start < _CUT_ABOVE:
            break
        value = text[start + 1 : end]
        if "\\" in value:
            return json.loads(text)
        pieces.append(text[position:start])
        pieces.append(f'"\\u0000b64:{len(values)}"')  # JSON's escape of the placeholder
        values.append(value)
        position = end + 1
    if not values:
        return json.loads(text)
    pieces.append(text[position:])
    payload = json.loads("".join(pieces))
    restored = _restore(payload, values)
    if restored != len(values):
        return json.loads(text)
    return payload


def _restore(node: Any, values: list[str]) -> int:
    count = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "b64_json" and isinstance(value, str) and value.startswith(_PLACEHOLDER):
                node[key] = values[int(value[len(_PLACEHOLDER) :])]
                count += 1
            else:
                count += _restore(value, values)
    elif isinstance(node, list):
        count += sum(_restore(item, values) for item in node)
    return count


def _b64(raw: Any, where: str) -> bytes:
    if not isinstance(raw, str) or not raw:
        raise PayloadError(f"{where} has no b64_json image")
    try:
        if len(raw) <= _B64_SLICE:
            return base64.b64decode(raw, validate=True)
        if raw.find("=", 0, len(raw) - 2) != -1:
            raise ValueError("padding before the end")
        return b"".join(
            base64.b64decode(raw[start : start + _B64_SLICE], validate=True)
            for start in range(0, len(raw), _B64_SLICE)
        )
    except (binascii.Error, ValueError):
        raise PayloadError(f"{where} carries b64_json that is not valid base64") from None


def _opt_str(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


def event_from_stream_payload(
    payload: Any, *, variant: int = 0, request_id: str | None = None
) -> ImageEvent | ErrorInfo:
    """Parse one SSE ``data`` object. Decodes base64: run it off the UI thread."""
    if not isinstance(payload, Mapping):
        raise PayloadError("a stream event is not a JSON object")
    kind = payload.get("type")
    if kind == PARTIAL_TYPE:
        index = payload.get("partial_image_index", 0)
        return PartialImage(
            data=_b64(payload.get("b64_json"), "a partial image event"),
            partial_index=index if isinstance(index, int) else 0,
            variant=variant,
            output_format=_opt_str(payload, "output_format"),
            size=_opt_str(payload, "size"),
            request_id=request_id,
        )
    if kind == COMPLETED_TYPE:
        return CompletedImage(
            data=_b64(payload.get("b64_json"), "a completed image event"),
            variant=variant,
            usage=Usage.from_json(payload.get("usage")),
            output_format=_opt_str(payload, "output_format"),
            size=_opt_str(payload, "size"),
            request_id=request_id,
        )
    error = ErrorInfo.from_json(payload)
    if error is not None:
        return error
    raise PayloadError(f"unknown stream event type {kind!r}")


def images_from_response(
    payload: Any, *, first_variant: int = 0, request_id: str | None = None
) -> list[CompletedImage]:
    """Parse a non-streaming JSON response. Decodes base64: run it off the UI thread."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
        raise PayloadError("the response has no data list")
    usage = Usage.from_json(payload.get("usage"))
    images = []
    for offset, item in enumerate(payload["data"]):
        if not isinstance(item, Mapping):
            raise PayloadError(f"data[{offset}] is not an object")
        if "b64_json" not in item and "url" in item:
            raise PayloadError(
                f"data[{offset}] is a URL, not an image: this model returns links "
                "(dall-e); choose a GPT image model"
            )
        images.append(
            CompletedImage(
                data=_b64(item.get("b64_json"), f"data[{offset}]"),
                variant=first_variant + offset,
                usage=usage if offset == 0 else None,
                output_format=_opt_str(payload, "output_format"),
                size=_opt_str(payload, "size"),
                request_id=request_id,
            )
        )
    return images


def stream_payload(
    event: ImageEvent, *, created_at: int, quality: str, background: str
) -> dict[str, Any]:
    """The SSE ``data`` object for an event (the local engine sends these)."""
    common = {
        "b64_json": base64.b64encode(event.data).decode("ascii"),
        "created_at": created_at,
        "size": event.size,
        "quality": quality,
        "background": background,
        "output_format": event.output_format,
    }
    if isinstance(event, PartialImage):
        return {"type": PARTIAL_TYPE, **common, "partial_image_index": event.partial_index}
    payload = {"type": COMPLETED_TYPE, **common}
    if event.usage is not None:
        payload["usage"] = event.usage.to_json()
    return payload
