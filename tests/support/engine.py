"""A real local engine for tests: uvicorn on 127.0.0.1, a free port, in a background thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.engine.server import create_app, engine_url, listen, uvicorn_config

START_TIMEOUT_S = 10.0


@contextmanager
def running_engine(token: str | None = None, **options: Any) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of an engine that serves until the
    block ends. ``options`` go to ``create_app`` (schema, limits, keepalive_seconds ...)."""
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(create_app(token=token, **options), log_config=None))
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
