"""ImageEditClient: image edits over HTTP, streamed or not, with the official SDK's retry
policy, caps a hostile server cannot get past, and prompt cancellation.

Close what you iterate: wrap ``edit()`` and ``variants()`` in ``contextlib.aclosing`` when you
may stop early, so the connection closes at once instead of when the generator is collected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from types import TracebackType
from typing import Any

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
from app.client.attempts import (
    AttemptFailed,
    Finished,
    Progress,
    first_failure,
    is_int,
    retry_delay,
)
from app.client.config import ClientConfig
from app.client.errors import (
    ApiError,
    ClientError,
    NetworkError,
    ProtocolError,
    status_line,
)
from app.client.multipart import MultipartBody, build_body
from app.client.retry import RetryNotice, RetryPolicy
from app.client.sse import EventDecoder, ServerSentEvent
from app.client.transport import (
    INLINE_LIMIT,
    endpoint_url,
    offload,
    read_capped,
    tls_context,
    too_large,
)
from app.core.events import (
    PartialImage,
)
from app.core.request import EditRequest
from app.core.schema import Schema, load_schema

ERROR_BODY_LIMIT = 1 << 20  # an error answer is a small JSON object; read no more than this
_KEY_MARK = "[api key]"


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
            body = await self._body(request)
            streaming = request.values.get("stream") is True
            retries = 0
            while True:
                progress = Progress()
                try:
                    async with aclosing(
                        self._attempt(body, streaming, variant, progress)
                    ) as events:
                        async for event in events:
                            yield event
                    return
                except AttemptFailed as failure:
                    delay = retry_delay(
                        self._policy, failure, retries, progress, self._config.read_timeout
                    )
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
        if not (request.get("stream") is True and split_streams and is_int(count) and count > 1):
            async with aclosing(self.edit(request)) as events:
                async for event in events:
                    yield event
            return
        async with aclosing(self._fan_out(request.with_values(n=1), count)) as events:
            async for event in events:
                yield event

    async def _fan_out(self, single: EditRequest, count: int) -> AsyncGenerator[ImageEvent, None]:
        # A file problem is the same for every variant: say it once, send nothing. This also
        # encodes the compact mask once; the variants' requests reuse it (app.core.mask).
        await self._body(single)
        queue: asyncio.Queue[ImageEvent | Finished] = asyncio.Queue()
        failures: list[tuple[int, BaseException]] = []

        async def run(variant: int) -> None:
            try:
                async with aclosing(self.edit(single, variant=variant)) as events:
                    async for event in events:
                        queue.put_nowait(event)
            except Exception as exc:  # kept for the consumer: the other variants go on
                failures.append((variant, exc))
            finally:
                queue.put_nowait(Finished())

        tasks = [asyncio.create_task(run(v), name=f"retouch-variant-{v}") for v in range(count)]
        try:
            running = count
            while running:
                item = await queue.get()
                if isinstance(item, Finished):
                    running -= 1
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if failures:
            raise first_failure(failures, count)

    async def _body(self, request: EditRequest) -> MultipartBody:
        """The request's body, made in a worker thread: the mask is re-encoded compactly
        there (a tenth of a second or more at 4K)."""
        return await asyncio.to_thread(
            build_body, request, self._schema, force_image_array=self._config.force_image_array
        )

    # --- one attempt ------------------------------------------------------------------

    async def _attempt(
        self, body: MultipartBody, streaming: bool, variant: int, progress: Progress
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
        self, response: httpx.Response, streaming: bool, variant: int, progress: Progress
    ) -> AsyncGenerator[ImageEvent, None]:
        kind = content_kind(response.headers.get("content-type", ""))
        if kind == "sse" or (kind == "other" and streaming):
            async with aclosing(self._read_stream(response, variant, progress)) as events:
                async for event in events:
                    yield event
            return
        body = await read_capped(response, self._config.max_response_bytes)
        images = await offload(len(body), images_from_body, body, response, variant)
        for image in images:
            self._check_image(image)
            progress.count(image)
            yield image

    async def _read_stream(
        self, response: httpx.Response, variant: int, progress: Progress
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
                    raise too_large(limit)
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
                raise AttemptFailed(
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
        event = await offload(len(sse.data), event_from_sse, sse, variant, request_id)
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

    async def _status_failure(self, response: httpx.Response) -> AttemptFailed:
        body = await read_capped(response, ERROR_BODY_LIMIT, truncate=True)
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
        return AttemptFailed(error, reason, status, response.headers, error_type)

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

    def _network_failure(self, exc: httpx.TransportError) -> AttemptFailed:
        reason, message = describe_network_error(exc, self._url, self._config)
        return AttemptFailed(NetworkError(message), reason)

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
