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
