"""A folder sync into a real store meets an IMAP server that turns hostile halfway through a
header FETCH (a relay in front of the private Dovecot plays the part). Each time: one clear
error line, bounded memory, a store that holds whole committed batches and passes SQLite's
integrity check, and a following sync straight to the same Dovecot that completes the folder.
FETCH data the sync did not ask for (another UID, the same UID twice) is legal IMAP: it is
ignored, the sync completes and nothing forged is stored.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.reliability.proxies import FetchMeddler, Meddling, stream_until_refused
from tuimail.demo.mailbox import generate
from tuimail.errors import ConnectionLost, ProtocolError, TuimailError
from tuimail.protocols import imap_session
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync import imap_sync
from tuimail.sync.imap_sync import sync_imap_account

pytestmark = pytest.mark.timeout(60)

COUNT = 30
BATCH = 10  # three header FETCHes for 30 messages; the misdeed strikes in the third


@dataclass(frozen=True)
class Case:
    """A misdeed and what the user must see because of it."""

    misdeed: Callable[[Meddling], Awaitable[bool]]
    error: type[TuimailError] | None  # None: the sync completes, ignoring what was forged
    message: str
    memory_mib: float | None = None  # measured with tracemalloc where the server floods
    timeout: float = 5.0


async def bye(m: Meddling) -> bool:
    m.client.write(b"* BYE shutting down for maintenance\r\n")
    m.client.close()
    return False


async def garbage(m: Meddling) -> bool:
    m.client.write(bytes(range(256)) * 4 + b"\r\n")
    return False


async def literal_4gb(m: Meddling) -> bool:
    head = b"* 99 FETCH (UID 99 BODY[] {4294967296}\r\n"
    await stream_until_refused(m.client, head, b"x" * 65536)
    return False


async def endless_line(m: Meddling) -> bool:
    await stream_until_refused(m.client, b'* 99 FETCH (UID 99 ENVELOPE ("', b"a" * 65536)
    return False


async def stall(m: Meddling) -> bool:
    return False  # relay nothing more; the server keeps the connection open


async def stray_tag(m: Meddling) -> bool:
    m.client.write(b"T1 OK [ALERT] forged completion of a command long finished\r\n")
    return False


async def never_ending(m: Meddling) -> bool:
    await stream_until_refused(m.client, b"", b"* OK still working on it\r\n" * 2048)
    return False


FORGED_UID = 4_000_000_000


async def unrequested_uid(m: Meddling) -> bool:
    forged = m.last_response.split(b" FETCH (", 1)[1]
    m.client.write(b"* 99 FETCH (UID %d " % FORGED_UID + forged.split(b" ", 2)[2])
    return True


async def repeated_uid(m: Meddling) -> bool:
    m.client.write(m.last_response)  # the same message a second time, inside the same reply
    return True


CASES = {
    "bye-mid-fetch": Case(bye, ConnectionLost, "closed the connection: shutting down"),
    "garbage": Case(garbage, ProtocolError, "sent an unexpected response"),
    "literal-4gb": Case(literal_4gb, ProtocolError, "announced 4 GiB of data", memory_mib=8),
    "endless-line": Case(endless_line, ProtocolError, "longer than 16 MiB", memory_mib=48),
    "stall": Case(stall, ConnectionLost, r"did not answer within 1 s", timeout=1.0),
    "stray-tag": Case(stray_tag, ProtocolError, "sent an unexpected response"),
    "never-ending": Case(
        never_ending, ProtocolError, "more than 5,000 responses nobody asked", memory_mib=16
    ),
    "unrequested-uid": Case(unrequested_uid, None, ""),
    "repeated-uid": Case(repeated_uid, None, ""),
}


def fill(dovecot: Dovecot, user: MailUser) -> None:
    dovecot.deliver(user, [m.raw for m in generate(COUNT, seed=5, malformed_every=0)])


async def stored_uids(store: Store) -> list[int]:
    async with store.session() as session:
        folder = await queries.folder_by_name(session, "x", "INBOX")
        rows = await queries.list_messages(session, folder.id)
    return sorted(r.uid for r in rows if r.uid is not None)


async def integrity(store: Store) -> str:
    async with store.session() as session:
        return str((await session.execute(text("PRAGMA integrity_check"))).scalar_one())


async def hostile_sync(store: Store, table: dict[str, Any]) -> TuimailError | None:
    """Sync through the relay; the error the user gets (None when the sync completes)."""
    try:
        await sync_imap_account(store, "x", account(table))
    except TuimailError as error:
        return error
    return None


@pytest.mark.parametrize("name", list(CASES))
async def test_a_server_turning_hostile_mid_fetch_leaves_a_store_the_next_sync_completes(
    store: Store,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    case = CASES[name]
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", BATCH)
    monkeypatch.setattr(imap_session, "MAX_UNCLAIMED", 5_000)  # a million takes too long here
    fill(dovecot, mail_user)
    hostile: dict[str, Any] = {"host": "127.0.0.1", "security": "none", "timeout": case.timeout}
    async with FetchMeddler(dovecot.imap_port, case.misdeed) as relay:
        table = imap_table(dovecot, mail_user, port=relay.port, **hostile)
        del table["imap"]["tls_ca_file"]
        if case.memory_mib is None:
            error = await hostile_sync(store, table)
        else:
            tracemalloc.start()
            try:
                error = await hostile_sync(store, table)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert peak < case.memory_mib * 2**20
        assert relay.struck.is_set(), "the misdeed never ran: the case tested nothing"

    assert await integrity(store) == "ok"
    if case.error is None:
        assert error is None
        assert await stored_uids(store) == list(range(1, COUNT + 1))  # nothing forged stored
    else:
        assert isinstance(error, case.error) and case.message in str(error)
        assert "\n" not in str(error) and "\x1b" not in str(error)
        # Newest first, whole batches: the two finished FETCHes are kept, the third is not.
        assert await stored_uids(store) == list(range(COUNT - 2 * BATCH + 1, COUNT + 1))

    good = imap_table(dovecot, mail_user)  # the same Dovecot, directly: same UIDVALIDITY
    await sync_imap_account(store, "x", account(good))
    assert await stored_uids(store) == list(range(1, COUNT + 1))
    assert await integrity(store) == "ok"
