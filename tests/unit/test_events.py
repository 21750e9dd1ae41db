from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.events import (
    COMPLETED_TYPE,
    CompletedImage,
    ErrorInfo,
    PartialImage,
    PayloadError,
    Usage,
    event_from_stream_payload,
    images_from_response,
    loads_images_json,
    stream_payload,
)

PNG = b"\x89PNG\r\n\x1a\nfake"
B64 = base64.b64encode(PNG).decode()
USAGE = {
    "input_tokens": 50,
    "output_tokens": 40,
    "total_tokens": 90,
    "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
}


def test_partial_and_completed_round_trip_through_the_wire_shape() -> None:
    partial = PartialImage(PNG, partial_index=2, output_format="png", size="1024x1024")
    payload = stream_payload(partial, created_at=1, quality="high", background="opaque")
    assert payload["type"] == "image_edit.partial_image"
    assert payload["partial_image_index"] == 2
    assert event_from_stream_payload(payload) == partial

    done = CompletedImage(PNG, usage=Usage.from_json(USAGE), output_format="png", size="auto")
    payload = stream_payload(done, created_at=1, quality="high", background="opaque")
    assert payload["usage"]["input_tokens_details"] == USAGE["input_tokens_details"]
    parsed = event_from_stream_payload(payload, variant=3, request_id="req_1")
    assert (parsed.data, parsed.variant, parsed.request_id) == (PNG, 3, "req_1")
    assert parsed.usage.total_tokens == 90


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "error", "error": {"message": "blocked", "type": "t", "code": "c", "param": None}},
        {"type": "error", "message": "blocked", "code": "c"},
        {"error": {"message": "blocked"}},
    ],
)
def test_error_events_in_every_shape(payload) -> None:
    error = event_from_stream_payload(payload)
    assert isinstance(error, ErrorInfo) and error.message == "blocked"


def test_error_json_round_trip() -> None:
    info = ErrorInfo("bad mask", "invalid_request_error", "mask", "invalid_mask_image_format")
    assert ErrorInfo.from_json(info.to_json()) == info
    assert ErrorInfo.from_json({"data": []}) is None
    assert ErrorInfo.from_json("text") is None


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ([1, 2], "not a JSON object"),
        ({"type": "image_edit.partial_image"}, "no b64_json"),
        ({"type": "image_edit.completed", "b64_json": "@@@"}, "not valid base64"),
        ({"type": "something.else"}, "unknown stream event"),
    ],
)
def test_malformed_stream_payloads(payload, words) -> None:
    with pytest.raises(PayloadError, match=words):
        event_from_stream_payload(payload)


def test_non_streaming_response() -> None:
    payload = {"created": 1, "data": [{"b64_json": B64}, {"b64_json": B64}], "usage": USAGE}
    first, second = images_from_response(payload, first_variant=4, request_id="r")
    assert (first.variant, second.variant) == (4, 5)
    assert first.usage.input_tokens == 50 and second.usage is None
    with pytest.raises(PayloadError, match="no data list"):
        images_from_response({"error": "x"})
    with pytest.raises(PayloadError, match="URL"):
        images_from_response({"data": [{"url": "https://example.invalid/a.png"}]})


def test_usage_tolerates_missing_parts_and_adds_up() -> None:
    assert Usage.from_json(None) is None
    partial = Usage.from_json({"input_tokens": 5, "output_tokens": "many"})
    assert (partial.input_tokens, partial.output_tokens) == (5, 0)
    assert (partial + Usage(1, 2, 3)).total_tokens == 3


_B64_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


@given(
    images=st.lists(st.tuples(_B64_TEXT, st.integers(0, 70_000)), min_size=1, max_size=3),
    prompt=st.text(max_size=40),
    escape_slashes=st.booleans(),
)
@settings(max_examples=40, deadline=None)
def test_loads_images_json_equals_json_loads(images, prompt, escape_slashes) -> None:
    data = [{"b64_json": head + "A" * pad} for head, pad in images]
    text = json.dumps({"prompt": prompt, "data": data, "b64_json": data[0]["b64_json"]})
    if escape_slashes:
        text = text.replace("/", "\\/")
    assert loads_images_json(text) == json.loads(text)
    assert loads_images_json(text.encode()) == json.loads(text)


def test_loads_images_json_reports_broken_json_like_json_loads() -> None:
    broken = '{"type": "image_edit.completed", "b64_json": "' + "A" * 100_000
    with pytest.raises(json.JSONDecodeError):
        loads_images_json(broken)


def test_long_values_of_bytes_can_come_back_as_views_and_decode_the_same() -> None:
    """What the client does with a 25 MB event: no copy of the base64 text, as text or
    as bytes; _b64 reads the view slice by slice."""
    raw = os.urandom(3 * 1024 * 1024 + 7)
    b64 = base64.b64encode(raw).decode()
    text = json.dumps({"type": COMPLETED_TYPE, "b64_json": b64, "note": "ünïcode"}).encode()
    payload = loads_images_json(bytearray(text), views=True)
    assert isinstance(payload["b64_json"], memoryview) and payload["note"] == "ünïcode"
    event = event_from_stream_payload(payload)
    assert type(event.data) is bytes and event.data == raw
    assert loads_images_json(text) == json.loads(text)  # without views: plain text values


def test_padding_inside_a_long_base64_view_is_refused() -> None:
    one = base64.b64encode(os.urandom(3 * 1024 * 1024 // 4)).decode()
    for glued in (base64.b64encode(b"ab").decode() + one, one[:-4] + "YWI=" + one):
        text = json.dumps({"type": COMPLETED_TYPE, "b64_json": glued}).encode()
        with pytest.raises(PayloadError, match="not valid base64"):
            event_from_stream_payload(loads_images_json(text, views=True))
