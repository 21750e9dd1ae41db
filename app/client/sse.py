"""Server-sent events from bytes in any chunking.

httpx-sse's own line splitter works on text and holds back a chunk's final CR until the
next chunk arrives (it might be the first half of a CRLF). With CR line ends that delays
an event, a whole partial image, until the server sends anything else, which can be tens
of seconds. So lines are split here, on bytes: a CR ends its line at once and a LF right
after it, even in the next chunk, is skipped. Every step is linear in the bytes received,
so a single data line of tens of megabytes costs no more than many small ones. The SSE
field rules (``event``, ``data``, multi-line data, ``:`` comments, ``id``, ``retry``) are
those of httpx-sse's decoder.

An image event's data line is tens of megabytes. Every whole-line copy of it (a join, a
decode to text, a slice) is one C call that holds the GIL for 5-15 ms, stalling the UI
thread although the work runs in a worker thread. So a line is collected chunk by chunk
into one growing buffer (each append a short copy), and a long ``data`` line is handed on
as that buffer, bytes, never turned into text: base64 is ASCII and the consumer
(app.core.events.loads_images_json) reads bytes."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"
# Lines longer than this keep their data as bytes; shorter ones are decoded to text as
# httpx-sse would (every small event, [DONE], errors, keep-alives).
LONG_LINE = 1 << 16


@dataclass(frozen=True)
class ServerSentEvent:
    """One event. ``data`` is text, except for an event whose data came in one line longer
    than LONG_LINE: then it is that line's bytes (a bytearray, not copied again)."""

    event: str = "message"
    data: str | bytearray = ""
    id: str = ""
    retry: int | None = None


class LineSplitter:
    """Bytes in, complete lines out (without their line end). LF, CRLF and CR end a line.
    A line that spans chunks comes out as a bytearray, the others as bytes."""

    def __init__(self) -> None:
        # Appended to as chunks come: a realloc grows it (mremap for big blocks, no copy),
        # so completing a 25 MB line costs one chunk's copy, not a 25 MB join.
        self._pending = bytearray()
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF is its pair

    @property
    def pending_size(self) -> int:
        """Bytes of the line not yet ended."""
        return len(self._pending)

    def feed(self, chunk: bytes) -> list[bytes | bytearray]:
        if not chunk:
            return []
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines: list[bytes | bytearray] = list(chunk.split(b"\n"))
        if len(lines) == 1:
            self._pending += chunk
            return []
        if self._pending:
            self._pending += lines[0]
            lines[0] = self._pending
        tail = lines.pop()
        self._pending = bytearray(tail)
        return lines

    def flush(self) -> bytearray | None:
        """The last line when the stream ended without a line end, else None."""
        if not self._pending:
            return None
        line, self._pending = self._pending, bytearray()
        return line


class EventDecoder:
    """Feed it chunks as they arrive; it returns the events they complete."""

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self._first_line = True
        self._event = ""
        self._data: list[str | bytearray] = []
        self._last_event_id = ""
        self._retry: int | None = None

    def completes_a_long_line(self, chunk: bytes, limit: int) -> bool:
        """Whether feeding ``chunk`` ends a line longer than ``limit``: such a line is worth
        a worker thread (its last copies and the scans after it take milliseconds)."""
        if self._lines.pending_size + len(chunk) <= limit:
            return False
        return b"\n" in chunk or b"\r" in chunk

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        events = []
        for line in self._lines.feed(chunk):
            event = self._decode(line)
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> ServerSentEvent | None:
        """At the end of the stream: the event still open, if any (its last blank line never
        came). The SSE spec drops it; the caller decides whether it is usable."""
        line = self._lines.flush()
        if line is not None:
            self._decode(line)
        return self._dispatch()

    def _decode(self, raw: bytes | bytearray) -> ServerSentEvent | None:
        if self._first_line:
            self._first_line = False
            if isinstance(raw, bytearray):
                if raw.startswith(_BOM):
                    del raw[: len(_BOM)]
            else:
                raw = raw.removeprefix(_BOM)
        if not raw:
            return self._dispatch()
        if len(raw) > LONG_LINE and raw.startswith(b"data:"):
            prefix = 6 if raw[5:6] == b" " else 5
            data = raw if isinstance(raw, bytearray) else bytearray(raw)
            del data[:prefix]  # from the front of a bytearray: O(1), nothing is copied
            self._data.append(data)
            return None
        self._field(raw.decode("utf-8", errors="replace"))
        return None

    def _field(self, line: str) -> None:
        """httpx-sse's SSEDecoder rules for a non-blank line (WHATWG event-stream parsing)."""
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._last_event_id = value
        elif name == "retry":
            with suppress(ValueError):  # a malformed retry is ignored, as the spec says
                self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent | None:
        """The blank line: the event collected so far, if any."""
        if not self._event and not self._data and not self._last_event_id and self._retry is None:
            return None
        data: str | bytearray
        if all(isinstance(part, str) for part in self._data):
            data = "\n".join(self._data)  # type: ignore[arg-type]
        elif len(self._data) == 1:
            data = self._data[0]
        else:  # a long data line among others: rare, joined as bytes
            data = bytearray(
                b"\n".join(p.encode() if isinstance(p, str) else p for p in self._data)
            )
        # As the SSE spec says, the last event id is kept for the next event.
        event = ServerSentEvent(self._event or "message", data, self._last_event_id, self._retry)
        self._event = ""
        self._data = []
        self._retry = None
        return event
