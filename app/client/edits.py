"""ImageEditClient: image edits over HTTP, streamed or not, with the official SDK's retry
policy, caps a hostile server cannot get past, and prompt cancellation.

Close what you iterate: wrap ``edit()`` and ``variants()`` in ``contextlib.aclosing`` when you
may stop early, so the connection closes at once instead of when the generator is collected.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import httpx

from app import __version__
from app.client.answers import (
    GarbledEvent,
    ImageEvent,
    check_image,
    content_kind,
    describe_network_error,
    describe_non_json,
    error_info,
    event_from_sse,
    images_from_body,
    is_done,
)
from app.client.config import ClientConfig
from app.client.errors import (
    ApiError,
    ClientError,
    InputError,
    NetworkError,
    ProtocolError,
    status_line,
)
from app.client.multipart import MultipartBody, build_body
from app.client.retry import RetryNotice, RetryPolicy
from app.client.sse import EventDecoder, ServerSentEvent
from app.core.events import (
    PartialImage,
)
from app.core.request import EditRequest
from app.core.schema import Schema, load_schema

T = TypeVar("T")

# Payloads above this are parsed and base64-decoded in a worker thread: a 25 MB event takes
# about 100 ms, which would freeze the UI thread's painting.
INLINE_LIMIT = 256 * 1024
ERROR_BODY_LIMIT = 1 << 20  # an error answer is a small JSON object; read no more than this
_KEY_MARK = "[api key]"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client of this process shares (httpx's default:
    certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR). Building one parses about 150
    certificates, some 25 ms; httpx would build it for each client, on the UI thread when
    the editor makes one per job. ``await prepare()`` builds it in a worker thread first."""
    return httpx.create_ssl_context()


async def prepare() -> None:
    """Do the client's one-off set-up (the TLS context) in a worker thread, so that making
    an ImageEditClient afterwards costs the calling thread nothing noticeable."""
    await asyncio.to_thread(tls_context)


