"""A small fault-injecting HTTP/1.1 server on 127.0.0.1 for client and CLI tests.

It runs its own asyncio loop in a background thread, so it serves async tests, sync tests
and subprocesses alike::

    from tests.support import fault_server as fs

    with fs.serve(fs.sse([fs.partial(png, 0), fs.completed(png)])) as server:
        config = ClientConfig(base_url=server.base_url)      # http://127.0.0.1:PORT
        ...
    request = server.requests[0]
    request.path, request.headers["authorization"], request.fields["prompt"]
    [(p.name, p.filename, p.content_type) for p in request.files]

A scenario says how to answer each request:

- one ``Reply``: every request gets it;
- a list of replies: request k gets ``replies[k]``, the last one repeats
  (``[fs.error(429, ..., headers={"retry-after-ms": "10"}), fs.json_images([png])]``);
- a callable ``(RecordedRequest, index) -> Reply`` for anything else.

Replies: ``json_images``, ``json_body``, ``error``, ``html``, ``text``, ``empty``, ``sse``
(any line end, chunk size, keep-alives, pauses, ``[DONE]``, a drop after k events, or
holding the connection open), ``endless_line``, ``hang`` and ``hang_up``; more hostile ones
in ``tests.support.hostile_replies``. Events for ``sse``:
``partial``, ``completed``, ``error_event``, ``raw_event``.

The server records every request (``server.requests``) and every connection the client
closed before the answer was complete (``server.wait_disconnect()``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from tests.support.request_body import Part, body_pieces, parse_multipart

Scenario = Any  # Reply | Sequence[Reply] | Callable[[RecordedRequest, int], Reply]
_READ = 1 << 16


# --- what the server saw ----------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body_size: int = 0
    parts: list[Part] = field(default_factory=list)

    @property
    def fields(self) -> dict[str, str]:
        """The text parts by name."""
        return {p.name: p.text for p in self.parts if p.filename is None}

    @property
    def files(self) -> list[Part]:
        return [p for p in self.parts if p.filename is not None]


# --- replies ----------------------------------------------------------------------------


@dataclass
class Conn:
    """What a reply writes to. ``closed_by_client`` is set once the client hangs up."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    closed_by_client: asyncio.Event
    complete: bool = False  # the last byte of the answer is on its way

    async def write(self, data: bytes, *, last: bool = False) -> None:
        self.complete = self.complete or last
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: int, headers: Mapping[str, str]) -> None:
        phrase = _phrase(status)
        lines = [f"HTTP/1.1 {status} {phrase}", *(f"{k}: {v}" for k, v in headers.items())]
        await self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def wait_client_gone(self, timeout: float = 30.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed_by_client.wait(), timeout)


class Reply:
    async def send(self, conn: Conn) -> None:
        raise NotImplementedError


