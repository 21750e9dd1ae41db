"""Server-sent events from bytes in any chunking.

httpx-sse's own line splitter works on text and holds back a chunk's final CR until the
next chunk arrives (it might be the first half of a CRLF). With CR line ends that delays
an event, a whole partial image, until the server sends anything else, which can be tens
of seconds. So lines are split here, on bytes: a CR ends its line at once and a LF right
after it, even in the next chunk, is skipped. Every step is linear in the bytes received,
so a single data line of tens of megabytes costs no more than many small ones. The lines
then go to httpx-sse's decoder, which applies the SSE field rules (``event``, ``data``,
multi-line data, ``:`` comments, ``id``, ``retry``)."""

from __future__ import annotations

from httpx_sse import ServerSentEvent
from httpx_sse._decoders import SSEDecoder  # the field rules; only the line splitting is ours

_BOM = b"\xef\xbb\xbf"


class LineSplitter:
    """Bytes in, complete lines out (without their line end). LF, CRLF and CR end a line."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF is its pair

    @property
    def pending_size(self) -> int:
        """Bytes of the line not yet ended."""
        return self._pending_size

    def feed(self, chunk: bytes) -> list[bytes]:
        if not chunk:
            return []
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        if len(lines) == 1:
            if chunk:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
            return []
        if self._pending:
            # Joined once, when the line ends: never re-scanned, never copied per chunk.
            lines[0] = b"".join([*self._pending, lines[0]])
        tail = lines.pop()
        self._pending = [tail] if tail else []
        self._pending_size = len(tail)
        return lines

    def flush(self) -> bytes | None:
        """The last line when the stream ended without a line end, else None."""
        if not self._pending:
            return None
        line = b"".join(self._pending)
        self._pending = []
        self._pending_size = 0
        return line


class EventDecoder:
    """Feed it chunks as they arrive; it returns the events they complete."""

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self._fields = SSEDecoder()
        self._first_line = True

    def completes_a_long_line(self, chunk: bytes, limit: int) -> bool:
        """Whether feeding ``chunk`` ends a line longer than ``limit``: joining and decoding
        tens of megabytes takes tens of milliseconds, worth a worker thread."""
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
        return self._fields.decode("")

    def _decode(self, raw: bytes) -> ServerSentEvent | None:
        if self._first_line:
            self._first_line = False
            raw = raw.removeprefix(_BOM)
        return self._fields.decode(raw.decode("utf-8", errors="replace"))
