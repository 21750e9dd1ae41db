"""A recording HTTP/1.1 server on 127.0.0.1 that keeps each request exactly as it came, for
comparing what two clients put on the wire (``tests/integration/test_conformance.py``)::

    with recording.serve(recording.json_answer([png])) as server:
        ...  # point clients at server.base_url
    request = server.requests[0]
    request.header_lines, request.framing, request.parts()[0].headers

Unlike ``fault_server``, which parses what it needs and injects faults, this one keeps the
header lines in order (a repeated header shows twice), how the body was framed
(Content-Length, chunked or neither), the raw body, and each multipart part with all of its
own headers. Parts are read by the standard library's MIME parser, which knows nothing of
either client under test; a body it finds malformed is reported, not guessed at.

An answer is ``(status, content type, body)``, or a callable ``(request, index) -> answer``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import fault_server as fs

Answer = tuple[int, str, bytes]
Answers = Answer | Callable[["WireRequest", int], Answer]


@dataclass(frozen=True)
class WirePart:
    """One part of a multipart/form-data body: its headers (lower-case names, in order),
    its form name and filename (None for a text field) and its bytes."""

    headers: tuple[tuple[str, str], ...]
    name: str
    filename: str | None
    data: bytes = field(repr=False)

    @property
    def content_type(self) -> str | None:
        return next((value for key, value in self.headers if key == "content-type"), None)


@dataclass(frozen=True)
class WireRequest:
    method: str
    target: str
    header_lines: tuple[tuple[str, str], ...]  # (lower-case name, value), in order
    framing: str  # "content-length", "chunked" or "none"
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        """The value of header ``name``, None when absent; an error when it is repeated."""
        values = [value for key, value in self.header_lines if key == name.lower()]
        assert len(values) <= 1, f"header {name} sent {len(values)} times: {values}"
        return values[0] if values else None

    def parts(self) -> list[WirePart]:
        """The multipart/form-data parts; an AssertionError naming what is malformed."""
        content_type = self.header("content-type") or ""
        assert content_type.startswith("multipart/form-data"), f"not multipart: {content_type!r}"
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + self.body)
        assert message.is_multipart(), f"the body is not multipart ({content_type})"
        assert not message.defects, f"malformed multipart body: {message.defects}"
        parts = []
        for part in message.iter_parts():
            assert not part.defects, f"malformed part {part.items()}: {part.defects}"
            name = part.get_param("name", header="content-disposition")
            assert isinstance(name, str), f"a part without a form name: {part.items()}"
            parts.append(
                WirePart(
                    headers=tuple((key.lower(), str(value)) for key, value in part.items()),
                    name=name,
                    filename=part.get_filename(),
                    data=part.get_payload(decode=True) or b"",
                )
            )
        return parts


def json_answer(images: Sequence[bytes]) -> Answer:
    """A non-streaming success the SDK accepts: ``{"created", "data": [{"b64_json"}]...}``."""
    reply = fs.json_images(images)
    return reply.status, "application/json", reply.body


def sse_answer(events: Sequence[fs.Event]) -> Answer:
    """A ``text/event-stream`` of ``events`` (``fs.partial``, ``fs.completed``, ...)."""
    return 200, "text/event-stream", b"".join(event.encode("\n") for event in events)


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answers: Answers) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers = answers
        self.requests: list[WireRequest] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer_for(self, request: WireRequest) -> Answer:
        with self.lock:
            index = len(self.requests)
            self.requests.append(request)
        return self.answers(request, index) if callable(self.answers) else self.answers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingServer

    def _record(self) -> None:
        lines = tuple((key.lower(), value) for key, value in self.headers.items())
        framing, body = self._read_body()
        request = WireRequest(self.command, self.path, lines, framing, body)
        status, content_type, payload = self.server.answer_for(request)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    do_POST = do_GET = do_PUT = _record

    def _read_body(self) -> tuple[str, bytes]:
        if (self.headers.get("transfer-encoding") or "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return "chunked", b"".join(chunks)
        length = self.headers.get("content-length")
        if length is None:
            return "none", b""
        return "content-length", self.rfile.read(int(length))

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the test reports what matters


@contextlib.contextmanager
def serve(answers: Answers) -> Iterator[RecordingServer]:
    """Run a RecordingServer for the duration of the block."""
    server = RecordingServer(answers)
    thread = threading.Thread(target=server.serve_forever, name="recording-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
