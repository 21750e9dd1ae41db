"""Compressed answers are inflated a bounded piece at a time (issue 15)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from app.client.errors import ProtocolError
from app.client.inflate import PIECE, CappedInflater

TEXT = b'{"data": [{"b64_json": "' + b"QUJD" * 50_000 + b'"}]}'


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def inflate(encoding: str, body: bytes, chunk: int = 1000) -> bytes:
    inflater = CappedInflater(encoding)
    out = []
    for start in range(0, len(body), chunk):
        out += list(inflater.feed(body[start : start + chunk]))
    out += list(inflater.finish())
    assert all(0 < len(piece) <= PIECE for piece in out)
    return b"".join(out)


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("", TEXT),
        ("identity", TEXT),
        ("gzip", gzip.compress(TEXT)),
        ("X-GZIP", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", raw_deflate(TEXT)),  # some servers send deflate without its zlib wrapper
        ("gzip, deflate", zlib.compress(gzip.compress(TEXT))),  # undone in reverse order
    ],
)
def test_every_encoding_asked_for_inflates_exactly(encoding: str, body: bytes) -> None:
    assert inflate(encoding, body) == TEXT
    assert inflate(encoding, body, chunk=len(body) or 1) == TEXT


def test_a_bomb_comes_out_a_piece_at_a_time() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    assert len(bomb) < 100_000
    pieces = CappedInflater("gzip").feed(bomb)  # the whole bomb in one network chunk
    first = next(pieces)
    assert len(first) == PIECE  # nothing more is inflated until it is asked for
    total = len(first) + sum(len(piece) for piece in pieces)
    assert total == 64 << 20


def test_an_encoding_not_asked_for_is_refused_by_name() -> None:
    with pytest.raises(ProtocolError, match=r"compressed its answer as 'br', which was not asked"):
        CappedInflater("br")
    with pytest.raises(ProtocolError, match="compressed its answer 4 times over"):
        CappedInflater("gzip, gzip, gzip, gzip")


def test_a_broken_body_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="the answer's compressed body is broken"):
        inflate("gzip", b"\x1f\x8b\x08\x00garbage" * 10)
    with pytest.raises(ProtocolError, match="the answer's compressed body is broken"):
        inflate("deflate", b"\x78\x9c" + b"\xff" * 100)
