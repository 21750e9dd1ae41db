"""The SSE reader: bytes in any chunking, every line end, long lines in linear time."""

from __future__ import annotations

import time
from itertools import pairwise

from httpx_sse._decoders import SSELineDecoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.client.sse import EventDecoder, LineSplitter

LINE_ENDS = ["\n", "\r\n", "\r"]


def decode(chunks: list[bytes]) -> list[tuple[str, str]]:
    decoder = EventDecoder()
    return [(e.event, e.data) for chunk in chunks for e in decoder.feed(chunk)]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


# --- lines ------------------------------------------------------------------------------


def test_every_line_end_ends_a_line() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\nb\r\nc\rd") == [b"a", b"b", b"c"]
    assert splitter.flush() == b"d"
    assert splitter.flush() is None


def test_a_crlf_split_across_chunks_is_one_line_end() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"data: a\r") == [b"data: a"]
    assert splitter.feed(b"\n") == []
    assert splitter.feed(b"\r") == [b""]
    assert splitter.feed(b"\nnext\n") == [b"next"]


def test_a_lone_cr_ends_a_line_at_once() -> None:
    """The point of our splitter: the event is out before the next chunk comes."""
    decoder = EventDecoder()
    events = decoder.feed(b"data: a\r\r")
    assert [(e.event, e.data) for e in events] == [("message", "a")]


def test_httpx_sse_holds_back_a_chunks_final_cr() -> None:
    """Why we split lines ourselves. If this starts failing, httpx-sse was fixed and its
    own line decoder could do the job."""
    decoder = SSELineDecoder()
    assert decoder.decode("data: a\r\r") == ["data: a"]  # the blank line is held back


def test_lines_survive_one_byte_chunks_and_multibyte_text() -> None:
    data = "data: héllo wörld ✓\r\n\r\n".encode()
    assert decode([data[i : i + 1] for i in range(len(data))]) == [("message", "héllo wörld ✓")]


# --- events -----------------------------------------------------------------------------


def test_comments_multiline_data_event_names_and_done() -> None:
    stream = (
        b": keep-alive\n\n"
        b"event: image_edit.partial_image\n"
        b": a comment inside an event\n"
        b'data: {"a":\n'
        b"data: 1}\n\n"
        b"event: error\ndata: oops\n\n"
        b"data: [DONE]\n\n"
    )
    assert decode([stream]) == [
        ("image_edit.partial_image", '{"a":\n1}'),
        ("error", "oops"),
        ("message", "[DONE]"),
    ]


def test_a_byte_order_mark_at_the_start_is_dropped() -> None:
    assert decode([b"\xef\xbb", b"\xbfdata: x\n\n"]) == [("message", "x")]


def test_the_event_left_open_at_the_end_is_handed_back() -> None:
    decoder = EventDecoder()
    assert decoder.feed(b'data: whole\n\ndata: {"half') != []
    leftover = decoder.finish()
    assert leftover is not None and leftover.data == '{"half'
    assert EventDecoder().finish() is None


def test_a_data_line_of_tens_of_megabytes_is_read_in_linear_time() -> None:
    """Four 25 MB events through a naive parser took 41 s; this must stay near-instant."""
    line = b"data: " + b"A" * (30 * 1024 * 1024) + b"\r\n\r\n"
    chunks = [line[i : i + 65536] for i in range(0, len(line), 65536)]
    decoder = EventDecoder()
    started = time.perf_counter()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    elapsed = time.perf_counter() - started
    assert len(events) == 1 and len(events[0].data) == 30 * 1024 * 1024
    assert elapsed < 3.0, f"{elapsed:.2f} s for one 30 MB line"


def test_a_long_data_line_stays_bytes_without_its_field_name() -> None:
    """Decoding 25 MB to text is a copy that holds the GIL for milliseconds: the line's
    own buffer is handed on, only its "data: " dropped."""
    body = b'{"b64_json": "' + b"A" * 100_000 + b'"}'
    stream = b"event: image_edit.completed\r\ndata: " + body + b"\r\n\r\n"
    for cut in (50, 70_000, len(stream) - 3):
        decoder = EventDecoder()
        events = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert [e.event for e in events] == ["image_edit.completed"]
        assert isinstance(events[0].data, bytearray) and events[0].data == body


def test_a_long_data_line_among_short_ones_is_joined_as_bytes() -> None:
    long = b"B" * 100_000
    events = EventDecoder().feed(b"data: x\ndata:" + long + b"\nid: 7\n\n")
    assert [(e.data, e.id) for e in events] == [(b"x\n" + long, "7")]


def test_many_short_lines_in_one_chunk_are_linear_too() -> None:
    chunk = b"data: x\n\n" * 200_000
    started = time.perf_counter()
    assert len(EventDecoder().feed(chunk)) == 200_000
    assert time.perf_counter() - started < 3.0


# --- any chunking -----------------------------------------------------------------------

text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
    max_size=40,
)
names = st.sampled_from(["", "image_edit.partial_image", "image_edit.completed", "error"])
events = st.lists(
    st.tuples(names, st.lists(text, min_size=1, max_size=4), st.booleans()),
    min_size=1,
    max_size=6,
)


def encode(items: list[tuple[str, list[str], bool]], ends: list[str]) -> bytes:
    """Events as SSE text, the k-th line ending in ``ends[k % len(ends)]``."""
    lines: list[str] = []
    for name, data, comment in items:
        if comment:
            lines.append(": keep-alive")
        if name:
            lines.append(f"event: {name}")
        lines += [f"data: {d}" for d in data]
        lines.append("")
    line_ends = [ends[k % len(ends)] for k in range(len(lines))]
    for k in range(len(lines) - 1):
        # "\r" then an empty line ending in "\n" reads as one CRLF: a different stream,
        # not a chunking problem, so such a pair is written as CRLF and CR.
        if line_ends[k] == "\r" and lines[k + 1] == "" and line_ends[k + 1] == "\n":
            line_ends[k], line_ends[k + 1] = "\r\n", "\r"
    return "".join(line + end for line, end in zip(lines, line_ends, strict=True)).encode()


def expected(items: list[tuple[str, list[str], bool]]) -> list[tuple[str, str]]:
    return [(name or "message", "\n".join(data)) for name, data, _ in items]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(events, st.sampled_from(LINE_ENDS), st.lists(st.integers(0, 10_000), max_size=30))
def test_any_chunking_of_a_stream_yields_the_same_events(
    items: list[tuple[str, list[str], bool]], end: str, cuts: list[int]
) -> None:
    stream = encode(items, [end])
    assert decode(split_at(stream, cuts)) == expected(items)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    events,
    st.lists(st.sampled_from(LINE_ENDS), min_size=1, max_size=7),
    st.lists(st.integers(0, 10_000), max_size=30),
)
def test_mixed_line_ends_in_any_chunking_yield_the_same_events(
    items: list[tuple[str, list[str], bool]], ends: list[str], cuts: list[int]
) -> None:
    stream = encode(items, ends)
    assert decode(split_at(stream, cuts)) == decode([stream]) == expected(items)


@settings(max_examples=100, deadline=None)
@given(events, st.sampled_from(LINE_ENDS))
def test_one_byte_chunks_yield_the_same_events(
    items: list[tuple[str, list[str], bool]], end: str
) -> None:
    stream = encode(items, [end])
    assert decode([stream[i : i + 1] for i in range(len(stream))]) == expected(items)
