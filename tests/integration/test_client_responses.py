"""Answers the client understands: JSON and SSE in every shape real servers send."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.events import CompletedImage, PartialImage
from tests.support import fault_server as fs
from tests.support.clients import PNG, edit_request, harness
from tests.support.images import encode, png_bytes

OTHER = png_bytes(32, 32)


async def test_a_json_answer_with_several_images(tmp_path: Path) -> None:
    headers = {"x-request-id": "req_json"}
    with fs.serve(fs.json_images([PNG, OTHER], headers=headers)) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, n=2), variant=3)
    assert [type(e) for e in events] == [CompletedImage, CompletedImage]
    assert [(e.data, e.variant, e.request_id) for e in events] == [
        (PNG, 3, "req_json"),
        (OTHER, 4, "req_json"),
    ]
    assert events[0].usage is not None and events[0].usage.total_tokens == 90


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("chunk_size", [None, 1, 7, 4096])
async def test_a_stream_in_any_line_end_and_chunking(
    tmp_path: Path, line_end: str, chunk_size: int | None
) -> None:
    stream = fs.sse(
        [fs.partial(OTHER, 0), fs.partial(OTHER, 1), fs.completed(PNG)],
        line_end=line_end,
        chunk_size=chunk_size,
        keepalive=True,
        done=True,
        headers={"x-request-id": "req_sse"},
    )
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True))
    assert [(type(e).__name__, getattr(e, "partial_index", None)) for e in events] == [
        ("PartialImage", 0),
        ("PartialImage", 1),
        ("CompletedImage", None),
    ]
    assert events[-1].data == PNG and events[0].data == OTHER
    assert all(e.request_id == "req_sse" and e.variant == 0 for e in events)
    assert events[-1].usage is not None and events[-1].usage.input_tokens == 50


async def test_a_stream_without_chunked_framing_or_final_blank_line(tmp_path: Path) -> None:
    last = fs.completed(PNG).encode("\n").rstrip(b"\n").decode()
    stream = fs.sse([fs.partial(OTHER, 0)], framing="close")
    stream.encoded.append(last.encode())  # the final event lacks its blank line
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True))
    assert [type(e) for e in events] == [PartialImage, CompletedImage]


@pytest.mark.parametrize("line_end", ["\n", "\r"])
async def test_each_event_is_handed_over_as_soon_as_it_arrives(
    tmp_path: Path, line_end: str
) -> None:
    """The server sends a partial and then waits: the partial must not wait with it."""
    stream = fs.sse([fs.partial(OTHER, 0)], line_end=line_end, hold=True)
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = h.client.edit(edit_request(tmp_path, stream=True))
            first = await asyncio.wait_for(anext(events), 5)
            await events.aclose()
    assert isinstance(first, PartialImage) and first.data == OTHER


async def test_a_multi_image_stream_numbers_the_finals(tmp_path: Path) -> None:
    stream = fs.sse(
        [fs.partial(OTHER, 0), fs.completed(PNG), fs.partial(OTHER, 0), fs.completed(OTHER)]
    )
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True, n=2))
    assert [(type(e).__name__, e.variant) for e in events] == [
        ("PartialImage", 0),
        ("CompletedImage", 0),
        ("PartialImage", 1),
        ("CompletedImage", 1),
    ]


async def test_events_of_unknown_kinds_are_skipped(tmp_path: Path) -> None:
    stream = fs.sse(
        [
            fs.raw_event('{"type": "image_edit.in_progress"}', "image_edit.in_progress"),
            fs.raw_event("", "ping"),
            fs.completed(PNG),
        ]
    )
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True))
    assert [type(e) for e in events] == [CompletedImage]


async def test_a_server_that_ignores_stream_and_answers_json(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True))
    assert [e.data for e in events] == [PNG]


async def test_large_payloads_are_parsed_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    rng_image = encode(Image.fromarray(noise), "PNG")  # noise does not compress
    assert len(rng_image) > 300 * 1024
    offloaded: list[str] = []
    real = asyncio.to_thread

    async def spy(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        offloaded.append(getattr(func, "__name__", "?"))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", spy)
    stream = fs.sse([fs.partial(OTHER, 0), fs.completed(rng_image)])
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True))
    assert events[-1].data == rng_image
    assert offloaded.count("event_from_sse") == 1  # the big one only

    offloaded.clear()
    with fs.serve(fs.json_images([rng_image])) as server:
        async with harness(server) as h:
            await h.run(edit_request(tmp_path))
    assert offloaded.count("images_from_body") == 1


async def test_event_values_outside_the_documented_enums_are_taken_as_they_are(
    tmp_path: Path,
) -> None:
    """Issue 16: gpt-image-2 answers other WxH strings and `auto`; the completed event's
    usage has no output_tokens_details. Nothing is validated strictly."""
    import base64
    import json

    def event(kind: str, **extra) -> fs.Event:
        payload = {"type": kind, "b64_json": base64.b64encode(PNG).decode(),
                   "size": "1232x784", "quality": "ultra", "background": "auto",
                   "output_format": "png", **extra}  # fmt: skip
        return fs.raw_event(json.dumps(payload), kind)

    usage = {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42,
             "input_tokens_details": {"text_tokens": 2, "image_tokens": 10}}  # fmt: skip
    stream = fs.sse([
        event("image_edit.completed", usage=usage),  # the final first: order is not assumed
        event("image_edit.partial_image", partial_image_index=0),
    ])  # fmt: skip
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True, partial_images=1))
    final = next(e for e in events if isinstance(e, CompletedImage))
    assert final.size == "1232x784" and final.usage.total_tokens == 42
    assert final.data == PNG
