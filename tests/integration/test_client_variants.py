"""Parallel variants and cancellation: tags, isolation of failures, nothing left behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.client import ApiError, InputError, NetworkError, ProtocolError
from app.core.events import CompletedImage, PartialImage
from app.core.request import EditRequest
from tests.support import fault_server as fs
from tests.support import images
from tests.support.clients import PNG, collect, edit_request, harness
from tests.support.images import png_bytes

PREVIEW = png_bytes(16, 12)


def our_tasks() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_stream_variants_are_parallel_requests_tagged_0_to_n_minus_1(
    tmp_path: Path,
) -> None:
    stream = fs.sse([fs.partial(PREVIEW, 0), fs.completed(PNG)], pause=0.3)
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = await collect(h.client.variants(edit_request(tmp_path, stream=True, n=3)))
    assert len(server.requests) == 3
    assert all(r.fields["n"] == "1" for r in server.requests)
    assert sorted(e.variant for e in events if isinstance(e, CompletedImage)) == [0, 1, 2]
    assert sorted(e.variant for e in events if isinstance(e, PartialImage)) == [0, 1, 2]
    # In parallel: every partial arrives before the first final.
    assert [type(e) for e in events[:3]] == [PartialImage] * 3
    for variant in range(3):
        mine = [type(e) for e in events if e.variant == variant]
        assert mine == [PartialImage, CompletedImage]


async def test_one_request_when_not_split(tmp_path: Path) -> None:
    stream = fs.sse([fs.completed(PNG), fs.completed(PREVIEW)])
    with fs.serve(stream) as server:
        async with harness(server) as h:
            request = edit_request(tmp_path, stream=True, n=2)
            events = await collect(h.client.variants(request, split_streams=False))
    assert len(server.requests) == 1 and server.requests[0].fields["n"] == "2"
    assert [(e.variant, e.data) for e in events] == [(0, PNG), (1, PREVIEW)]


async def test_without_streaming_n_images_come_in_one_request(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG, PREVIEW, PNG])) as server:
        async with harness(server) as h:
            events = await collect(h.client.variants(edit_request(tmp_path, n=3)))
    assert len(server.requests) == 1
    assert [e.variant for e in events] == [0, 1, 2]


async def test_a_failing_variant_does_not_stop_the_others(tmp_path: Path) -> None:
    good = fs.sse([fs.partial(PREVIEW, 0), fs.completed(PNG)], pause=0.2)
    bad = fs.sse([fs.partial(PREVIEW, 0), fs.error_event("the GPU caught fire")], pause=0.05)

    def scenario(request: fs.RecordedRequest, index: int) -> fs.Reply:
        return bad if index == 1 else good

    received: list[PartialImage | CompletedImage] = []
    with fs.serve(scenario) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError) as caught:
                async for event in h.client.variants(edit_request(tmp_path, stream=True, n=3)):
                    received.append(event)
    error = caught.value
    failed = error.variant
    assert failed in (0, 1, 2)
    # Counted from 1 in the message, as on the tiles; the attribute keeps the index.
    assert str(error).startswith(f"variant {failed + 1} of 3 failed: the server reported")
    assert "the GPU caught fire" in str(error)
    finals = sorted(e.variant for e in received if isinstance(e, CompletedImage))
    assert finals == sorted({0, 1, 2} - {failed})
    assert len(server.requests) == 3


async def test_the_first_of_several_failures_is_raised_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    stream = fs.sse([fs.partial(PREVIEW, 0), fs.partial(PREVIEW, 1)], drop_after=1)
    with fs.serve(stream) as server:
        async with harness(server) as h:
            with pytest.raises(NetworkError) as caught:
                await collect(h.client.variants(edit_request(tmp_path, stream=True, n=2)))
    assert "(1 other variant failed too)" in str(caught.value)
    assert "dropped after 1 partial image arrived" in str(caught.value)


async def test_cancelling_an_edit_closes_the_connection_and_leaves_no_task(
    tmp_path: Path,
) -> None:
    stream = fs.sse([fs.partial(PREVIEW, 0)], hold=True)
    with fs.serve(stream) as server:
        async with harness(server) as h:
            arrived = asyncio.Event()

            async def consume() -> None:
                async for _ in h.client.edit(edit_request(tmp_path, stream=True)):
                    arrived.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(arrived.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert our_tasks() == set()  # at once, not after some settling
            assert await asyncio.to_thread(server.wait_disconnect, 5)
    assert server.disconnects == 1


async def test_cancelling_variants_cancels_every_request(tmp_path: Path) -> None:
    stream = fs.sse([fs.partial(PREVIEW, 0)], hold=True)
    with fs.serve(stream) as server:
        async with harness(server) as h:
            seen: set[int] = set()
            all_started = asyncio.Event()

            async def consume() -> None:
                request = edit_request(tmp_path, stream=True, n=3)
                async for event in h.client.variants(request):
                    seen.add(event.variant)
                    if len(seen) == 3:
                        all_started.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(all_started.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert our_tasks() == set()
            for _ in range(100):
                if server.disconnects == 3:
                    break
                await asyncio.sleep(0.05)
            assert server.disconnects == 3


async def test_cancelling_during_the_upload_stops_it(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\x00" * (16 << 20))
    request = EditRequest((big,), {"prompt": "x"})
    with fs.serve(fs.json_images([PNG]), read_pause=0.005) as server:  # about 1.3 s to read
        async with harness(server) as h:
            task = asyncio.create_task(collect(h.client.edit(request)))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert our_tasks() == set()
            assert await asyncio.to_thread(server.wait_disconnect, 5)


async def test_a_file_problem_is_reported_once_not_per_variant(tmp_path: Path) -> None:
    request = edit_request(tmp_path, stream=True, n=3)
    request.images[0].write_text("not an image")
    with fs.serve(fs.sse([fs.completed(PNG)])) as server:
        async with harness(server) as h:
            with pytest.raises(InputError) as caught:
                await collect(h.client.variants(request))
    assert str(caught.value).startswith(f"{request.images[0]}: it is not a PNG, JPEG or WebP")
    assert caught.value.variant is None and server.requests == []


async def test_closing_variants_early_stops_every_request_at_once(tmp_path: Path) -> None:
    stream = fs.sse([fs.partial(PREVIEW, 0)], hold=True)
    with fs.serve(stream) as server:
        async with harness(server) as h:
            events = h.client.variants(edit_request(tmp_path, stream=True, n=3))
            seen = {(await anext(events)).variant for _ in range(3)}
            await events.aclose()
            assert seen == {0, 1, 2}
            assert our_tasks() == set()
            for _ in range(100):
                if server.disconnects == 3:
                    break
                await asyncio.sleep(0.05)
    assert server.disconnects == 3


async def test_messages_count_images_and_variants_from_one(tmp_path: Path) -> None:
    # The partial after the first final belongs to the second variant: "variant 2", as the
    # editor's second tile says, while the event keeps its index 1.
    bomb = fs.partial(images.png_bomb(), 0)
    with fs.serve(fs.sse([fs.completed(PNG), bomb])) as server:
        async with harness(server) as h:
            request = edit_request(tmp_path, stream=True, n=2)
            with pytest.raises(ProtocolError) as caught:
                await collect(h.client.variants(request, split_streams=False))
    # The client's own header check, or Pillow's bomb check when this machine's memory
    # sets Pillow's limit under twice 400 MP: either way the image is named.
    message = str(caught.value)
    assert message.startswith("partial image 1 of variant 2")
    assert "claims 20000x20000" in message or "far too many pixels" in message