class ImageEditClient:
    """Sends image edits to one provider. Use it as an async context manager, or call
    ``aclose()``. ``on_retry`` hears about each retry before its wait."""

    def __init__(
        self,
        config: ClientConfig,
        schema: Schema | None = None,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> None:
        self._config = config
        self._schema = schema or load_schema()
        self._on_retry = on_retry
        self._url = endpoint_url(config.base_url, config.path)
        self._policy = RetryPolicy(max_retries=max(0, config.max_retries))
        # Tests replace this to check the waits without spending them.
        self._sleep: Callable[[float], Any] = asyncio.sleep
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                # A server that stops reading the upload is as stuck as one that stops
                # answering; waiting for a pooled connection is like connecting.
                write=config.read_timeout,
                pool=config.connect_timeout,
            ),
            verify=tls_context(),
            follow_redirects=False,  # a streamed upload cannot be replayed to a new address
            headers={"User-Agent": f"retouch-studio/{__version__}"},
        )

    def __repr__(self) -> str:
        return f"ImageEditClient({self._url!r})"

    @property
    def url(self) -> str:
        return self._url

    async def __aenter__(self) -> ImageEditClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def edit(
        self, request: EditRequest, *, variant: int = 0
    ) -> AsyncGenerator[ImageEvent, None]:
        """One HTTP request (retried as PROTOCOL.md says until it delivers an event).
        Yields events as soon as their bytes arrive; streams when ``request.values["stream"]``
        is True. Images of a multi-image answer are tagged ``variant``, ``variant + 1`` ...
        Raises ApiError, NetworkError, ProtocolError or InputError."""
        try:
            body = build_body(
                request, self._schema, force_image_array=self._config.force_image_array
            )
            streaming = request.values.get("stream") is True
            retries = 0
            while True:
                progress = _Progress()
                try:
                    async with aclosing(
                        self._attempt(body, streaming, variant, progress)
                    ) as events:
                        async for event in events:
                            yield event
                    return
                except _AttemptFailed as failure:
                    delay = self._retry_delay(failure, retries, progress)
                    reason = failure.reason
                retries += 1
                if self._on_retry is not None:
                    self._on_retry(RetryNotice(retries, delay, reason))
                await self._sleep(delay)
        except ClientError as exc:
            raise self._scrub(exc) from None

    async def variants(
        self, request: EditRequest, *, split_streams: bool = True
    ) -> AsyncGenerator[ImageEvent, None]:
        """All the images ``request`` asks for. With ``stream`` and ``n > 1`` and
        ``split_streams``: ``n`` parallel ``n=1`` streams (each bills its own input tokens),
        so each event carries its variant (0 to n-1); events interleave as they arrive.
        Otherwise one request (partials of a multi-image stream carry no image index: they
        are tagged with the variant that completes next). When a variant fails the others
        go on; once all are done the first failure is raised, naming its variant."""
        count = request.get("n", 1)
        if not (request.get("stream") is True and split_streams and _is_int(count) and count > 1):
            async with aclosing(self.edit(request)) as events:
                async for event in events:
                    yield event
            return
        async with aclosing(self._fan_out(request.with_values(n=1), count)) as events:
            async for event in events:
                yield event

    async def _fan_out(self, single: EditRequest, count: int) -> AsyncGenerator[ImageEvent, None]:
        # A file problem is the same for every variant: say it once, send nothing.
        build_body(single, self._schema, force_image_array=self._config.force_image_array)
        queue: asyncio.Queue[ImageEvent | _Finished] = asyncio.Queue()
        failures: list[tuple[int, BaseException]] = []

        async def run(variant: int) -> None:
            try:
                async with aclosing(self.edit(single, variant=variant)) as events:
                    async for event in events:
                        queue.put_nowait(event)
            except Exception as exc:  # kept for the consumer: the other variants go on
                failures.append((variant, exc))
            finally:
                queue.put_nowait(_Finished())

        tasks = [asyncio.create_task(run(v), name=f"retouch-variant-{v}") for v in range(count)]
        try:
            running = count
            while running:
                item = await queue.get()
                if isinstance(item, _Finished):
                    running -= 1
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if failures:
            raise _first_failure(failures, count)

    # --- one attempt ------------------------------------------------------------------

    async def _attempt(
        self, body: MultipartBody, streaming: bool, variant: int, progress: _Progress
    ) -> AsyncGenerator[ImageEvent, None]:
        upload = body.open()
        try:
            async with self._http.stream(
                "POST", self._url, content=upload, headers=self._headers(body, streaming, variant)
            ) as response:
                if not response.is_success:
                    raise await self._status_failure(response)
                answer = self._read_answer(response, streaming, variant, progress)
                async with aclosing(answer) as events:
                    async for event in events:
                        yield event
        except httpx.TransportError as exc:
            raise self._network_failure(exc) from None
        except httpx.DecodingError as exc:
            raise ProtocolError(
                f"the answer's compressed body is broken ({exc}); a proxy may be at fault."
            ) from None
        finally:
            await upload.aclose()

    def _headers(self, body: MultipartBody, streaming: bool, variant: int) -> dict[str, str]:
        headers = {
            "Content-Type": body.content_type,
            # Known up front, so the upload is not chunked: some gateways refuse that.
            "Content-Length": str(body.content_length),
            "Accept": "text/event-stream" if streaming else "application/json",
        }
        if self._config.api_key:
            headers["Authorization"] = f"Bearer {self._config.api_key}"
        if self._config.variant_header:
            headers[self._config.variant_header] = str(variant)
        return headers

    async def _read_answer(
        self, response: httpx.Response, streaming: bool, variant: int, progress: _Progress
    ) -> AsyncGenerator[ImageEvent, None]:
        kind = content_kind(response.headers.get("content-type", ""))
        if kind == "sse" or (kind == "other" and streaming):
            async with aclosing(self._read_stream(response, variant, progress)) as events:
                async for event in events:
                    yield event
            return
        body = await _read_capped(response, self._config.max_response_bytes)
        images = await _offload(len(body), images_from_body, body, response, variant)
        for image in images:
            self._check_image(image)
            progress.count(image)
            yield image

    async def _read_stream(
        self, response: httpx.Response, variant: int, progress: _Progress
    ) -> AsyncGenerator[ImageEvent, None]:
        decoder = EventDecoder()
        request_id = response.headers.get("x-request-id")
        received = 0
        limit = self._config.max_response_bytes
        done = False
        async with aclosing(response.aiter_bytes()) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit)
                if decoder.completes_a_long_line(chunk, INLINE_LIMIT):
                    completed = await asyncio.to_thread(decoder.feed, chunk)
                else:
                    completed = decoder.feed(chunk)
                for sse in completed:
                    done = is_done(sse)
                    if done:
                        break
                    event = await self._stream_event(sse, variant + progress.finals, request_id)
                    if event is not None:
                        progress.count(event)
                        yield event
                if done:
                    break
        leftover = None if done else decoder.finish()
        if leftover is not None and not is_done(leftover):
            # The last event lacks its closing blank line: usable if it is whole JSON.
            try:
                event = await self._stream_event(leftover, variant + progress.finals, request_id)
            except GarbledEvent:
                raise _AttemptFailed(
                    NetworkError("the stream ended in the middle of an event."), "stream cut off"
                ) from None
            if event is not None:
                progress.count(event)
                yield event
        if not progress.finals:
            got = f"after {progress.describe()}" if progress.delivered else "without any image"
            raise ProtocolError(
                f"{status_line(response.status_code)}: the stream ended {got} and no final "
                "image came; try again."
            )

    async def _stream_event(
        self, sse: ServerSentEvent, variant: int, request_id: str | None
    ) -> ImageEvent | None:
        if not sse.data:
            return None
        event = await _offload(len(sse.data), event_from_sse, sse, variant, request_id)
        if event is not None:
            self._check_image(event)
        return event

    def _check_image(self, event: ImageEvent) -> None:
        # On this thread, not a worker: probing sets warning filters, which are global.
        if isinstance(event, PartialImage):
            label = f"partial image {event.partial_index + 1} of variant {event.variant + 1}"
        else:
            label = f"the final image of variant {event.variant + 1}"
        check_image(event.data, label, self._config.max_image_pixels)

    # --- failures ---------------------------------------------------------------------

    async def _status_failure(self, response: httpx.Response) -> _AttemptFailed:
        body = await _read_capped(response, ERROR_BODY_LIMIT, truncate=True)
        status = response.status_code
        info = error_info(body)
        request_id = response.headers.get("x-request-id")
        if info is not None:
            error = ApiError(
                info.message,
                status=status,
                type=info.type,
                code=info.code,
                param=info.param,
                request_id=request_id,
            )
            label = info.code or info.type
            reason = f"{status} {label}" if label else status_line(status)
        else:
            message = self._describe_body(body, response)
            error = ApiError(message, status=status, request_id=request_id)
            reason = status_line(status)
        error_type = info.type if info else None
        return _AttemptFailed(error, reason, status, response.headers, error_type)

    def _describe_body(self, body: bytes, response: httpx.Response) -> str:
        status = response.status_code
        if 300 <= status < 400 and response.headers.get("location"):
            return (
                f"the server redirects to {response.headers['location']}; "
                "use that address as the base URL."
            )
        text = describe_non_json(body, response.headers.get("content-type", ""))
        if status in (404, 405):
            text += f"; check the base URL and the endpoint path ({self._url})"
        return text

    def _network_failure(self, exc: httpx.TransportError) -> _AttemptFailed:
        reason, message = describe_network_error(exc, self._url, self._config)
        return _AttemptFailed(NetworkError(message), reason)

    def _retry_delay(self, failure: _AttemptFailed, retries: int, progress: _Progress) -> float:
        """The wait before the next attempt; raises the user's error when there is none."""
        if progress.delivered:
            # The server produced (and bills) this edit: never run it twice.
            if failure.reason == "read timeout":
                what = f"the server went silent for {self._config.read_timeout:g} s"
            else:
                what = "the connection dropped"
            raise NetworkError(
                f"{what} after {progress.describe()} arrived; the rest of this edit is lost. "
                "Try again."
            )
        if failure.status is None:
            decision = self._policy.for_network_error(retries)
        else:
            decision = self._policy.for_status(
                retries, failure.status, failure.headers, failure.error_type
            )
        if decision.retry:
            return decision.delay
        notes = [decision.why_not] if decision.why_not else []
        if retries:
            notes.append(f"gave up after {retries + 1} attempts")
        if not notes:
            raise failure.error
        raise failure.error.retext(f"{failure.error}; {'; '.join(notes)}")

    def _scrub(self, exc: ClientError) -> ClientError:
        """The error without the API key, should a server have echoed it back."""
        key = self._config.api_key
        texts = [str(exc), *(v for v in vars(exc).values() if isinstance(v, str))]
        if not key or len(key) < 4 or not any(key in text for text in texts):
            return exc
        clean = exc.retext(str(exc).replace(key, _KEY_MARK))
        for name, value in vars(exc).items():
            if isinstance(value, str):
                setattr(clean, name, value.replace(key, _KEY_MARK))
        return clean


