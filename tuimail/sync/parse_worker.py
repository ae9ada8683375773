"""Envelopes parsed in a child process, so that a large download uses a second core.

Parsing is most of the CPU work of downloading mail, and the process that downloads also
reads the network and drives the store's commits from one event loop. A child process
started for the download parses while this one reads and writes: raw messages go out on its
stdin in chunks, envelopes come back on its stdout in the same order, each chunk a pickle
behind its length. The child only ever sees message bytes and only sends back envelopes; it
imports nothing of ours but ``mail.parse`` and ends with the download.

This process still parses a chunk itself when the child falls behind, and any message big
enough that copying it over would cost more than parsing it (parsing reads only its headers and
first text part).

Nothing depends on the child: if it cannot start, dies or answers nonsense, whatever it had
is parsed here instead, in order, and the result is the same, only slower. Only the child's
own output is ever unpickled. If this process dies, the child reads the end of its input and
exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import struct
import sys
from collections import deque
from collections.abc import AsyncIterator

from tuimail.mail.envelope import Envelope
from tuimail.mail.parse import envelope_from_bytes

log = logging.getLogger(__name__)

CHUNK_MESSAGES = 128
CHUNK_BYTES = 4 * 1024 * 1024
AHEAD_BYTES = 16 * 1024 * 1024  # sent to the child and not yet back, at most
BEHIND = 2  # chunks the child has not answered yet, from which this process parses too
YIELD_EVERY = 8  # messages parsed here between two turns of the event loop

Parsed = list[tuple[int, bytes, Envelope]]

# The child: chunks of raw messages in on stdin, their envelopes out on stdout, in order, each
# a pickle behind its length. It imports nothing of ours but the parser, so it starts quickly.
# Envelopes and addresses go as a call of their class with the field values: the default
# pickling of a slotted dataclass runs dataclasses.fields() and a loop in Python for every one,
# which costs the child more than twice as much per message.
_WORKER_CODE = """\
import io, pickle, struct, sys
sys.path[:0] = {path!r}
from tuimail.mail.envelope import Address, Envelope
from tuimail.mail.parse import envelope_from_bytes
def envelope(e):
    return Envelope, (
        e.message_id, e.subject, e.from_, e.to, e.cc, e.reply_to, e.date, e.in_reply_to,
        e.references, e.size, e.has_attachments, e.preview,
    )
def address(a):
    return Address, (a.name, a.email)
source, sink = sys.stdin.buffer, sys.stdout.buffer
while header := source.read(8):
    raws = pickle.loads(source.read(struct.unpack("!Q", header)[0]))
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {{Envelope: envelope, Address: address}}
    pickler.dump([envelope_from_bytes(raw) for raw in raws])
    blob = out.getvalue()
    sink.write(struct.pack("!Q", len(blob)) + blob)
    sink.flush()
