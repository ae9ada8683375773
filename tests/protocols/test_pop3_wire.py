"""Tests for tuimail.protocols.pop3_wire: framing, dot-unstuffing and limits, without sockets."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.protocols.pop3_fake import dot_stuff
from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.protocols.pop3_wire import Pop3Wire
from tuimail.protocols.server_text import clean_server_text, format_size


class MemoryTransport(asyncio.Transport):
    """Records what the wire writes and whether it hung up."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.aborted = False
        self.paused = False

    def write(self, data: Any) -> None:
        self.written += data

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.aborted = True


async def make_wire(timeout: float = 5.0, max_line_length: int = 1024) -> Pop3Wire:
    wire = Pop3Wire("pop.example.com:995", timeout, max_line_length)
    wire.connection_made(MemoryTransport())
    return wire


async def feed(wire: Pop3Wire, chunks: list[bytes]) -> None:
    for chunk in chunks:
        wire.data_received(chunk)
        await asyncio.sleep(0)  # let the reader consume one chunk at a time


async def read_reply(chunks: list[bytes], limit: int = 1 << 20) -> bytes:
    wire = await make_wire()
    feeder = asyncio.create_task(feed(wire, chunks))
    assert await wire.read_status_line() == b"+OK"
    body = await wire.read_body(limit, "message 1")
    await feeder
    assert not wire.has_unread_data()
    return body


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


lines = st.lists(
    st.sampled_from([b"", b".", b"..", b".x", b"x.", b"\r", b"a\rb", b" .", b"text"]),
    max_size=12,
)


@given(lines=lines, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_dot_unstuffing_returns_exact_message_for_any_chunking(
    lines: list[bytes], cuts: list[int]
) -> None:
    message = b"".join(line + b"\r\n" for line in lines)
    wire_bytes = b"+OK\r\n" + dot_stuff(message)
    assert asyncio.run(read_reply(split(wire_bytes, cuts))) == message


@given(lines=lines, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_bare_lf_bodies_are_returned_as_sent(lines: list[bytes], cuts: list[int]) -> None:
    message = b"".join(line.replace(b"\r", b"") + b"\n" for line in lines)
    wire_bytes = b"+OK\n" + dot_stuff(message, b"\n")
    assert asyncio.run(read_reply(split(wire_bytes, cuts))) == message


async def test_empty_body_and_back_to_back_replies() -> None:
    wire = await make_wire()
    wire.data_received(b"+OK\r\n.\r\n+OK\r\n..\r\n.\r\n-ERR no\r\n")
    assert await wire.read_status_line() == b"+OK"
    assert await wire.read_body(100, "LIST") == b""
    assert await wire.read_status_line() == b"+OK"
    assert await wire.read_body(100, "LIST") == b".\r\n"
    assert await wire.read_status_line() == b"-ERR no"
    assert not wire.has_unread_data()


async def test_body_limit_counts_unstuffed_size_and_aborts_beyond_it() -> None:
    # 8 bytes once unstuffed (".." -> "."), 10 on the wire: within an 8-byte limit even
    # while the terminator has not arrived yet.
    assert await read_reply([b"+OK\r\n..a\r\n..b\r\n", b".\r\n"], limit=8) == b".a\r\n.b\r\n"
    wire = await make_wire()
    wire.data_received(b"+OK\r\n" + b"z" * 64)
    await wire.read_status_line()
    with pytest.raises(ProtocolError, match="more than 10 bytes for message 2"):
        await wire.read_body(10, "message 2")
    assert not wire.is_open


async def test_status_line_longer_than_limit_raises() -> None:
    wire = await make_wire(max_line_length=16)
    wire.data_received(b"+OK " + b"x" * 40 + b"\r\n")
    with pytest.raises(ProtocolError, match="longer than 16 bytes"):
        await wire.read_status_line()


async def test_eof_midway_raises_connection_lost() -> None:
    wire = await make_wire()
    wire.data_received(b"+OK\r\npartial")
    wire.eof_received()
    await wire.read_status_line()
    with pytest.raises(ConnectionLost, match="closed the connection"):
        await wire.read_body(100, "message 1")


async def test_reading_pauses_when_unrequested_data_piles_up() -> None:
    wire = await make_wire()
    transport = wire._transport
    assert isinstance(transport, MemoryTransport)
    wire.data_received(b"x" * (2 * 1024 * 1024))
    assert transport.paused


def test_send_refuses_embedded_line_breaks() -> None:
    async def attempt() -> None:
        wire = await make_wire()
        with pytest.raises(ProtocolError, match="line break"):
            wire.send(b"USER a\r\nDELE 1")

    asyncio.run(attempt())


def test_clean_server_text_strips_escapes_controls_and_bidi() -> None:
    raw = b"Login \x1b[31mfailed\x1b[0m\x07 \x1b]0;title\x07now\xe2\x80\xae\r\n\x00 \xff"
    assert clean_server_text(raw) == "Login failed now \ufffd"
    assert clean_server_text(b"a" * 500, 20) == "a" * 19 + "…"


def test_format_size() -> None:
    assert format_size(512) == "512 bytes"
    assert format_size(1024 * 1024) == "1 MiB"
    assert format_size(1536 * 1024) == "1.5 MiB"
    assert format_size(200 * 1024 * 1024) == "200 MiB"
