"""ImageEditClient: image edits over HTTP, streamed or not, with the official SDK's retry
policy, caps a hostile server cannot get past, and prompt cancellation.

Close what you iterate: wrap ``edit()`` and ``variants()`` in ``contextlib.aclosing`` when you
may stop early, so the connection closes at once instead of when the generator is collected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from types import TracebackType
from typing import Any

import httpx

from app import __version__
from app.client.answers import (
    ImageEvent,
    describe_network_error,
    describe_non_json,
    error_info,
)
from app.client.attempts import (
    AttemptFailed,
    Finished,
    Progress,
    first_failure,
    image_caps,
    is_int,
    retry_delay,
)
from app.client.config import ClientConfig
from app.client.deadlines import Deadlines
from app.client.errors import (
    ApiError,
    ClientError,
    NetworkError,
    status_line,
)
from app.client.inflate import ACCEPT_ENCODING
from app.client.multipart import MultipartBody, build_body
from app.client.reading import AnswerReader
from app.client.retry import RetryNotice, RetryPolicy
from app.client.scrub import Scrubber
from app.client.transport import endpoint_url, read_capped, tls_context
from app.core.events import JobWarning
from app.core.request import EditRequest
from app.core.schema import Schema, load_schema

log = logging.getLogger(__name__)
ERROR_BODY_LIMIT = 1 << 20  # an error answer is a small JSON object; read no more than this


async def prepare() -> None:
    """Do the client's one-off set-up (the TLS context) in a worker thread, so that making
    an ImageEditClient afterwards costs the calling thread nothing noticeable."""
    await asyncio.to_thread(tls_context)


class ImageEditClient:
    """Sends image edits to one provider. Use it as an async context manager, or call
    ``aclose()``. ``on_retry`` hears about each retry before its wait; ``on_warning`` about
    what a job worked around (images beyond those asked for, ignored), else it is logged.
    Nothing handed out (events, notices, warnings, errors) holds the API key."""

    def __init__(
        self,
        config: ClientConfig,
        schema: Schema | None = None,
        *,
        on_retry: Callable[[RetryNotice], None] | None = None,
        on_warning: Callable[[JobWarning], None] | None = None,
    ) -> None:
        self._config = config
        self._schema = schema or load_schema()
        self._on_retry = on_retry
        self._on_warning = on_warning
        self._scrubber = Scrubber(config.api_key)
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
            # Only what app.client.inflate can inflate under the size cap.
            headers={
                "User-Agent": f"retouch-studio/{__version__}",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
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
        Images beyond what the request asks for are ignored with a warning. Held to the
        config's ``idle_timeout`` and ``job_timeout``. Raises ApiError, NetworkError
        (TimedOut when a deadline passes), ProtocolError or InputError."""
        scrub = self._scrubber
        try:
            deadlines = Deadlines(self._config)
            body = await self._body(request)
            streaming = request.values.get("stream") is True
            max_partials, max_finals = image_caps(request, self._schema)
            unset = request.get("partial_images") is None
            retries = 0
            while True:
                progress = Progress(
                    max_partials=max_partials, max_finals=max_finals, partials_unset=unset
                )
                try:
                    attempt = self._attempt(body, streaming, variant, progress, deadlines)
                    async with aclosing(attempt) as events:
                        async for event in events:
                            yield scrub.record(event)
                    return
                except AttemptFailed as failure:
                    delay = retry_delay(
                        self._policy, failure, retries, progress, self._config.read_timeout
                    )
                    if not deadlines.leaves_time_for(delay):
                        raise failure.error.retext(
                            f"{failure.error}; not tried again: the job timeout "
                            f"({self._config.job_timeout:g} s, job_timeout) would pass first"
                        ) from None
                    reason = failure.reason
                retries += 1
                if self._on_retry is not None:
                    self._on_retry(scrub.record(RetryNotice(retries, delay, reason)))
                await self._sleep(delay)
        except Exception as exc:
            clean = scrub.error(exc)
            if not isinstance(clean, ClientError):
                raise  # a bug, with its whole story
        # Outside the handler, and without what it came from (an httpx error, the failed
        # attempt and its headers): nothing raw is reachable from what leaves the client.
        clean.__context__ = clean.__cause__ = None
        raise clean

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
        self,
        body: MultipartBody,
        streaming: bool,
        variant: int,
        progress: Progress,
        deadlines: Deadlines,
    ) -> AsyncGenerator[ImageEvent, None]:
        upload = body.open()
        headers = self._headers(body, streaming, variant)
        request = self._http.build_request("POST", self._url, content=upload, headers=headers)
        try:
            response = await deadlines.wait(self._http.send(request, stream=True))
            try:
                deadlines.answer_began(progress)
                if not response.is_success:
                    raise await self._status_failure(response, deadlines)
                reader = AnswerReader(
                    self._config,
                    response,
                    variant=variant,
                    progress=progress,
                    deadlines=deadlines,
                    warn=self._warn,
                )
                async with aclosing(reader.events(streaming)) as events:
                    async for event in events:
                        yield event
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise self._network_failure(exc) from None
        finally:
            deadlines.attempt_ended()
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

    def _warn(self, warning: JobWarning) -> None:
        warning = self._scrubber.record(warning)
        if self._on_warning is not None:
            self._on_warning(warning)
        else:
            log.warning("%s", warning.message)

    # --- failures ---------------------------------------------------------------------

    async def _status_failure(
        self, response: httpx.Response, deadlines: Deadlines
    ) -> AttemptFailed:
        body = await read_capped(response, ERROR_BODY_LIMIT, truncate=True, wait=deadlines.wait)
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