"""


class InlineParser:
    """Envelopes parsed here and at once: for small downloads."""

    async def put(self, msgno: int, raw: bytes) -> Parsed:
        return [(msgno, raw, envelope_from_bytes(raw))]

    async def finish(self) -> Parsed:
        return []


class WorkerParser:
    """Envelopes parsed in a child process, handed back in the order the messages came.

    ``put`` returns what is parsed by then (often nothing), ``finish`` all the rest. If the
    child cannot start or dies, what it had is parsed here instead: the same result, slower.
    The child only ever sees message bytes and only sends back envelopes.
    """

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._alive = False
        self._chunk: list[tuple[int, bytes]] = []
        self._chunk_bytes = 0
        # Chunks in order, each with its envelopes when it was parsed here rather than sent.
        self._sent: deque[tuple[list[tuple[int, bytes]], int, list[Envelope] | None]] = deque()
        self._sent_bytes = 0
        self._backlog = 0  # chunks the child has and has not answered yet
        self._replies: deque[list[Envelope]] = deque()
        self._replied = asyncio.Event()

    async def start(self) -> None:
        if not sys.executable or getattr(sys, "frozen", False):
            return  # no interpreter to start (an embedded or frozen build)
        code = _WORKER_CODE.format(path=[p for p in sys.path if p])
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
            log.info("cannot start the envelope parser process (%s); parsing here", error)
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

    async def put(self, msgno: int, raw: bytes) -> Parsed:
        if len(raw) >= CHUNK_BYTES:
            # Parsing reads little of a big message; shipping it would copy all of it twice.
            if self._chunk:
                await self._send()
            self._sent.append(([(msgno, raw)], 0, [envelope_from_bytes(raw)]))
        else:
            self._chunk.append((msgno, raw))
            self._chunk_bytes += len(raw)
            if (
                not self._alive
                or len(self._chunk) >= CHUNK_MESSAGES
                or self._chunk_bytes >= CHUNK_BYTES
            ):
                await self._send()
        parsed: Parsed = []
        # Take what is back already; wait only when too much is outstanding. Without a child,
        # what is queued is parsed here at once.
        while self._sent and (self._replies or not self._alive or self._sent_bytes > AHEAD_BYTES):
            parsed += await self._receive()
        return parsed

    async def finish(self) -> Parsed:
        if self._chunk:
            await self._send()
        parsed: Parsed = []
        while self._sent:
            parsed += await self._receive()
        return parsed

    async def _send(self) -> None:
        chunk, size = self._chunk, self._chunk_bytes
        self._chunk, self._chunk_bytes = [], 0
        if self._alive and self._backlog >= BEHIND:
            # The child is behind and this process has the time: share the work. (The
            # network and the commits wait meanwhile, but the RETR window keeps the server
            # busy, and the commit queue holds two batches.)
            envelopes = []
            for index, (_, raw) in enumerate(chunk, 1):
                envelopes.append(envelope_from_bytes(raw))
                if index % YIELD_EVERY == 0:
                    # A commit waits for a turn of the loop between each of its statements.
                    await asyncio.sleep(0)
            self._sent.append((chunk, size, envelopes))
            return
        self._sent.append((chunk, size, None))
        self._sent_bytes += size
        if not self._alive:
            return  # parsed here when its turn comes
        assert self._process is not None and self._process.stdin is not None
        blob = pickle.dumps([raw for _, raw in chunk], pickle.HIGHEST_PROTOCOL)
        try:
            # No drain(): AHEAD_BYTES bounds what is buffered, and the download goes on while
            # the child is still starting.
            self._process.stdin.write(struct.pack("!Q", len(blob)) + blob)
            self._backlog += 1
        except (OSError, RuntimeError) as error:  # the child has gone
            self._failed(error)

    async def _receive(self) -> Parsed:
        chunk, size, envelopes = self._sent.popleft()
        if envelopes is not None:
            return [(n, raw, e) for (n, raw), e in zip(chunk, envelopes, strict=True)]
        self._sent_bytes -= size
        while self._alive and not self._replies:
            self._replied.clear()
            await self._replied.wait()
        if self._replies:
            envelopes = self._replies.popleft()
            if len(envelopes) == len(chunk) and all(isinstance(e, Envelope) for e in envelopes):
                return [(n, raw, e) for (n, raw), e in zip(chunk, envelopes, strict=True)]
            self._failed(ValueError("a reply that does not match its chunk"))
        return [(n, raw, envelope_from_bytes(raw)) for n, raw in chunk]

    async def _read_replies(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        try:
            while True:
                header = await stdout.readexactly(8)
                blob = await stdout.readexactly(struct.unpack("!Q", header)[0])
                self._replies.append(pickle.loads(blob))
                self._backlog -= 1
                self._replied.set()
        except Exception as error:  # noqa: BLE001 - died, or sent what no parse of ours gives
            self._failed(error)

    def _failed(self, error: BaseException) -> None:
        if self._alive:
            log.warning("the envelope parser process failed (%r); parsing here", error)
        self._alive = False
        self._replies.clear()  # a reply cannot be matched to its chunk any more
        self._replied.set()
        if self._process is not None and self._process.returncode is None:
            self._process.kill()


@contextlib.asynccontextmanager
async def worker_started_early(start: bool) -> AsyncIterator[WorkerParser | None]:
    """A child parser started ahead of time (if ``start``), for ``envelope_parser``'s
    ``started``; it ends with this context at the latest, used or not.

    The child spends its start-up (an interpreter and the parser's imports, ~0.1 s of CPU)
    while the caller waits on the network, rather than while the download keeps both cores busy.
    """
    if not start:
        yield None
        return
    parser = WorkerParser()
    try:
        await parser.start()
        yield parser
    finally:
        await parser.close()


@contextlib.asynccontextmanager
async def envelope_parser(
    *, in_worker: bool, started: WorkerParser | None = None
) -> AsyncIterator[InlineParser | WorkerParser]:
    """A parser for one download; with ``in_worker`` in a child process, which ends with it.

    ``started`` is a child from ``worker_started_early``: used when ``in_worker``, else ended
    at once.
    """
    if not in_worker:
        if started is not None:
            await started.close()
        yield InlineParser()
        return
    parser = started
    try:
        if parser is None:
            parser = WorkerParser()
            await parser.start()
        yield parser
    finally:
        if parser is not None:
            await parser.close()
