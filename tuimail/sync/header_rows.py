"""Header FETCH responses made into rows for the store, here or in a child process.

A cold sync of 100k messages spends most of its CPU on parsing ENVELOPEs, and the process that
parses also reads the network and drives the store's commits from one event loop. A large
fetch therefore sends its responses, a buffer-full at a time, to a child process that parses
them and sends back each message's column values (``store.message_values``): flat tuples of
strings and numbers, which cost a fraction of a parse to unpickle. When the child falls behind,
this process parses the next batch itself, so both cores stay busy.

Nothing depends on the child: if it cannot start, dies or answers nonsense, its batches are
parsed here instead, in order, and the result is the same, only slower. A response the parser
rejects is parsed here again, so the error is raised here, where it was before. Only the
child's own output is ever unpickled; if this process dies, the child reads the end of its
input and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import struct
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator

from tuimail.protocols.imap_headers import parse_header_fetch
from tuimail.protocols.imap_records import HeaderRecord
from tuimail.store.message_values import UID_AT, MessageValues, message_values
from tuimail.store.records import NewMessage

log = logging.getLogger(__name__)

IN_CHILD_FROM = 5000  # messages: below this, starting a child costs more than it saves
AHEAD_BYTES = 16 * 1024 * 1024  # responses sent to the child and not yet back, at most
BEHIND = 2  # batches the child has not answered yet, from which this process parses too

Batches = list[tuple[list[bytes], Iterable[MessageValues | None]]]

# The child: batches of responses in on stdin, their rows out on stdout, in order, each a
# pickle behind its length; a batch it cannot parse comes back as None. It imports only the
# parser and the row builder, so it starts while the first FETCH is on its way.
_CHILD_CODE = """\
import pickle, struct, sys
sys.path[:0] = {path!r}
from tuimail.sync.header_rows import values_of_responses
source, sink = sys.stdin.buffer, sys.stdout.buffer
while header := source.read(8):
    batch = pickle.loads(source.read(struct.unpack("!Q", header)[0]))
    try:
        rows = list(values_of_responses(batch))
    except Exception:
        rows = None
    blob = pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)
    sink.write(struct.pack("!Q", len(blob)) + blob)
    sink.flush()
"""


def values_of(record: HeaderRecord) -> MessageValues:
    """The store's column values for a message known by its header FETCH."""
    return message_values(
        NewMessage(
            record.envelope, record.uid, None, record.flags, record.internal_date, record.modseq
        )
    )


def values_of_responses(batch: Iterable[bytes]) -> Iterator[MessageValues | None]:
    """Each response's column values; None for a response that is not a header FETCH."""
    for response in batch:
        record = parse_header_fetch(response)
        yield None if record is None else values_of(record)


class InlineRowParser:
    """Rows parsed here, one response at a time as the caller takes them."""

    def uid_of(self, item: MessageValues) -> int:
        uid = item[UID_AT]
        assert isinstance(uid, int)
        return uid

    async def put(self, batch: list[bytes]) -> Batches:
        return [(batch, values_of_responses(batch))]

    async def finish(self) -> Batches:
        return []


class WorkerRowParser(InlineRowParser):
    """Rows parsed in a child process, handed back in the order the responses came."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._alive = False
        # Batches in order, each with its rows when it was parsed here rather than sent.
        self._sent: deque[tuple[list[bytes], int, Iterable[MessageValues | None] | None]] = deque()
        self._sent_bytes = 0
        self._backlog = 0  # batches the child has and has not answered yet
        self._replies: deque[list[MessageValues | None] | None] = deque()
        self._replied = asyncio.Event()
        self.answered = 0  # batches the child answered

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        """The child, while there is one."""
        return self._process

    async def start(self) -> None:
        if not sys.executable or getattr(sys, "frozen", False):
            return  # no interpreter to start (an embedded or frozen build)
        code = _CHILD_CODE.format(path=[p for p in sys.path if p])
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",  # our sys.path only: the child imports what we would
                "-c",
                code,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as error:
            log.info("cannot start the header parser process (%s); parsing here", error)
            return
        self._alive = True
        self._reader = asyncio.create_task(self._read_replies())

    async def close(self) -> None:
        self._alive = False
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._process is not None:
            if self._process.returncode is None:
                self._process.kill()
            await self._process.wait()

    async def put(self, batch: list[bytes]) -> Batches:
        size = sum(map(len, batch))
        if not self._alive or self._backlog >= BEHIND:
            # No child, or it is behind and this process has the time: share the work. The
            # rows are made as the caller takes them, a group at a time between loop turns.
            self._sent.append((batch, 0, values_of_responses(batch)))
        else:
            assert self._process is not None and self._process.stdin is not None
            blob = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
            self._sent.append((batch, size, None))
            self._sent_bytes += size
            try:
                # No drain(): AHEAD_BYTES bounds what is buffered.
                self._process.stdin.write(struct.pack("!Q", len(blob)) + blob)
                self._backlog += 1
            except (OSError, RuntimeError) as error:  # the child has gone
                self._failed(error)
        done: Batches = []
        # Hand back what is ready in order; wait only when too much is outstanding.
        while self._sent and (
            self._sent[0][2] is not None or self._replies or self._sent_bytes > AHEAD_BYTES
        ):
            done.append(await self._receive())
        return done

    async def finish(self) -> Batches:
        done: Batches = []
        while self._sent:
            done.append(await self._receive())
        return done

    async def _receive(self) -> tuple[list[bytes], Iterable[MessageValues | None]]:
        batch, size, rows = self._sent.popleft()
        if rows is not None:
            return batch, rows
        self._sent_bytes -= size
        while self._alive and not self._replies:
            self._replied.clear()
            await self._replied.wait()
        if self._replies:
            reply = self._replies.popleft()
            if reply is not None and len(reply) == len(batch):
                return batch, reply
            if reply is not None:
                self._failed(ValueError("a reply that does not match its batch"))
        # Parsed here: the child failed, or the batch holds something the parser rejects,
        # whose error is then raised here as it would be without a child.
        return batch, values_of_responses(batch)

    async def _read_replies(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        try:
            while True:
                header = await stdout.readexactly(8)
                blob = await stdout.readexactly(struct.unpack("!Q", header)[0])
                self._replies.append(pickle.loads(blob))
                self._backlog -= 1
                self.answered += 1
                self._replied.set()
        except Exception as error:  # noqa: BLE001 - died, or sent what no parse of ours gives
            self._failed(error)

    def _failed(self, error: BaseException) -> None:
        if self._alive:
            log.warning("the header parser process failed (%r); parsing here", error)
        self._alive = False
        self._replies.clear()  # a reply cannot be matched to its batch any more
        self._replied.set()
        if self._process is not None and self._process.returncode is None:
            self._process.kill()


@contextlib.asynccontextmanager
async def row_parser(messages: int) -> AsyncIterator[InlineRowParser]:
    """A parser for a fetch of ``messages`` headers: in a child process from IN_CHILD_FROM on,
    which ends with this context."""
    if messages < IN_CHILD_FROM:
        yield InlineRowParser()
        return
    parser = WorkerRowParser()
    try:
        await parser.start()
        yield parser
    finally:
        await parser.close()