@dataclass
class Body(Reply):
    """A complete answer with a Content-Length."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    async def send(self, conn: Conn) -> None:
        headers = {"Content-Length": str(len(self.body)), "Connection": "close"}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        await conn.head(self.status, {**headers, **self.headers})
        await conn.write(self.body, last=True)


def json_body(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Body:
    return Body(status, json.dumps(obj).encode(), headers=headers or {})


def json_images(
    images: Sequence[bytes],
    *,
    usage: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Body:
    """A non-streaming success: ``{"created", "data": [{"b64_json"}...], "usage"}``."""
    payload = {
        "created": 1713833628,
        "data": [{"b64_json": base64.b64encode(image).decode()} for image in images],
        "output_format": "png",
        "size": "auto",
        "usage": dict(usage or USAGE),
    }
    return json_body(payload, headers=headers)


def error(
    status: int,
    message: str = "something went wrong",
    *,
    type: str | None = "invalid_request_error",  # the API's name for it
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Body:
    """An OpenAI error object with an HTTP error status."""
    obj = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return json_body(obj, status, headers)


def html(status: int = 502, title: str = "502 Bad Gateway") -> Body:
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><hr>nginx</body>"
    return Body(status, page.encode(), "text/html")


def text(status: int, body: str, content_type: str = "text/plain") -> Body:
    return Body(status, body.encode(), content_type)


def empty(status: int = 502, headers: Mapping[str, str] | None = None) -> Body:
    return Body(status, b"", None, headers or {})


USAGE = {
    "input_tokens": 50,
    "output_tokens": 40,
    "total_tokens": 90,
    "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
}


@dataclass(frozen=True)
class Event:
    """One SSE event as it travels: an optional ``event:`` name and the data text."""

    data: str = field(repr=False)
    name: str | None = None

    def encode(self, line_end: str) -> bytes:
        lines = [f"event: {self.name}"] if self.name else []
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return (line_end.join(lines) + line_end * 2).encode()


def partial(image: bytes, index: int = 0) -> Event:
    return _image_event("image_edit.partial_image", image, partial_image_index=index)


def completed(image: bytes, usage: Mapping[str, Any] | None = None) -> Event:
    return _image_event("image_edit.completed", image, usage=dict(usage or USAGE))


def error_event(
    message: str = "the image could not be generated",
    *,
    type: str = "server_error",  # the API's name for it
    code: str | None = None,
    wrapped: bool = False,
) -> Event:
    """``event: error`` with the bare error object, or wrapped in
    ``{"type": "error", "error": {...}}``."""
    body: dict[str, Any] = {"message": message, "type": type, "param": None, "code": code}
    if wrapped:
        body = {"type": "error", "error": body}
    return Event(json.dumps(body), "error")


def raw_event(data: str, name: str | None = None) -> Event:
    return Event(data, name)


def _image_event(kind: str, image: bytes, **extra: Any) -> Event:
    payload = {
        "type": kind,
        "b64_json": base64.b64encode(image).decode(),
        "created_at": 1713833628,
        "size": "auto",
        "quality": "high",
        "background": "opaque",
        "output_format": "png",
        **extra,
    }
    return Event(json.dumps(payload), kind)


@dataclass
class SSE(Reply):
    """A ``text/event-stream`` answer, encoded once when built so every client under test
    gets the same bytes.

    ``line_end`` "\\n", "\\r\\n" or "\\r"; ``chunk_size`` splits the stream into writes of that
    many bytes (None: one write per event); ``keepalive`` puts a ``: keep-alive`` comment
    before each event; ``done`` ends with ``data: [DONE]``; ``pause`` seconds between events;
    ``drop_after`` k: hang up abruptly after k events (no end of the chunked body);
    ``hold``: after the events keep the connection open until the client leaves;
    ``framing`` "chunked" (default) or "close" (the body ends when the connection does)."""

    events: Sequence[Event]
    line_end: str = "\n"
    chunk_size: int | None = None
    keepalive: bool = False
    done: bool = False
    pause: float = 0.0
    drop_after: int | None = None
    hold: bool = False
    framing: str = "chunked"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    encoded: list[bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        comment = f": keep-alive{self.line_end}{self.line_end}".encode() if self.keepalive else b""
        self.encoded = [comment + event.encode(self.line_end) for event in self.events]
        if self.done:
            self.encoded.append(f"data: [DONE]{self.line_end}{self.line_end}".encode())

    async def send(self, conn: Conn) -> None:
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        if self.framing == "chunked":
            headers["Transfer-Encoding"] = "chunked"
        headers["Connection"] = "close"
        await conn.head(self.status, {**headers, **self.headers})
        for number, event in enumerate(self.encoded):
            if self.drop_after is not None and number >= self.drop_after:
                conn.writer.transport.abort()
                return
            if number and self.pause:
                await asyncio.sleep(self.pause)
            for piece in _pieces(event, self.chunk_size):
                await conn.write(self._frame(piece))
        if self.hold:
            await conn.wait_client_gone()
            return
        await conn.write(b"0\r\n\r\n" if self.framing == "chunked" else b"", last=True)

    def _frame(self, piece: bytes) -> bytes:
        if self.framing != "chunked":
            return piece
        return f"{len(piece):x}\r\n".encode() + piece + b"\r\n"


def sse(events: Sequence[Event], **options: Any) -> SSE:
    return SSE(list(events), **options)


@dataclass
class EndlessLine(Reply):
    """An event stream whose first data line never ends (until ``limit`` bytes or the client
    hangs up)."""

    limit: int = 1 << 31

    async def send(self, conn: Conn) -> None:
        await conn.head(200, {"Content-Type": "text/event-stream", "Connection": "close"})
        await conn.write(b"data: ")
        block = b"A" * _READ
        sent = 0
        while sent < self.limit and not conn.closed_by_client.is_set():
            await conn.write(block)
            sent += len(block)


def endless_line() -> EndlessLine:
    return EndlessLine()


@dataclass
class Hang(Reply):
    """Never answer; wait until the client leaves (timeouts, cancellation)."""

    async def send(self, conn: Conn) -> None:
        await conn.wait_client_gone(timeout=60.0)


def hang() -> Hang:
    return Hang()


@dataclass
class HangUp(Reply):
    """Close the connection without a word (the client sees a dropped connection)."""

    async def send(self, conn: Conn) -> None:
        conn.writer.transport.abort()


def hang_up() -> HangUp:
    return HangUp()


# --- the server -------------------------------------------------------------------------


class FaultServer:
    """Serve a scenario on 127.0.0.1 in a background thread; use ``serve()``."""

    def __init__(
        self, scenario: Scenario, *, keep_bodies: bool = True, read_pause: float = 0.0
    ) -> None:
        self._scenario = scenario
        self._keep_bodies = keep_bodies
        self._read_pause = read_pause
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0  # connections the client closed before the answer was complete
        self._disconnected = threading.Event()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fault-server", daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_disconnect(self, timeout: float = 5.0) -> bool:
        """True once the client closed a connection before the answer was complete."""
        return self._disconnected.wait(timeout)

    def start(self) -> FaultServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault server did not start")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, limit=_READ)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            others = asyncio.all_tasks() - {asyncio.current_task()}
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        gone = asyncio.Event()
        conn = Conn(reader, writer, gone)
        try:
            request = await self._read_request(reader)
            with self._lock:
                index = len(self.requests)
                self.requests.append(request)
            watcher = asyncio.create_task(self._watch(reader, gone))
            try:
                await self._reply_for(request, index).send(conn)
            finally:
                watcher.cancel()
        except (ConnectionError, asyncio.IncompleteReadError):
            gone.set()
        except asyncio.CancelledError:
            pass  # the server is stopping: end quietly, asyncio would log a cancelled handler
        finally:
            if gone.is_set() and not conn.complete:
                with self._lock:
                    self.disconnects += 1
                self._disconnected.set()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _watch(self, reader: asyncio.StreamReader, gone: asyncio.Event) -> None:
        # The request is read: the next thing from the client can only be its hang-up.
        with contextlib.suppress(ConnectionError):
            await reader.read(1)
        gone.set()

    def _reply_for(self, request: RecordedRequest, index: int) -> Reply:
        scenario = self._scenario
        if isinstance(scenario, Reply):
            return scenario
        if callable(scenario):
            return scenario(request, index)
        return scenario[min(index, len(scenario) - 1)]

    async def _read_request(self, reader: asyncio.StreamReader) -> RecordedRequest:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        request = RecordedRequest(method, path, headers)
        body = bytearray() if self._keep_bodies else None
        async for piece in body_pieces(reader, headers):
            request.body_size += len(piece)
            if self._read_pause:
                await asyncio.sleep(self._read_pause)
            if body is not None:
                body += piece
        if body is not None:
            request.parts = parse_multipart(bytes(body), headers.get("content-type", ""))
        return request


@contextlib.contextmanager
def serve(
    scenario: Scenario, *, keep_bodies: bool = True, read_pause: float = 0.0
) -> Iterator[FaultServer]:
    """Run a FaultServer for the duration of the block. ``keep_bodies=False`` reads request
    bodies without keeping them (large uploads); ``parts`` stays empty then. ``read_pause``
    seconds after each 64 KB of a request body make a slow reader (upload tests)."""
    server = FaultServer(scenario, keep_bodies=keep_bodies, read_pause=read_pause).start()
    try:
        yield server
    finally:
        server.stop()


def _pieces(data: bytes, size: int | None) -> Iterator[bytes]:
    if not size:
        yield data
        return
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
