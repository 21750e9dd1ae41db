"""A hostile server cannot hold a job forever, fill the disk, make the client print the key
or exhaust memory with a compressed answer (issue 15, the client's half)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.client import ApiError, ClientConfig, ImageEditClient, ProtocolError, RetryNotice
from app.client.deadlines import TimedOut
from app.client.errors import user_error
from app.core.errors import ErrorKind
from app.core.events import (
    EXTRA_FINALS,
    EXTRA_PARTIALS,
    JobWarning,
    PartialImage,
)
from tests.support import fault_server as fs
from tests.support import hostile_replies as hostile
from tests.support.clients import API_KEY, PNG, collect, edit_request
from tests.support.images import png_bytes

PREVIEW = png_bytes(16, 12)
# A guard, not a measurement: without the deadlines these jobs never end.
GUARD = 30.0


@dataclass
class Run:
    client: ImageEditClient
    warnings: list[JobWarning] = field(default_factory=list)
    notices: list[RetryNotice] = field(default_factory=list)

    async def events(self, request: Any, *, split: bool = True) -> list[Any]:
        stream = self.client.variants(request, split_streams=split)
        return await asyncio.wait_for(collect(stream), GUARD)


@asynccontextmanager
async def client(server: fs.FaultServer, **config: Any) -> AsyncIterator[Run]:
    """A client that records warnings and retry notices, and does not spend retry waits."""
    config.setdefault("api_key", API_KEY)
    warnings: list[JobWarning] = []
    notices: list[RetryNotice] = []
    made = ImageEditClient(
        ClientConfig(base_url=server.base_url, **config),
        on_retry=notices.append,
        on_warning=warnings.append,
    )

    async def no_sleep(delay: float) -> None:
        await asyncio.sleep(0)

    made._sleep = no_sleep
    async with made:
        yield Run(made, warnings, notices)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kinds(events: Iterable[Any]) -> list[tuple[str, int]]:
    return [("partial" if isinstance(e, PartialImage) else "final", e.variant) for e in events]


# --- the idle and job deadlines -----------------------------------------------------------


def test_the_deadlines_default_to_the_read_timeout_and_half_an_hour() -> None:
    config = ClientConfig()
    # With partial_images 0 the one image comes after the whole edit: idle is as patient
    # as the read timeout is with silence.
    assert (config.idle_timeout, config.job_timeout) == (600.0, 1800.0)
    assert config.idle_timeout == config.read_timeout


async def test_keep_alives_alone_do_not_hold_a_job_past_the_idle_timeout(tmp_path: Path) -> None:
    with fs.serve(hostile.chatter()) as server:
        async with client(server, idle_timeout=0.3, max_retries=0) as run:
            with pytest.raises(TimedOut) as caught:
                await run.events(edit_request(tmp_path, stream=True))
        assert server.wait_disconnect()
    error = caught.value
    assert error.code == "idle_timeout"
    assert str(error) == (
        "no image came for 0.3 s, the idle timeout (idle_timeout): the server sent only "
        "keep-alives or other events; it may be stuck. Try again, or raise the idle timeout "
        "if it is only slow (retouch edit --idle-timeout)."
    )
    shown = user_error(error)
    assert (shown.kind, shown.code, shown.retryable) == (ErrorKind.NETWORK, "idle_timeout", True)


async def test_unknown_events_and_extra_images_do_not_reset_the_idle_timeout(
    tmp_path: Path,
) -> None:
    progress = b'event: image_edit.in_progress\ndata: {"type": "image_edit.in_progress"}\n\n'
    extra = fs.partial(PREVIEW, 1).encode("\n")  # over partial_images 1: ignored
    for filler in (progress, extra):
        stream = hostile.chatter([fs.partial(PREVIEW, 0)], filler=filler)
        with fs.serve(stream) as server:
            async with client(server, idle_timeout=0.4) as run:
                request = edit_request(tmp_path, stream=True, partial_images=1)
                with pytest.raises(TimedOut, match=r"no image came for 0\.4 s after 1 partial"):
                    await run.events(request)
        # An edit that delivered is billed: never sent twice.
        assert len(server.requests) == 1 and run.notices == []


async def test_an_idle_timeout_before_any_image_is_retried_as_a_read_timeout(
    tmp_path: Path,
) -> None:
    with fs.serve(hostile.chatter()) as server:
        async with client(server, idle_timeout=0.2, max_retries=1) as run:
            with pytest.raises(TimedOut, match="gave up after 2 attempts"):
                await run.events(edit_request(tmp_path, stream=True))
    assert len(server.requests) == 2
    assert [n.reason for n in run.notices] == ["idle timeout"]


async def test_each_image_resets_the_idle_timeout(tmp_path: Path) -> None:
    # Five gaps of 0.15 s: the whole stream outlasts the idle timeout, no gap does.
    partials = [fs.partial(PREVIEW, k) for k in range(3)]
    stream = fs.sse([*partials, fs.completed(PNG)], pause=0.15, keepalive=True)
    with fs.serve(stream) as server:
        async with client(server, idle_timeout=0.6) as run:
            events = await run.events(edit_request(tmp_path, stream=True, partial_images=3))
    assert len(events) == 4 and len(server.requests) == 1


async def test_the_job_timeout_stops_a_stream_that_keeps_talking(tmp_path: Path) -> None:
    with fs.serve(hostile.chatter([fs.partial(PREVIEW, 0)])) as server:
        async with client(server, idle_timeout=60, job_timeout=0.4) as run:
            with pytest.raises(TimedOut) as caught:
                await run.events(edit_request(tmp_path, stream=True, partial_images=2))
        assert server.wait_disconnect()
    assert caught.value.code == "job_timeout"
    assert str(caught.value) == (
        "the edit took longer than the job timeout of 0.4 s (job_timeout) and was stopped "
        "after 1 partial image; try again, or raise the job timeout if the server is that "
        "slow (retouch edit --job-timeout)."
    )
    assert user_error(caught.value).code == "job_timeout"


async def test_the_job_timeout_covers_the_wait_for_an_answer(tmp_path: Path) -> None:
    with fs.serve(fs.hang()) as server:
        async with client(server, read_timeout=60, job_timeout=0.3) as run:
            with pytest.raises(TimedOut, match=r"job timeout of 0.3 s \(job_timeout\)"):
                await run.events(edit_request(tmp_path))
    assert len(server.requests) == 1 and run.notices == []


async def test_a_retry_whose_wait_would_pass_the_job_timeout_is_not_made(
    tmp_path: Path,
) -> None:
    limited = fs.error(429, "slow down", code="rate_limit_exceeded", headers={"retry-after": "5"})
    with fs.serve([limited, fs.json_images([PNG])]) as server:
        async with client(server, job_timeout=2) as run:
            with pytest.raises(ApiError) as caught:
                await run.events(edit_request(tmp_path))
    assert len(server.requests) == 1
    assert str(caught.value).endswith(
        "; not tried again: the job timeout (2 s, job_timeout) would pass first"
    )


# --- no more images than asked for ------------------------------------------------------------


async def test_a_flood_of_partials_keeps_only_those_asked_for(tmp_path: Path) -> None:
    flood = [fs.partial(PREVIEW, k) for k in range(2000)]
    with fs.serve(fs.sse([*flood, fs.completed(PNG)], chunk_size=1 << 16)) as server:
        async with client(server) as run:
            events = await run.events(edit_request(tmp_path, stream=True, partial_images=1))
    assert kinds(events) == [("partial", 0), ("final", 0)]
    assert [(w.code, w.variant, w.message) for w in run.warnings] == [
        (
            EXTRA_PARTIALS,
            0,
            "variant 1: the server sent more than the 1 partial image asked for "
            "(partial_images 1); the extra ones are ignored and not saved. The server is "
            "broken or hostile.",
        )
    ]


async def test_partials_nobody_asked_for_are_ignored_and_at_most_three_when_unset(
    tmp_path: Path,
) -> None:
    stream = fs.sse([*(fs.partial(PREVIEW, k) for k in range(5)), fs.completed(PNG)])
    with fs.serve(stream) as server:
        async with client(server) as run:
            none = await run.events(edit_request(tmp_path, stream=True, partial_images=0))
            unset = await run.events(edit_request(tmp_path, stream=True))
    assert kinds(none) == [("final", 0)]
    # Unset, the API sends none, but a vendor's default may differ: up to its maximum.
    assert kinds(unset) == [("partial", 0)] * 3 + [("final", 0)]
    assert [w.message.split(";")[0] for w in run.warnings] == [
        "variant 1: the server sent partial images when none were asked for (partial_images 0)",
        "variant 1: the server sent more than 3 partial images, the most kept when "
        "partial_images is unset",
    ]


async def test_more_finals_than_n_are_ignored_and_the_stream_is_left(tmp_path: Path) -> None:
    finals = [fs.completed(PNG) for _ in range(50)]
    with fs.serve(fs.sse(finals, pause=0.01)) as server:
        async with client(server) as run:
            request = edit_request(tmp_path, stream=True, n=2, partial_images=0)
            events = await run.events(request, split=False)
        assert server.wait_disconnect()  # all asked for had come: the rest was not read
    assert kinds(events) == [("final", 0), ("final", 1)]
    assert [w.code for w in run.warnings] == [EXTRA_FINALS]
    assert run.warnings[0].message.startswith(
        "the server sent more than the 2 images asked for (n 2); the extra ones are ignored"
    )


async def test_a_json_answer_keeps_n_images(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG] * 5)) as server:
        async with client(server) as run:
            events = await run.events(edit_request(tmp_path, n=2))
    assert kinds(events) == [("final", 0), ("final", 1)]
    assert [w.message.split(";")[1] for w in run.warnings] == [
        " the extra ones (3) are ignored and not saved. The server is broken or hostile."
    ]


async def test_the_final_image_may_come_before_the_partials(tmp_path: Path) -> None:
    late = [fs.completed(PNG), *(fs.partial(PREVIEW, k) for k in range(3))]
    with fs.serve(fs.sse(late)) as server:
        async with client(server) as run:
            one = await run.events(edit_request(tmp_path, stream=True, partial_images=2))
            split = await run.events(edit_request(tmp_path, stream=True, partial_images=1, n=2))
            single = await run.events(
                edit_request(tmp_path, stream=True, partial_images=1, n=2), split=False
            )
    # Late partials belong to the image they came with, never to one that does not exist.
    assert kinds(one) == [("final", 0), ("partial", 0), ("partial", 0)]
    assert sorted(kinds(split)) == [("final", 0), ("final", 1), ("partial", 0), ("partial", 1)]
    # One request for two images: partials after the first final belong to the second.
    assert kinds(single) == [("final", 0), ("partial", 1), ("partial", 1)]
    assert [w.code for w in run.warnings] == [EXTRA_PARTIALS] * 4
    assert sorted(w.variant for w in run.warnings) == [0, 0, 0, 1]


async def test_without_a_listener_the_warning_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with fs.serve(fs.sse([fs.completed(PNG), fs.completed(PNG)])) as server:
        async with ImageEditClient(ClientConfig(base_url=server.base_url)) as plain:
            with caplog.at_level(logging.WARNING, logger="app.client"):
                events = await collect(plain.edit(edit_request(tmp_path, stream=True)))
    assert len(events) == 1
    assert "the server sent more than the 1 image asked for (n 1)" in caplog.text


# --- the key never leaves the client ---------------------------------------------------------


async def test_the_key_echoed_in_a_successful_answer_is_scrubbed(tmp_path: Path) -> None:
    echo = {"x-request-id": f"req_{API_KEY}"}
    payload = {
        "data": [{"b64_json": _b64(PNG)}] * 2,
        "size": API_KEY,
        "output_format": f"png {API_KEY}",
        "usage": {"input_tokens": 1, "note": f"key {API_KEY}", "nested": [API_KEY]},
    }
    limited = fs.error(429, "slow", code=f"limit for {API_KEY}", headers={"retry-after-ms": "1"})
    stream = fs.sse([fs.partial(PREVIEW, 0), fs.partial(PREVIEW, 1), fs.completed(PNG)])
    stream.headers = echo
    replies = [limited, fs.json_body(payload, headers=echo), stream]
    with fs.serve(replies) as server:
        async with client(server) as run:
            events = await run.events(edit_request(tmp_path))
            events += await run.events(edit_request(tmp_path, stream=True, partial_images=1))
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert len(events) == 3 and run.warnings and run.notices
    handed_out = [
        *(repr(e) for e in events),
        *(json.dumps(e.usage.to_json()) for e in events if getattr(e, "usage", None)),
        *map(repr, run.warnings),
        *map(repr, run.notices),
    ]
    for text in handed_out:
        assert API_KEY not in text
    assert events[0].request_id == "req_[api key]" and events[0].size == "[api key]"
    assert events[0].usage is not None and events[0].usage.details["nested"] == ["[api key]"]
    assert run.notices[0].reason == "429 limit for [api key]"
    assert run.warnings[0].request_id == "req_[api key]"


async def test_an_error_and_its_attributes_are_scrubbed_with_nothing_raw_behind_them(
    tmp_path: Path,
) -> None:
    refused = fs.error(400, f"bad key {API_KEY}", code=API_KEY, headers={"x-request-id": API_KEY})
    caught = []
    with fs.serve(refused) as server:
        async with client(server) as run:
            for request, split in ((edit_request(tmp_path, stream=True, n=2), True),
                                   (edit_request(tmp_path), False)):  # fmt: skip
                with pytest.raises(ApiError) as raised:
                    await run.events(request, split=split)
                caught.append(raised.value)
    for error in caught:
        assert error.request_id == "[api key]" and error.code == "[api key]"
        for text in (str(error), repr(error), *map(str, vars(error).values())):
            assert API_KEY not in text
        # The raw error is not reachable from the scrubbed one (a logged traceback shows it).
        assert error.__context__ is None and error.__cause__ is None


# --- a compressed answer is capped while it is inflated ------------------------------------


COMPRESSED_OK = [
    hostile.gzipped(json.dumps({"data": [{"b64_json": _b64(PNG)}]}).encode(), "application/json"),
    hostile.gzipped(fs.completed(PNG).encode("\n"), "text/event-stream"),
]


@pytest.mark.parametrize("reply", COMPRESSED_OK, ids=["json", "sse"])
async def test_a_gzip_answer_is_read(tmp_path: Path, reply: fs.Reply) -> None:
    with fs.serve(reply) as server:
        async with client(server) as run:
            events = await run.events(edit_request(tmp_path, stream=True))
    assert [e.data for e in events] == [PNG]
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_gzip_error_answer_is_read(tmp_path: Path) -> None:
    body = json.dumps({"error": {"message": "no", "type": "t", "param": None, "code": "c"}})
    with fs.serve(hostile.gzipped(body.encode(), "application/json", status=400)) as server:
        async with client(server) as run:
            with pytest.raises(ApiError, match=r"400 Bad Request: no \(t/c\)"):
                await run.events(edit_request(tmp_path))


CAP = 4 << 20
BOMBS = {
    # About 64 KB on the wire each, 64 MiB once inflated.
    "json": hostile.gzipped(b'{"data": [{"b64_json": "', "application/json", inflated=64 << 20),
    "sse": hostile.gzipped(b"data: ", "text/event-stream", inflated=64 << 20),
}


@pytest.mark.parametrize("kind", sorted(BOMBS))
async def test_a_gzip_bomb_is_stopped_at_the_cap_while_inflating(tmp_path: Path, kind: str) -> None:
    bomb = BOMBS[kind]
    assert len(bomb.body) < 100_000
    with fs.serve(bomb) as server:
        async with client(server, max_response_bytes=CAP, max_retries=0) as run:
            tracemalloc.start()
            try:
                with pytest.raises(ProtocolError) as caught:
                    await run.events(edit_request(tmp_path, stream=kind == "sse"))
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert str(caught.value).startswith(
        "the answer grew past the 4 MiB limit (max_response_bytes) and was cut off"
    )
    # Inflated a piece at a time: the cap and a few pieces, not the 64 MiB httpx would make
    # of the first network chunk. (A growing buffer may be copied once: twice the cap.)
    assert peak < 3 * CAP, f"peak {peak / 2**20:.1f} MiB"
