"""Slow and idle clients cannot take the engine's connections (issue 15): deadlines for the
head and the body of a request, and a cap on connections below the open-file limit. Real
sockets against a real engine; the deadlines are set short so that the tests are quick."""

from __future__ import annotations

import resource
import select
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from app.engine.guards import Guards
from app.engine.server import create_app
from tests.support.engine import (
    edit_head,
    host_port,
    running_engine,
    serve_command,
    serving,
    until,
)

DRIP_LIMIT = 60  # bytes (a second each): far beyond every deadline set below


def closed(sock: socket.socket, wait: float) -> tuple[bool, bytes]:
    """Whether the engine closed the connection within ``wait`` seconds, and what it sent."""
    answer = b""
    while select.select([sock], [], [], wait)[0]:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return True, answer
        if not chunk:
            return True, answer
        answer += chunk
    return False, answer


def drip(sock: socket.socket, data: bytes) -> tuple[int, bytes]:
    """Send ``data`` one byte a second until the engine closes the connection; the bytes
    sent by then and what the engine answered."""
    answer = b""
    for sent in range(len(data)):
        try:
            sock.sendall(data[sent : sent + 1])
        except OSError:
            return sent, answer
        done, more = closed(sock, 1.0)
        answer += more
        if done:
            return sent + 1, answer
    return len(data), answer + closed(sock, 5.0)[1]


@contextmanager
def connection(url: str) -> Iterator[socket.socket]:
    with socket.create_connection(host_port(url), timeout=30) as sock:
        yield sock


def test_a_head_sent_at_one_byte_a_second_is_cut_off_at_its_deadline() -> None:
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + b"s" * DRIP_LIMIT
    with running_engine(guards=Guards(header_timeout=2.0)) as url, connection(url) as sock:
        sent, answer = drip(sock, head)
        assert sent < 10 and answer == b""  # cut off after about two bytes, unanswered
        health = httpx.get(f"{url}/health").json()
        assert health["connections"]["timed_out"] == 1


def test_a_connection_that_says_nothing_is_closed_at_the_head_deadline() -> None:
    with running_engine(guards=Guards(header_timeout=1.0)) as url, connection(url) as sock:
        assert closed(sock, 15.0) == (True, b"")


def test_a_body_sent_at_one_byte_a_second_is_answered_408_and_cut_off() -> None:
    guards = Guards(body_timeout=2.0, body_idle_timeout=5.0, header_timeout=30.0)
    with running_engine(guards=guards) as url, connection(url) as sock:
        sock.sendall(edit_head(1000, host=f"127.0.0.1:{host_port(url)[1]}"))
        sent, answer = drip(sock, b"x" * DRIP_LIMIT)
        assert sent < 10
        assert answer.startswith(b"HTTP/1.1 408 ") and b"request_timeout" in answer
        assert b"connection: close" in answer.lower()


def test_a_body_that_stops_arriving_is_answered_408() -> None:
    guards = Guards(body_timeout=60.0, body_idle_timeout=1.0)
    with running_engine(guards=guards) as url, connection(url) as sock:
        sock.sendall(edit_head(100_000) + b"x" * 50_000)
        done, answer = closed(sock, 20.0)
        assert done and answer.startswith(b"HTTP/1.1 408 ")


def test_the_body_of_an_answered_request_cannot_be_trickled_for_ever() -> None:
    """uvicorn reads and drops the rest of a body that was not read; each byte used to
    cancel its keep-alive timer."""
    with running_engine(guards=Guards(header_timeout=2.0)) as url, connection(url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n")
        sent, answer = drip(sock, b"-" * DRIP_LIMIT)
        assert sent < 10 and answer.startswith(b"HTTP/1.1 200 ")


def test_idle_connections_beyond_the_cap_make_room_and_health_answers() -> None:
    guards = Guards(max_connections=20, header_timeout=60.0)
    with running_engine(guards=guards) as url, ExitStack() as stack:
        idle = [stack.enter_context(connection(url)) for _ in range(40)]
        slow = [stack.enter_context(connection(url)) for _ in range(40)]
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: loc")  # never finished
        with httpx.Client(base_url=url, timeout=10) as http:
            health = http.get("/health").json()
        assert health["connections"]["open"] <= 20 and health["connections"]["cap"] == 20
        assert health["connections"]["evicted"] >= 60
        assert sum(closed(sock, 0.0)[0] for sock in idle + slow) >= 60


def test_connections_at_work_are_never_closed_for_newcomers() -> None:
    """At the cap with every connection at work (here: an edit reading its body, and two
    waiting for their turn), a newcomer is refused with 503; the ones at work go on."""
    guards = Guards(max_connections=3, max_work=1, max_queue=10, header_timeout=60.0)
    app = create_app(guards=guards)
    with serving(app) as url, ExitStack() as stack:
        working = [stack.enter_context(connection(url)) for _ in range(3)]
        for sock in working:
            sock.sendall(edit_head(1000))
        until(lambda: app.state.admission.stats.queued == 2)
        with connection(url) as newcomer:
            done, answer = closed(newcomer, 10.0)
        assert done and answer.startswith(b"HTTP/1.1 503 ") and b"too_many_connections" in answer
        assert not any(closed(sock, 0.5)[0] for sock in working)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_NOFILE as on Linux")
def test_1100_idle_sockets_under_a_1024_file_limit_do_not_stop_the_engine() -> None:
    """The usual desktop limit is 1,024 open files; 1,100 idle sockets used to take every
    one (Errno 24, the engine accepted nothing more). Here the engine cannot raise its
    limit (soft = hard = 1,024), so the cap alone keeps it answering."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = hard if hard != resource.RLIM_INFINITY else 1 << 16
    engine_files = min(1024, room // 2 - 100)
    sockets = engine_files + 76  # 1,100 with the usual 1,024
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(room, max(soft, 2 * sockets)), hard))

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (engine_files, engine_files))

    try:
        with serve_command("--no-token", preexec_fn=limit_files) as (_, line):
            url = line.split("listening on ", 1)[1].strip()
            with ExitStack() as stack:
                for _ in range(sockets):
                    stack.enter_context(connection(url))
                health = httpx.get(f"{url}/health", timeout=15)
                assert health.status_code == 200
                assert health.json()["connections"]["evicted"] > 0
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
