"""A server whose EXAMINE reports a new UIDVALIDITY each time while SELECT's is stable: the
cache is kept and the folder SELECTed from then on. Played by a proxy in front of the real
Dovecot that rewrites EXAMINE's UIDVALIDITY (no real server here plays it on demand)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.relay import Relay
from tuimail.demo.mailbox import generate
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.imap_sync import sync_imap_account

UIDVALIDITY = re.compile(rb"^\* OK \[UIDVALIDITY (\d+)\]")


class UnstableExamineProxy(Relay):
    """A TCP proxy to Dovecot's plain IMAP port that gives every EXAMINE a new UIDVALIDITY."""

    def __init__(self, dovecot: Dovecot) -> None:
        super().__init__(dovecot.imap_port)
        self.verbs: list[bytes] = []  # SELECT/EXAMINE lines the client sent
        self._bump = itertools.count(1)

    async def relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        examining = asyncio.Event()  # this session's EXAMINE awaits its reply
        await asyncio.gather(
            self._client_side(reader, up_writer, examining),
            self._server_side(up_reader, writer, examining),
        )

    async def _client_side(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, examining: asyncio.Event
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                verb = line.split(b" ", 2)[1:2]
                if verb and verb[0].upper() in (b"SELECT", b"EXAMINE"):
                    self.verbs.append(line.split(b" ", 1)[1].rstrip())
                    if verb[0].upper() == b"EXAMINE":
                        examining.set()
                writer.write(line)
                await writer.drain()

    async def _server_side(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, examining: asyncio.Event
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                found = UIDVALIDITY.match(line)
                if examining.is_set() and found:
                    fake = int(found[1]) + next(self._bump)
                    line = b"* OK [UIDVALIDITY %d]" % fake + line[found.end() :]
                if examining.is_set() and not line.startswith(b"*"):
                    examining.clear()  # the tagged reply ends the EXAMINE
                writer.write(line)
                await writer.drain()


def opened(proxy: UnstableExamineProxy, folder: str = "INBOX") -> list[str]:
    """The verbs that opened ``folder`` through the proxy, in order."""
    return [
        verb.split()[0].decode()
        for verb in proxy.verbs
        if verb.split()[1].strip(b'"') == folder.encode()
    ]


async def inbox_ids(store: Store) -> list[int]:
    async with store.session() as session:
        inbox = await queries.folder_by_name(session, "x", "INBOX")
        return await queries.folder_message_ids(session, inbox.id)


async def test_a_cache_is_kept_when_only_examine_reports_a_new_uidvalidity(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(25, seed=1)])
    direct = {"host": "127.0.0.1", "port": dovecot.imap_port, "security": "none"}
    await sync_imap_account(store, "x", account(imap_table(dovecot, mail_user, **direct)))
    before = await inbox_ids(store)
    async with UnstableExamineProxy(dovecot) as proxy:
        cfg = account(imap_table(dovecot, mail_user, **{**direct, "port": proxy.port}))
        summaries = []
        for seed in (2, 3):
            dovecot.deliver(mail_user, [m.raw for m in generate(1, seed=seed)])
            summaries.append(await sync_imap_account(store, "x", cfg))
    assert [s.split(",")[0] for s in summaries] == ["1 new", "1 new"], summaries
    # Once EXAMINE has disagreed, the folder is SELECTed: EXAMINE is not tried again.
    assert opened(proxy) == ["EXAMINE", "SELECT", "SELECT"]
    assert set(before) <= set(await inbox_ids(store))


async def test_a_folder_first_seen_under_an_unstable_examine_is_rebuilt_at_most_once(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    dovecot.deliver(mail_user, [m.raw for m in generate(25, seed=1)])
    async with UnstableExamineProxy(dovecot) as proxy:
        table = imap_table(dovecot, mail_user, host="127.0.0.1", port=proxy.port, security="none")
        cfg = account(table)
        summaries = [await sync_imap_account(store, "x", cfg)]
        for seed in (2, 3, 4):
            dovecot.deliver(mail_user, [m.raw for m in generate(1, seed=seed)])
            summaries.append(await sync_imap_account(store, "x", cfg))
    # The first pass cached the UIDVALIDITY of an EXAMINE, which SELECT does not confirm.
    assert [s.split(",")[0] for s in summaries] == ["25 new", "26 new", "1 new", "1 new"]
    assert opened(proxy) == ["EXAMINE", "EXAMINE", "SELECT", "SELECT", "SELECT"]
