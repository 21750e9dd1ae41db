"""HTTP plumbing under the edit client: ``endpoint_url`` (the checked address of the
endpoint), ``tls_context`` (the verifying TLS context the process shares), and reading an
answer safely: ``read_capped`` (a body up to a size cap, inflated as app.client.inflate
says) and ``offload`` (parsing a payload above ``INLINE_LIMIT`` in a worker thread).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Callable
from contextlib import aclosing
from typing import Any, TypeVar

import httpx

from app.client.errors import InputError
from app.client.inflate import Wait, body_pieces

T = TypeVar("T")

# Payloads above this are parsed and base64-decoded in a worker thread: a 25 MB event takes
# about 100 ms, which would freeze the UI thread's painting.
INLINE_LIMIT = 256 * 1024


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client of this process shares (httpx's default:
    certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR). Building one parses about 150
    certificates, some 25 ms; httpx would build it for each client, on the UI thread when
    the editor makes one per job. ``await prepare()`` builds it in a worker thread first."""
    return httpx.create_ssl_context()


def endpoint_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path``. A base that already ends in the path's first segment
    ("https://host/v1" with "/v1/images/edits", the SDKs' habit) does not repeat it."""
    base = base_url.strip().rstrip("/")
    try:
        url = httpx.URL(base)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InputError(
            f"base URL {base_url!r} is not a web address; write it like "
            "https://api.openai.com or http://127.0.0.1:8000"
        )
    path = "/" + path.strip().lstrip("/")
    first = "/" + path.split("/")[1]
    if first != "/" and base.endswith(first) and len(path) > len(first):
        base = base[: -len(first)]
    return base + path


async def offload(size: int, work: Callable[..., T], *args: Any) -> T:
    if size > INLINE_LIMIT:
        return await asyncio.to_thread(work, *args)
    return work(*args)


async def read_capped(
    response: httpx.Response, limit: int, *, truncate: bool = False, wait: Wait | None = None
) -> bytes:
    """The whole body, inflated, up to ``limit`` bytes (``body_pieces`` says how)."""
    parts: list[bytes] = []
    pieces = body_pieces(response, limit, truncate=truncate, wait=wait)
    async with aclosing(pieces):
        async for piece in pieces:
            parts.append(piece)
    return b"".join(parts)
