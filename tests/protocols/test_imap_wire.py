"""The IMAP wire and the session's response stream, fed bytes directly (no sockets)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tuimail.errors import ConnectionLost, ProtocolError
from tuimail.protocols.imap_session import ImapSession
from tuimail.protocols.imap_wire import ImapWire


class RecordingTransport(asyncio.Transport):
    """Just enough of a transport: keeps what is written, knows whether it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def abort(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def wire(timeout: float = 1.0, max_line: int = 1000, max_literal: int = 1000) -> ImapWire:
    connection = ImapWire("test:143", timeout, max_line, max_literal)
    connection.connection_made(RecordingTransport())
    return connection


async def test_responses_with_literals_are_cut_whole_however_the_bytes_arrive() -> None:
    stream = (
        b"* 1 FETCH (BODY[] {12}\r\nline\r\n{3}\r\n\r\n)\r\n"
        b"* 2 EXISTS\r\n"
        b'* 3 FETCH (X {0}\r\n Y "z")\r\n'
        b"T1 OK done\r\n"
    )
    for chunk_size in (1, 2, 5, 17, len(stream)):
        connection = wire()
        cut: list[bytes] = []
        for start in range(0, len(stream), chunk_size):
            connection.data_received(stream[start : start + chunk_size])
            cut += connection.next_responses()
        assert cut == [
            b"* 1 FETCH (BODY[] {12}\r\nline\r\n{3}\r\n\r\n)",
            b"* 2 EXISTS",
            b'* 3 FETCH (X {0}\r\n Y "z")',
            b"T1 OK done",
        ]
        assert not connection.has_unread_data()


async def test_a_literal_over_the_limit_is_refused_when_announced() -> None:
    connection = wire(max_literal=100)
    connection.data_received(b"* 1 FETCH (BODY[] {101}\r\nabc")
    with pytest.raises(ProtocolError, match="announced 101 bytes of data, over the 100 bytes"):
        connection.next_response()
    assert not connection.is_open


async def test_silence_raises_connection_lost_after_the_timeout() -> None:
    connection = wire(timeout=0.05)
    connection.data_received(b"* 1 FETCH (partial")
    with pytest.raises(ConnectionLost, match=r"did not answer within 0\.05 s"):
        await connection.read_response()


async def test_responses_arriving_while_the_caller_works_are_read_without_waiting() -> None:
    connection = wire(timeout=0.5)
    session = ImapSession(connection)
    stream = session.stream([b"UID", b"FETCH", b"1:3", b"(FLAGS)"], "UID FETCH")
    batches: list[list[bytes]] = []
    connection.data_received(b"* 1 FETCH (FLAGS ())\r\n")
    async with contextlib.aclosing(stream):
        async for batch in stream:
            batches.append(batch)
            if len(batches) == 1:
                # The rest comes while we are busy; no byte arrives after this.
                connection.data_received(b"* 2 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS ())\r\n")
                connection.data_received(b"T1 OK done\r\n")
    assert batches == [
        [b"* 1 FETCH (FLAGS ())"],
        [b"* 2 FETCH (FLAGS ())", b"* 3 FETCH (FLAGS ())"],
    ]


async def test_news_after_the_tagged_reply_in_the_same_batch_becomes_events() -> None:
    connection = wire()
    session = ImapSession(connection)
    stream = session.stream([b"UID", b"FETCH", b"1", b"(FLAGS)"], "UID FETCH")
    connection.data_received(b"* 1 FETCH (FLAGS ())\r\nT1 OK done\r\n* 4 EXISTS\r\n")
    async with contextlib.aclosing(stream):
        batches = [batch async for batch in stream]
    assert batches == [[b"* 1 FETCH (FLAGS ())"]]
    assert [type(e).__name__ for e in session.take_events()] == ["Exists"]
