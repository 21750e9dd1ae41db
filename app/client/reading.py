"""``AnswerReader``: one attempt's successful answer read into image events, streamed
(server-sent events) or whole (JSON).

Every image is checked on its header before it is handed on, and counted against the
request's caps (``image_caps``): images past them are ignored, not decoded, with one
``JobWarning`` per kind, so a server cannot fill the disk. The caps do not assume an order:
the final image may come before the partials. Every wait for the network is held to the
edit's deadlines, and only an image handed on resets the idle one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

import httpx

from app.client.answers import (
    Extra,
    GarbledEvent,
    ImageEvent,
    check_image,
    content_kind,
    event_from_sse,
    images_from_body,
    is_done,
)
from app.client.attempts import AttemptFailed, Progress
from app.client.config import ClientConfig
from app.client.deadlines import Deadlines
from app.client.errors import NetworkError, ProtocolError, status_line
from app.client.inflate import body_pieces
from app.client.sse import EventDecoder, ServerSentEvent
from app.client.transport import INLINE_LIMIT, offload, read_capped
from app.core.events import (
    COMPLETED_TYPE,
    EXTRA_FINALS,
    EXTRA_PARTIALS,
    PARTIAL_TYPE,
    JobWarning,
    PartialImage,
)


class AnswerReader:
    def __init__(
        self,
        config: ClientConfig,
        response: httpx.Response,
        *,
        variant: int,
        progress: Progress,
        deadlines: Deadlines,
        warn: Callable[[JobWarning], None],
    ) -> None:
        self._config = config
        self._response = response
        self._variant = variant
        self._progress = progress
        self._deadlines = deadlines
        self._warn = warn
        self._request_id = response.headers.get("x-request-id")

    async def events(self, streaming: bool) -> AsyncGenerator[ImageEvent, None]:
        kind = content_kind(self._response.headers.get("content-type", ""))
        streamed = kind == "sse" or (kind == "other" and streaming)
        answer = self._stream() if streamed else self._whole()
        async with aclosing(answer) as events:
            async for event in events:
                yield event
                self._deadlines.image_arrived()  # once the caller has it: idle from now

    async def _whole(self) -> AsyncGenerator[ImageEvent, None]:
        progress, response = self._progress, self._response
        body = await read_capped(
            response, self._config.max_response_bytes, wait=self._deadlines.wait
        )
        room = None if progress.max_finals is None else progress.max_finals - progress.finals
        images, extra = await offload(
            len(body), images_from_body, body, response, self._variant, room
        )
        if extra:
            progress.ignore(COMPLETED_TYPE)
            self._warn_extra(COMPLETED_TYPE, extra)
        for image in images:
            self._check_image(image)
            progress.count(image)
            yield image

    async def _stream(self) -> AsyncGenerator[ImageEvent, None]:
        decoder = EventDecoder()
        progress = self._progress
        done = False
        pieces = body_pieces(
            self._response, self._config.max_response_bytes, wait=self._deadlines.wait
        )
        async with aclosing(pieces):
            async for chunk in pieces:
                if decoder.completes_a_long_line(chunk, INLINE_LIMIT):
                    completed = await asyncio.to_thread(decoder.feed, chunk)
                else:
                    completed = decoder.feed(chunk)
                for sse in completed:
                    done = is_done(sse)
                    if done:
                        break
                    event = await self._event(sse)
                    if event is not None:
                        yield event
                # All that was asked for has come and the server sends more: stop reading.
                done = done or (progress.full and bool(progress.ignored))
                if done:
                    break
        leftover = None if done else decoder.finish()
        if leftover is not None and not is_done(leftover):
            # The last event lacks its closing blank line: usable if it is whole JSON.
            try:
                event = await self._event(leftover)
            except GarbledEvent:
                raise AttemptFailed(
                    NetworkError("the stream ended in the middle of an event."), "stream cut off"
                ) from None
            if event is not None:
                yield event
        if not progress.finals:
            got = f"after {progress.describe()}" if progress.delivered else "without any image"
            raise ProtocolError(
                f"{status_line(self._response.status_code)}: the stream ended {got} and no "
                "final image came; try again."
            )

    async def _event(self, sse: ServerSentEvent) -> ImageEvent | None:
        """The image an event carries, checked and counted; None for anything else."""
        if not sse.data:
            return None
        progress = self._progress
        # A multi-image stream's partials carry no image index: they belong to the image
        # that completes next (the last one, once all have).
        last = None if progress.max_finals is None else progress.max_finals - 1
        variant = self._variant + (progress.finals if last is None else min(progress.finals, last))
        event = await offload(
            len(sse.data), event_from_sse, sse, variant, self._request_id, progress.has_room
        )
        if isinstance(event, Extra):
            if progress.ignore(event.kind):
                self._warn_extra(event.kind)
            return None
        if event is not None:
            self._check_image(event)
            progress.count(event)
        return event

    def _warn_extra(self, kind: str, count: int | None = None) -> None:
        finals = self._progress.max_finals or 1
        who = f"variant {self._variant + 1}: " if finals == 1 else ""
        many = f" ({count})" if count else ""
        if kind == PARTIAL_TYPE:
            code, limit = EXTRA_PARTIALS, self._progress.max_partials or 0
            asked = f"partial_images {limit // finals}" + (f" x {finals}" if finals > 1 else "")
            what = f"more than the {_images(limit, 'partial image')} asked for ({asked})"
            if self._progress.partials_unset:
                what = (
                    f"more than {_images(limit, 'partial image')}, the most kept when "
                    "partial_images is unset"
                )
            elif not limit:
                what = f"partial images when none were asked for ({asked})"
        else:
            code = EXTRA_FINALS
            what = f"more than the {_images(finals, 'image')} asked for (n {finals})"
        text = (
            f"{who}the server sent {what}; the extra ones{many} are ignored and not saved. "
            "The server is broken or hostile."
        )
        self._warn(JobWarning(code, text, self._variant, self._request_id))

    def _check_image(self, event: ImageEvent) -> None:
        # On this thread, not a worker: probing sets warning filters, which are global.
        if isinstance(event, PartialImage):
            label = f"partial image {event.partial_index + 1} of variant {event.variant + 1}"
        else:
            label = f"the final image of variant {event.variant + 1}"
        check_image(event.data, label, self._config.max_image_pixels)


def _images(count: int, what: str) -> str:
    return f"{count} {what}" + ("s" if count != 1 else "")