# --- helpers ----------------------------------------------------------------------------


@dataclass
class _Progress:
    partials: int = 0
    finals: int = 0

    @property
    def delivered(self) -> int:
        return self.partials + self.finals

    def count(self, event: ImageEvent) -> None:
        if isinstance(event, PartialImage):
            self.partials += 1
        else:
            self.finals += 1

    def describe(self) -> str:
        def plural(count: int, what: str) -> str:
            return f"{count} {what}" + ("s" if count != 1 else "")

        parts = [
            plural(self.partials, "partial image") if self.partials else "",
            plural(self.finals, "final image") if self.finals else "",
        ]
        return " and ".join(p for p in parts if p) or "nothing"


class _Finished:
    """Put on the fan-out queue when a variant's task ends."""


class _AttemptFailed(Exception):
    """An attempt failed in a way the retry policy may retry; ``error`` is what the user
    sees when it is not."""

    def __init__(
        self,
        error: ClientError,
        reason: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.status = status
        self.headers: Mapping[str, str] = headers or {}
        self.error_type = error_type


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


def _first_failure(failures: list[tuple[int, BaseException]], count: int) -> BaseException:
    variant, first = failures[0]
    if not isinstance(first, ClientError):
        return first
    others = len(failures) - 1
    tail = f" ({others} other variant{'s' if others != 1 else ''} failed too)" if others else ""
    # Counted from 1, as the gallery's tiles are; ``error.variant`` stays the index.
    error = first.retext(f"variant {variant + 1} of {count} failed{tail}: {first}")
    error.variant = variant
    return error


async def _offload(size: int, work: Callable[..., T], *args: Any) -> T:
    if size > INLINE_LIMIT:
        return await asyncio.to_thread(work, *args)
    return work(*args)


async def _read_capped(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    parts: list[bytes] = []
    total = 0
    async with aclosing(response.aiter_bytes()) as chunks:
        async for chunk in chunks:
            if total + len(chunk) > limit:
                if not truncate:
                    raise _too_large(limit)
                parts.append(chunk[: limit - total])
                break
            total += len(chunk)
            parts.append(chunk)
    return b"".join(parts)


def _too_large(limit: int) -> ProtocolError:
    size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"
    return ProtocolError(
        f"the answer grew past the {size} limit (max_response_bytes) and was cut off; no "
        "image edit is that large, so the server is broken or hostile."
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
