"""A real local engine for tests: uvicorn on 127.0.0.1, a free port, in a background thread."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.engine.server import create_app, engine_url, listen, uvicorn_config

START_TIMEOUT_S = 10.0


@contextmanager
def running_engine(token: str | None = None, **options: Any) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of an engine that serves until the
    block ends. ``options`` go to ``create_app`` (schema, limits, keepalive_seconds ...)."""
    with serving(create_app(token=token, **options)) as url:
        yield url


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an app made by ``create_app`` (a test that reads its ``app.state``) as
    ``running_engine`` does; yield its base URL."""
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(app, log_config=None))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="engine", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local engine did not start")
            time.sleep(0.005)
        yield engine_url(sock)
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)
        sock.close()


Part = tuple[str, tuple[str, bytes, str]]


def image_parts(
    images: list[bytes], mask: bytes | None = None, *, array: bool | None = None
) -> list[Part]:
    """Multipart file parts as a client sends them: ``image`` for one image, ``image[]``
    for several (or when ``array`` says so), and ``mask``."""
    name = "image[]" if (array if array is not None else len(images) > 1) else "image"
    parts = [(name, (f"in{i}.png", data, "image/png")) for i, data in enumerate(images)]
    if mask is not None:
        parts.append(("mask", ("mask.png", mask, "image/png")))
    return parts


def sse_events(body: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, data object) of each event of a text/event-stream body."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        name = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), None)
        data = "\n".join(ln[5:].lstrip() for ln in lines if ln.startswith("data:"))
        events.append((name, json.loads(data)))
    return events


def host_port(url: str) -> tuple[str, int]:
    """(host, port) of ``http://HOST:PORT``."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host.strip("[]"), int(port)


def raw_request(url: str, head: str, timeout: float = 30.0) -> bytes:
    """Send ``head`` (CRLF line ends added) on a socket of its own; everything the engine
    answers until it closes the connection."""
    with socket.create_connection(host_port(url), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


HELD_BOUNDARY = "heldheldheld"


def edit_head(length: int, host: str = "localhost") -> bytes:
    """The head of an edit whose body is ``length`` bytes, and the head of its image part:
    what a client sends before the image's bytes."""
    return (
        f"POST /v1/images/edits HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: multipart/form-data; boundary={HELD_BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n--{HELD_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="image"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()


def held_edit(url: str, length: int, send: int = 0) -> socket.socket:
    """A socket that sent ``edit_head(length)`` and ``send`` bytes of the image, then
    nothing more (the caller closes it)."""
    sock = socket.create_connection(host_port(url), timeout=30)
    sock.sendall(edit_head(length))
    chunk = b"\x89" * (1 << 20)
    for start in range(0, send, len(chunk)):
        sock.sendall(chunk[: min(len(chunk), send - start)])
    return sock


def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait for ``condition`` (the state of an engine served in this process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the engine never got there")
        time.sleep(0.01)


@contextmanager
def serve_command(
    *arguments: str, env: dict[str, str] | None = None, **popen: Any
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``retouch serve --port 0 ARGUMENTS`` in a child process (RETOUCH_ENGINE_TOKEN from
    ``env`` only); yields the process and its first line. Stopped with SIGINT at the end."""
    environment = {k: v for k, v in os.environ.items() if k != "RETOUCH_ENGINE_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", *arguments],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**environment, "PYTHONUNBUFFERED": "1", **(env or {})}, **popen,
    )  # fmt: skip
    try:
        yield process, next_line(process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()


def next_line(process: subprocess.Popen[str], timeout: float = START_TIMEOUT_S * 3) -> str:
    """The next line the process prints; RuntimeError if none comes within ``timeout``."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        raise RuntimeError(f"retouch serve printed no line (exit code {process.poll()})")
    return lines[0]
