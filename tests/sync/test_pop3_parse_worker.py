"""Envelopes parsed in a child process: the same envelopes, in order, and never a lost message.

A large POP3 download parses in a child process; whatever goes wrong with the child, the
download parses the rest itself and stores exactly what an in-process parse would.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.harness.accounts import account, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.demo.mailbox import generate
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store.db import Store, open_store
from tuimail.sync import parse_worker, pop3_fetch
from tuimail.sync.accounts import sync_pop3
from tuimail.sync.parse_worker import Parsed

# Plenty of odd mail: malformed messages, attachments, HTML, encoded words, threads.
RAWS = [m.raw for m in generate(60, seed=11, malformed_every=5)]

# A child that answers the first chunk and then exits, as a crash would.
_DIES_AFTER_ONE = """\
import pickle, struct, sys
sys.path[:0] = {path!r}
from tuimail.mail.parse import envelope_from_bytes
source, sink = sys.stdin.buffer, sys.stdout.buffer
header = source.read(8)
raws = pickle.loads(source.read(struct.unpack("!Q", header)[0]))
blob = pickle.dumps([envelope_from_bytes(raw) for raw in raws])
sink.write(struct.pack("!Q", len(blob)) + blob)
sink.flush()
"""

# A child that answers every chunk with the wrong number of envelopes.
_ANSWERS_SHORT = """\
import pickle, struct, sys
source, sink = sys.stdin.buffer, sys.stdout.buffer
while header := source.read(8):
    source.read(struct.unpack("!Q", header)[0])
    blob = pickle.dumps([])
    sink.write(struct.pack("!Q", len(blob)) + blob)
    sink.flush()
"""

# A child that answers with the right number of things that are not envelopes.
_ANSWERS_NONSENSE = """\
import pickle, struct, sys
source, sink = sys.stdin.buffer, sys.stdout.buffer
while header := source.read(8):
    raws = pickle.loads(source.read(struct.unpack("!Q", header)[0]))
    blob = pickle.dumps([len(raw) for raw in raws])
    sink.write(struct.pack("!Q", len(blob)) + blob)
    sink.flush()
"""

# A child that sends bytes that are no pickle at all.
_ANSWERS_GARBAGE = """\
import struct, sys
source, sink = sys.stdin.buffer, sys.stdout.buffer
while header := source.read(8):
    source.read(struct.unpack("!Q", header)[0])
    sink.write(struct.pack("!Q", 5) + b"nope!")
    sink.flush()
"""


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several chunks, every one of them for the child (never parsed here to help it out)."""
    monkeypatch.setattr(parse_worker, "CHUNK_MESSAGES", 7)
    monkeypatch.setattr(parse_worker, "BEHIND", 10**6)


Parser = parse_worker.InlineParser | parse_worker.WorkerParser


async def parse_all(raws: list[bytes], *, worker: bool = True) -> tuple[Parsed, Parser]:
    parsed: Parsed = []
    async with parse_worker.envelope_parser(in_worker=worker) as parser:
        for n, raw in enumerate(raws, 1):
            parsed += await parser.put(n, raw)
        parsed += await parser.finish()
    return parsed, parser


def expected(raws: list[bytes]) -> Parsed:
    return [(n, raw, envelope_from_bytes(raw)) for n, raw in enumerate(raws, 1)]


@pytest.mark.usefixtures("small_chunks")
async def test_the_child_gives_the_same_envelopes_in_order() -> None:
    parsed, parser = await parse_all(RAWS)
    assert parsed == expected(RAWS)
    assert isinstance(parser, parse_worker.WorkerParser)
    assert parser._process is not None
    assert parser._process.returncode is not None  # ended with the download


@pytest.mark.usefixtures("small_chunks")
async def test_chunks_parsed_here_while_the_child_is_behind_keep_their_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parse_worker, "BEHIND", 1)
    parsed, _parser = await parse_all(RAWS)
    assert parsed == expected(RAWS)


@pytest.mark.usefixtures("small_chunks")
async def test_waiting_for_the_child_when_too_much_is_outstanding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parse_worker, "AHEAD_BYTES", 1)
    parsed, _parser = await parse_all(RAWS)
    assert parsed == expected(RAWS)


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    "child", [_DIES_AFTER_ONE, _ANSWERS_SHORT, _ANSWERS_NONSENSE, _ANSWERS_GARBAGE]
)
async def test_a_failing_child_costs_speed_not_messages(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, child: str
) -> None:
    monkeypatch.setattr(parse_worker, "_WORKER_CODE", child)
    with caplog.at_level(logging.WARNING, logger=parse_worker.__name__):
        parsed, _parser = await parse_all(RAWS)
    assert parsed == expected(RAWS)
    assert "parsing here" in caplog.text


@pytest.mark.usefixtures("small_chunks")
async def test_big_messages_are_parsed_here_in_their_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parse_worker, "CHUNK_BYTES", 2000)  # some generated messages are bigger
    assert any(len(raw) >= 2000 for raw in RAWS) and any(len(raw) < 2000 for raw in RAWS)
    parsed, _parser = await parse_all(RAWS)
    assert parsed == expected(RAWS)


