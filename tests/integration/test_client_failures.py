"""Every way a server can fail, and what the user is told: exception type, message,
retries, and never the API key."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from app.client import ApiError, ClientError, InputError, NetworkError, ProtocolError
from app.core.events import CompletedImage, PartialImage
from tests.support import fault_server as fs
from tests.support.clients import API_KEY, PNG, edit_request, harness
from tests.support.images import png_bomb, png_bytes, truncated

RATE_LIMITED = fs.error(
    429,
    "Rate limit reached for requests",
    type="requests",
    code="rate_limit_exceeded",
    headers={"retry-after": "2", "x-request-id": "req_429"},
)
MODERATION = fs.error(
    400,
    "Your request was rejected by the safety system.",
    type="image_generation_user_error",
    code="moderation_blocked",
    headers={"x-request-id": "req_mod", "x-should-retry": "true"},
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- retries ----------------------------------------------------------------------------


async def test_429_waits_as_told_then_succeeds_and_resends_the_files(tmp_path: Path) -> None:
    with fs.serve([RATE_LIMITED, fs.json_images([PNG])]) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path))
    assert [e.data for e in events] == [PNG]
    assert h.waits == [2.0]
    assert [(n.attempt, n.delay, n.reason) for n in h.notices] == [
        (1, 2.0, "429 rate_limit_exceeded")
    ]
    first, second = server.requests
    assert second.files[0].data == first.files[0].data == PNG
    assert second.fields == first.fields


async def test_a_real_wait_from_retry_after_ms(tmp_path: Path) -> None:
    limited = fs.error(429, "slow down", headers={"retry-after-ms": "150"})
    with fs.serve([limited, fs.json_images([PNG])]) as server:
        async with harness(server) as h:
            h.client._sleep = __import__("asyncio").sleep  # really wait this once
            started = time.perf_counter()
            await h.run(edit_request(tmp_path))
    assert time.perf_counter() - started >= 0.15
    assert len(server.requests) == 2


async def test_5xx_is_retried_with_backoff_then_succeeds(tmp_path: Path) -> None:
    with fs.serve([fs.error(500, "oops", type="server_error"), fs.json_images([PNG])]) as s:
        async with harness(s) as h:
            events = await h.run(edit_request(tmp_path))
    assert len(events) == 1 and len(s.requests) == 2
    assert len(h.waits) == 1 and 0.375 < h.waits[0] <= 0.5


async def test_5xx_gives_up_after_two_retries_with_the_server_message(tmp_path: Path) -> None:
    failing = fs.error(503, "The engine is overloaded", type="server_error", code=None)
    with fs.serve(failing) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError) as caught:
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 3
    assert [n.attempt for n in h.notices] == [1, 2]
    assert 0.375 < h.waits[0] <= 0.5 and 0.75 < h.waits[1] <= 1.0
    error = caught.value
    assert error.status == 503 and error.type == "server_error"
    assert str(error) == (
        "503 Service Unavailable: The engine is overloaded (server_error); gave up after 3 attempts"
    )


async def test_max_retries_is_a_setting(tmp_path: Path) -> None:
    with fs.serve(fs.error(500, "oops")) as server:
        async with harness(server, max_retries=0) as h:
            with pytest.raises(ApiError):
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 1 and h.notices == []


async def test_x_should_retry_false_is_honoured(tmp_path: Path) -> None:
    failing = fs.error(503, "do not retry me", headers={"x-should-retry": "false"})
    with fs.serve([failing, fs.json_images([PNG])]) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError, match="503 Service Unavailable: do not retry me"):
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 1


async def test_a_wait_above_120_seconds_is_not_retried(tmp_path: Path) -> None:
    limited = fs.error(429, "quota", code="rate_limit_exceeded", headers={"retry-after": "600"})
    with fs.serve([limited, fs.json_images([PNG])]) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError) as caught:
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 1 and h.waits == []
    assert "asks to wait 600 s" in str(caught.value)
    assert "try again later" in str(caught.value)


async def test_moderation_is_never_retried(tmp_path: Path) -> None:
    with fs.serve([MODERATION, fs.json_images([PNG])]) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError) as caught:
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 1
    error = caught.value
    assert (error.status, error.type, error.code, error.request_id) == (
        400,
        "image_generation_user_error",
        "moderation_blocked",
        "req_mod",
    )
    assert error.message == "Your request was rejected by the safety system."
    assert "moderation_blocked" in str(error) and "req_mod" in str(error)


async def test_a_client_error_is_not_retried_and_names_the_param(tmp_path: Path) -> None:
    bad = fs.error(400, "Invalid mask", code="invalid_mask_image_format", param="mask")
    with fs.serve(bad) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError, match=r"Invalid mask .*param mask"):
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 1


async def test_connection_refused_is_retried_then_a_network_error(tmp_path: Path) -> None:
    class Nowhere:
        base_url = f"http://127.0.0.1:{closed_port()}"

    async with harness(Nowhere()) as h:  # type: ignore[arg-type]
        with pytest.raises(NetworkError) as caught:
            await h.run(edit_request(tmp_path))
    assert [n.reason for n in h.notices] == ["connection refused", "connection refused"]
    message = str(caught.value)
    assert "connection refused" in message and "gave up after 3 attempts" in message
    assert Nowhere.base_url in message


async def test_a_silent_server_times_out_and_is_retried(tmp_path: Path) -> None:
    with fs.serve(fs.hang()) as server:
        async with harness(server, read_timeout=0.2) as h:
            with pytest.raises(NetworkError, match=r"sent nothing for 0.2 s \(read timeout\)"):
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 3
    assert [n.reason for n in h.notices] == ["read timeout", "read timeout"]


async def test_a_hang_up_before_answering_is_retried(tmp_path: Path) -> None:
    with fs.serve([fs.hang_up(), fs.json_images([PNG])]) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path))
    assert len(events) == 1 and [n.reason for n in h.notices] == ["connection dropped"]


# --- answers that are not what they should be --------------------------------------------


async def test_an_html_502_page_reads_clearly(tmp_path: Path) -> None:
    with fs.serve(fs.html(502)) as server:
        async with harness(server, max_retries=0) as h:
            with pytest.raises(ApiError) as caught:
                await h.run(edit_request(tmp_path))
    assert str(caught.value).startswith(
        "502 Bad Gateway: the server answered with an HTML page ('502 Bad Gateway') instead of JSON"
    )
    assert caught.value.status == 502


async def test_an_empty_error_body_reads_clearly_after_retries(tmp_path: Path) -> None:
    with fs.serve(fs.empty(502)) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError) as caught:
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 3
    assert str(caught.value) == (
        "502 Bad Gateway: the server answered with an empty body; gave up after 3 attempts"
    )


async def test_a_wrong_path_says_to_check_it(tmp_path: Path) -> None:
    with fs.serve(fs.text(404, "404 page not found")) as server:
        async with harness(server, path="/v1/nothing") as h:
            with pytest.raises(ApiError) as caught:
                await h.run(edit_request(tmp_path))
    message = str(caught.value)
    assert message.startswith("404 Not Found: the server answered with text instead of JSON")
    assert f"check the base URL and the endpoint path ({server.base_url}/v1/nothing)" in message


async def test_an_html_page_with_status_200_is_a_protocol_error(tmp_path: Path) -> None:
    with fs.serve(fs.html(200, "Captive portal")) as server:
        async with harness(server) as h:
            with pytest.raises(ProtocolError) as caught:
                await h.run(edit_request(tmp_path))
    assert str(caught.value).startswith(
        "200 OK: the server answered with an HTML page ('Captive portal') instead of JSON"
    )
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (fs.text(200, '{"data": [', "application/json"), "the answer is not valid JSON"),
        (fs.json_body({"data": [{"b64_json": "!!not base64!!"}]}), "not valid base64"),
        (fs.json_body({"data": [{"url": "https://x/y.png"}]}), "is a URL, not an image"),
        (fs.json_body({"data": []}), "the answer holds no image"),
        (fs.empty(200), "200 OK: the server answered with an empty body"),
    ],
)
async def test_unusable_json_answers(tmp_path: Path, reply: fs.Reply, expected: str) -> None:
    with fs.serve(reply) as server:
        async with harness(server) as h:
            with pytest.raises(ProtocolError, match=expected):
                await h.run(edit_request(tmp_path))
    assert len(server.requests) == 1


async def test_a_json_error_object_with_status_200_is_an_api_error(tmp_path: Path) -> None:
    body = {"error": {"message": "quota", "type": "insufficient_quota", "code": None}}
    with fs.serve(fs.json_body(body)) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError, match="200 OK: quota"):
                await h.run(edit_request(tmp_path))


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (png_bomb(), "decompression bomb"),
        (png_bomb(8000, 8000), "8000x8000 = 64,000,000 pixels, over the 33,177,600 pixel"),
        (b"GIF89a" + b"\x00" * 64, "is not an image: it is a GIF"),
        (truncated(png_bytes(200, 200)), "the PNG file is truncated"),
    ],
)
async def test_an_unusable_image_is_refused_unopened(
    tmp_path: Path, image: bytes, expected: str
) -> None:
    with fs.serve(fs.sse([fs.completed(image)])) as server:
        async with harness(server) as h:
            with pytest.raises(ProtocolError, match=expected):
                await h.run(edit_request(tmp_path, stream=True))
    with fs.serve(fs.json_images([image])) as server:
        async with harness(server) as h:
            with pytest.raises(ProtocolError, match=expected):
                await h.run(edit_request(tmp_path))


async def test_the_pixel_cap_is_a_setting(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server, max_image_pixels=64 * 48 - 1) as h:
            with pytest.raises(ProtocolError, match="64x48 = 3,072 pixels, over the 3,071"):
                await h.run(edit_request(tmp_path))


async def test_an_endless_line_is_cut_off_at_the_response_cap(tmp_path: Path) -> None:
    with fs.serve(fs.endless_line()) as server:
        async with harness(server, max_response_bytes=2 << 20) as h:
            started = time.perf_counter()
            with pytest.raises(ProtocolError, match=r"past the 2 MiB limit \(max_response_bytes\)"):
                await h.run(edit_request(tmp_path, stream=True))
        assert time.perf_counter() - started < 10
        assert server.wait_disconnect(5)


async def test_an_oversized_json_answer_is_cut_off(tmp_path: Path) -> None:
    big = fs.json_images([png_bytes(600, 600)])
    with fs.serve(big) as server:
        async with harness(server, max_response_bytes=10_000) as h:
            with pytest.raises(ProtocolError, match="past the 10,000 bytes limit"):
                await h.run(edit_request(tmp_path))


# --- trouble in the middle of a stream ---------------------------------------------------


@pytest.mark.parametrize("wrapped", [False, True])
async def test_an_error_event_mid_stream_is_an_api_error_not_retried(
    tmp_path: Path, wrapped: bool
) -> None:
    stream = fs.sse(
        [
            fs.partial(PNG, 0),
            fs.error_event(
                "Generation failed",
                type="image_generation_user_error",
                code="moderation_blocked",
                wrapped=wrapped,
            ),
        ],
        headers={"x-request-id": "req_stream"},
    )
    received: list[object] = []
    with fs.serve(stream) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError) as caught:
                async for event in h.client.edit(edit_request(tmp_path, stream=True)):
                    received.append(event)
    assert len(server.requests) == 1
    assert [type(e) for e in received] == [PartialImage]
    error = caught.value
    assert (error.status, error.type, error.code, error.request_id) == (
        None,
        "image_generation_user_error",
        "moderation_blocked",
        "req_stream",
    )
    assert str(error).startswith("the server reported an error: Generation failed")
    assert "the edit stopped" in str(error)


async def test_an_error_event_before_any_image_is_not_retried_either(tmp_path: Path) -> None:
    with fs.serve(fs.sse([fs.error_event("boom")])) as server:
        async with harness(server) as h:
            with pytest.raises(ApiError, match="boom"):
                await h.run(edit_request(tmp_path, stream=True))
    assert len(server.requests) == 1


async def test_a_drop_after_the_first_event_is_not_retried(tmp_path: Path) -> None:
    stream = fs.sse([fs.partial(PNG, 0), fs.partial(PNG, 1), fs.completed(PNG)], drop_after=2)
    received: list[object] = []
    with fs.serve(stream) as server:
        async with harness(server) as h:
            with pytest.raises(NetworkError) as caught:
                async for event in h.client.edit(edit_request(tmp_path, stream=True)):
                    received.append(event)
    assert len(server.requests) == 1 and h.notices == []
    assert [type(e) for e in received] == [PartialImage, PartialImage]
    assert str(caught.value) == (
        "the connection dropped after 2 partial images arrived; the rest of this edit is "
        "lost. Try again."
    )


async def test_a_drop_before_any_event_is_retried(tmp_path: Path) -> None:
    dropping = fs.sse([fs.completed(PNG)], drop_after=0)
    with fs.serve([dropping, fs.sse([fs.completed(PNG)])]) as server:
        async with harness(server) as h:
            events = await h.run(edit_request(tmp_path, stream=True))
    assert [type(e) for e in events] == [CompletedImage]
    assert [n.reason for n in h.notices] == ["connection dropped"]


async def test_a_stream_cut_inside_an_event_after_images_is_a_network_error(
    tmp_path: Path,
) -> None:
    stream = fs.sse([fs.partial(PNG, 0)], framing="close")
    stream.encoded.append(fs.completed(PNG).encode("\n")[:200])
    with fs.serve(stream) as server:
        async with harness(server) as h:
            with pytest.raises(NetworkError, match="dropped after 1 partial image arrived"):
                await h.run(edit_request(tmp_path, stream=True))


async def test_a_stream_that_ends_without_a_final_image(tmp_path: Path) -> None:
    with fs.serve(fs.sse([fs.partial(PNG, 0)], done=True)) as server:
        async with harness(server) as h:
            with pytest.raises(ProtocolError, match="ended after 1 partial image and no final"):
                await h.run(edit_request(tmp_path, stream=True))


async def test_a_garbled_event_is_a_protocol_error(tmp_path: Path) -> None:
    with fs.serve(fs.sse([fs.raw_event('{"type": "image_edit.completed", "b64')])) as server:
        async with harness(server) as h:
            with pytest.raises(ProtocolError, match="not valid JSON"):
                await h.run(edit_request(tmp_path, stream=True))


# --- the key stays secret ----------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        fs.error(401, f"Incorrect API key provided: {API_KEY}.", code="invalid_api_key"),
        fs.text(502, f"bad gateway for Bearer {API_KEY}"),
        fs.html(200, f"hello {API_KEY}"),
        fs.sse([fs.error_event(f"key {API_KEY} revoked")]),
    ],
)
async def test_the_api_key_never_appears_in_an_error(tmp_path: Path, reply: fs.Reply) -> None:
    with fs.serve(reply) as server:
        async with harness(server, max_retries=0) as h:
            with pytest.raises(ClientError) as caught:
                await h.run(edit_request(tmp_path, stream=True))
            assert API_KEY not in repr(h.client)
    error = caught.value
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    for text in (str(error), repr(error), *map(str, vars(error).values())):
        assert API_KEY not in text
    assert "[api key]" in str(error)


async def test_the_api_key_is_not_in_network_errors(tmp_path: Path) -> None:
    class Nowhere:
        base_url = f"http://127.0.0.1:{closed_port()}"

    async with harness(Nowhere(), max_retries=0) as h:  # type: ignore[arg-type]
        with pytest.raises(NetworkError) as caught:
            await h.run(edit_request(tmp_path))
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)


async def test_silence_after_the_first_event_is_not_retried(tmp_path: Path) -> None:
    with fs.serve(fs.sse([fs.partial(PNG, 0)], hold=True)) as server:
        async with harness(server, read_timeout=0.3) as h:
            with pytest.raises(NetworkError) as caught:
                await h.run(edit_request(tmp_path, stream=True))
    assert len(server.requests) == 1
    assert str(caught.value) == (
        "the server went silent for 0.3 s after 1 partial image arrived; the rest of this "
        "edit is lost. Try again."
    )


async def test_a_file_that_vanished_is_an_input_error_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    request = edit_request(tmp_path)
    request.images[0].unlink()
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            with pytest.raises(InputError, match=r"input0\.png: file not found; check the path"):
                await h.run(request)
    assert server.requests == []
