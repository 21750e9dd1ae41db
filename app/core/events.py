"""The typed records a job produces, and their wire shapes (PROTOCOL.md).

The client parses payloads into these; the local engine builds payloads from them; the UI
and the CLI consume them. Images travel as encoded bytes: decoding is the consumer's choice.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
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


EXTRA_PARTIALS = "extra_partial_images"
EXTRA_FINALS = "extra_images"


@dataclass(frozen=True)
class JobWarning:
    """Something a job worked around and went on, for the user to hear about: e.g. images
    a server sent beyond what the request asked for (``code`` EXTRA_PARTIALS or
    EXTRA_FINALS), ignored and never written. ``message`` is one line for people;
    ``variant`` is the index (from 0) of the request's first variant, as in the events."""

    code: str
    message: str
    variant: int = 0
    request_id: str | None = None


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
# stalls the UI thread even while a worker thread does the decoding. A 256 KB slice holds
# it for about half a millisecond.
_B64_SLICE = 1 << 18  # a multiple of 4, so every slice but the last has no padding
# One long decode at a time. It is GIL-bound work, so two at once are no faster; but each
# extra thread that wants the GIL is one more rival for the UI thread when the GIL is handed
# over (every 5 ms switch interval the UI thread may lose the draw and wait another 5 ms):
# with two variants decoding side by side, the 5 ms timer ran up to 30 ms late.
_B64_ONE_AT_A_TIME = threading.Lock()


_B64_KEY = '"b64_json"'
# A value no server sends: NUL cannot appear unescaped in JSON, nor at all in base64.
_PLACEHOLDER = "\x00b64:"
_CUT_ABOVE = 1 << 16
_SPACE = (" ", "\t", "\r", "\n")
_SPACE_BYTES = (b" ", b"\t", b"\r", b"\n")


def loads_images_json(text: str | bytes | bytearray, *, views: bool = False) -> Any:
    """``json.loads`` for answers that carry images, kind to the UI thread.

    The JSON scanner holds the GIL for its whole run: about 20 ms for one 25 MB event, which
    stalls the Qt event loop even when the parse runs in a worker thread. So each long
    ``"b64_json": "..."`` value is cut out with ``find`` (C loops of a few milliseconds) and
    only the small remainder goes through the scanner. Anything unusual (escapes in the
    value, a key that is not where expected) falls back to ``json.loads``.

    Given bytes and ``views``, the long values come back as memoryviews into ``text`` (which
    must then stay unchanged while they are used): decoding 25 MB to text, or slicing it, is
    a copy that holds the GIL for 5-15 ms (fresh pages fault in during the copy), and base64
    is ASCII anyway. The parsers below (_b64) read such a view slice by slice."""
    if len(text) < _CUT_ABOVE:
        return _loads_whole(text)
    if isinstance(text, str):
        key, colon_, quote, backslash, space, view = _B64_KEY, ":", '"', "\\", _SPACE, None
    else:
        key, colon_, quote, backslash = _B64_KEY.encode(), b":", b'"', b"\\"
        space, view = _SPACE_BYTES, memoryview(text)
    pieces: list[Any] = []
    values: list[Any] = []
    position = 0
    while (found := text.find(key, position)) >= 0:  # type: ignore[arg-type]
        colon = text.find(colon_, found + len(key))  # type: ignore[arg-type]
        start = colon + 1
        while start < len(text) and text[start : start + 1] in space:
            start += 1
        opened = text[start : start + 1] == quote
        end = text.find(quote, start + 1) if opened else -1  # type: ignore[arg-type]
        if colon < 0 or end < 0 or end - start < _CUT_ABOVE:
            break
        if text.find(backslash, start + 1, end) >= 0:  # type: ignore[arg-type]
            return _loads_whole(text)
        pieces.append(text[position:start])
        pieces.append(f'"\\u0000b64:{len(values)}"')  # JSON's escape of the placeholder
        if view is None:
            values.append(text[start + 1 : end])
        elif views:
            values.append(view[start + 1 : end])
        else:
            values.append(text[start + 1 : end].decode("utf-8"))
        position = end + 1
    if not values:
        return _loads_whole(text)
    pieces.append(text[position:])
    if view is None:
        rest = "".join(pieces)
    else:  # the pieces are cut at ASCII quotes, so each one is whole UTF-8
        rest = "".join(p if isinstance(p, str) else p.decode("utf-8") for p in pieces)
    payload = json.loads(rest)
    restored = _restore(payload, values)
    if restored != len(values):
        return _loads_whole(text)
    return payload


def _loads_whole(text: str | bytes | bytearray) -> Any:
    return json.loads(text if isinstance(text, str) else text.decode("utf-8"))


def _restore(node: Any, values: list[Any]) -> int:
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
    """Base64 text (a str, or the memoryview loads_images_json gives for bytes) to bytes."""
    if not isinstance(raw, str | memoryview) or not raw:
        raise PayloadError(f"{where} has no b64_json image")
    try:
        if len(raw) <= _B64_SLICE:
            return base64.b64decode(raw, validate=True)
        # Slice by slice into a BytesIO: each write is a short copy, and getvalue() hands
        # over its buffer as the bytes object without copying. Joining the slices instead
        # is one 19 MB copy into fresh pages, a 10-17 ms hold of the GIL.
        out = io.BytesIO()
        last = len(raw) - _B64_SLICE
        with _B64_ONE_AT_A_TIME:
            for start in range(0, len(raw), _B64_SLICE):
                part = raw[start : start + _B64_SLICE]
                # Strict mode refuses padding followed by more data within a slice; padding
                # at the end of a slice that is not the last one would glue two images.
                if start < last and part[-1] in ("=", 61):  # 61 is b"=" in a memoryview
                    raise ValueError("padding before the end")
                out.write(binascii.a2b_base64(part, strict_mode=True))
        return out.getvalue()
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