async def test_no_child_when_none_can_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    parsed, _parser = await parse_all(RAWS)
    assert parsed == expected(RAWS)


async def test_small_downloads_parse_in_process() -> None:
    parsed, parser = await parse_all(RAWS[:5], worker=False)
    assert parsed == expected(RAWS[:5])
    assert isinstance(parser, parse_worker.InlineParser)


async def test_leaving_early_ends_the_child() -> None:
    with pytest.raises(RuntimeError, match="dropped"):
        async with parse_worker.envelope_parser(in_worker=True) as parser:
            for n, raw in enumerate(RAWS, 1):
                await parser.put(n, raw)
            process = parser._process  # type: ignore[union-attr]
            raise RuntimeError("dropped connection")
    assert process is not None and process.returncode is not None


async def rows(store: Store) -> list[tuple[object, ...]]:
    async with store.session() as session:
        result = await session.execute(
            text(
                'SELECT m.uidl, m.message_id, m.in_reply_to, m."references", m.date, '
                "m.from_name, m.from_email, m.to_addrs, m.cc_addrs, m.subject, m.size, "
                "m.has_attachments, m.preview, b.raw, u.uidl "
                "FROM messages m JOIN message_bodies b ON b.message_pk = m.id "
                "JOIN pop3_uidls u ON u.message_pk = m.id ORDER BY m.id"
            )
        )
        found = [tuple(row) for row in result]
    assert all(row[0] == row[-1] for row in found)  # each message with its own UIDL
    return [row[1:-1] for row in found]  # UIDLs differ between the two mailboxes


async def test_download_through_the_child_stores_what_an_inline_parse_stores(
    monkeypatch: pytest.MonkeyPatch, dovecot: Dovecot, tmp_path: Path
) -> None:
    monkeypatch.setattr(parse_worker, "CHUNK_MESSAGES", 4)
    monkeypatch.setattr(pop3_fetch, "BATCH_MESSAGES", 9)
    found = {}
    for label, threshold in (("inline", 10**9), ("worker", 1)):
        monkeypatch.setattr(pop3_fetch, "PARSE_WORKER_FROM", threshold)
        user: MailUser = dovecot.add_user()
        dovecot.deliver(user, RAWS)
        store = await open_store(tmp_path / label / "mail.sqlite3")
        try:
            summary = await sync_pop3(store, "x", account(pop3_table(dovecot, user)))
            assert summary.startswith(f"{len(RAWS)} new")
            found[label] = await rows(store)
        finally:
            await store.close()
    assert len(found["worker"]) == len(RAWS)
    assert found["worker"] == found["inline"]  # the same envelopes, in the same order


async def test_a_first_download_starts_its_child_before_logging_in_and_a_later_one_does_not(
    monkeypatch: pytest.MonkeyPatch, dovecot: Dovecot, tmp_path: Path
) -> None:
    events: list[str] = []
    start, login = parse_worker.WorkerParser.start, pop3_fetch.Pop3Client.login

    async def recorded_start(self: parse_worker.WorkerParser) -> None:
        events.append("child")
        await start(self)

    async def recorded_login(self: pop3_fetch.Pop3Client, *args: object) -> None:
        events.append("login")
        await login(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parse_worker.WorkerParser, "start", recorded_start)
    monkeypatch.setattr(pop3_fetch.Pop3Client, "login", recorded_login)
    monkeypatch.setattr(pop3_fetch, "PARSE_WORKER_FROM", 10)
    user: MailUser = dovecot.add_user()
    dovecot.deliver(user, RAWS[:30])
    store = await open_store(tmp_path / "mail.sqlite3")
    try:
        table = pop3_table(dovecot, user)
        assert (await sync_pop3(store, "x", account(table))).startswith("30 new")
        assert events == ["child", "login"]  # one child, started early and used
        events.clear()
        dovecot.deliver(user, RAWS[30:])
        assert (await sync_pop3(store, "x", account(table))).startswith("30 new")
        assert events == ["login", "child"]  # not a first download: started once needed
        assert len(await rows(store)) == len(RAWS)
    finally:
        await store.close()


async def test_a_child_started_early_for_a_small_download_is_ended_unused(
    monkeypatch: pytest.MonkeyPatch, dovecot: Dovecot, tmp_path: Path
) -> None:
    closed: list[bool] = []
    close = parse_worker.WorkerParser.close

    async def recorded_close(self: parse_worker.WorkerParser) -> None:
        closed.append(self._process is not None and self._process.returncode is None)
        await close(self)

    monkeypatch.setattr(parse_worker.WorkerParser, "close", recorded_close)
    monkeypatch.setattr(pop3_fetch, "PARSE_WORKER_FROM", 10**9)
    user: MailUser = dovecot.add_user()
    dovecot.deliver(user, RAWS[:5])
    store = await open_store(tmp_path / "mail.sqlite3")
    try:
        assert (await sync_pop3(store, "x", account(pop3_table(dovecot, user)))).startswith("5 new")
        assert closed and closed[0]  # the early child was running, and was ended
        assert len(await rows(store)) == 5
    finally:
        await store.close()
