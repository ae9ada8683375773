"""POP3 download against the private Dovecot: nothing lost, nothing twice, deletes after commit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.harness.accounts import account, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.demo.mailbox import generate
from tuimail.errors import AuthError, ConnectionLost
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.sync.accounts import sync_pop3
from tuimail.sync.interface import SyncProgress


def maildir_count(user: MailUser) -> int:
    return sum(len(list((user.maildir / sub).iterdir())) for sub in ("cur", "new"))


async def stored(store: Store, name: str = "x") -> dict[str, bytes]:
    async with store.session() as session:
        rows = await session.execute(
            text(
                "SELECT m.message_id, b.raw FROM messages m JOIN folders f ON f.id = m.folder_id "
                "JOIN accounts a ON a.id = f.account_id "
                "JOIN message_bodies b ON b.message_pk = m.id WHERE a.name = :n"
            ),
            {"n": name},
        )
        pairs = list(rows)
    ids = [p[0] for p in pairs]
    assert len(ids) == len(set(ids)), "a message was stored twice"
    return dict(pairs)


def deliver(dovecot: Dovecot, user: MailUser, count: int, seed: int = 5) -> dict[str, bytes]:
    messages = list(generate(count, seed=seed, malformed_every=0))
    dovecot.deliver(user, [m.raw for m in messages])
    return {m.message_id: m.raw for m in messages}


async def run(store: Store, dovecot: Dovecot, user: MailUser, **server: Any) -> str:
    return await sync_pop3(store, "x", account(pop3_table(dovecot, user, **server)))


async def test_download_is_byte_exact_and_leaves_mail_on_the_server(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    originals = deliver(dovecot, mail_user, 25)
    summary = await run(store, dovecot, mail_user)
    assert summary.startswith("25 new, 0 deleted")
    assert await stored(store) == originals
    assert maildir_count(mail_user) == 25


async def test_second_run_downloads_only_new_uidls(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    first = deliver(dovecot, mail_user, 10, seed=1)
    await run(store, dovecot, mail_user)
    second = deliver(dovecot, mail_user, 4, seed=2)
    assert (await run(store, dovecot, mail_user)).startswith("4 new")
    assert (await run(store, dovecot, mail_user)).startswith("0 new")
    assert await stored(store) == first | second


async def test_leave_on_server_false_deletes_only_after_storing(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    originals = deliver(dovecot, mail_user, 30)
    summary = await run(store, dovecot, mail_user, leave_on_server=False)
    assert summary.startswith("30 new, 30 deleted")
    assert maildir_count(mail_user) == 0
    assert await stored(store) == originals


async def test_delete_after_days_keeps_young_mail(
    store: Store, dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(dovecot, mail_user, 6)
    assert (await run(store, dovecot, mail_user, delete_after_days=3)).startswith(
        "6 new, 0 deleted"
    )
    assert maildir_count(mail_user) == 6
    # Four days later the stored copies are old enough to go.
    later = time.time() + 4 * 86_400
    monkeypatch.setattr("tuimail.sync.pop3_fetch.time.time", lambda: later)
    assert (await run(store, dovecot, mail_user, delete_after_days=3)).startswith(
        "0 new, 6 deleted"
    )
    assert maildir_count(mail_user) == 0
    assert len(await stored(store)) == 6


async def test_messages_land_in_the_local_inbox_with_special_folders(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver(dovecot, mail_user, 3)
    await run(store, dovecot, mail_user)
    async with store.session() as session:
        folders = await queries.folders(session, await queries.account_id(session, "x"))
    assert [(f.name, f.role, f.is_local) for f in folders][:4] == [
        ("INBOX", "inbox", True),
        ("Drafts", "drafts", True),
        ("Sent", "sent", True),
        ("Trash", "trash", True),
    ]
    assert folders[0].total_count == 3 and folders[0].unread_count == 3


@pytest.mark.parametrize("auth", ["plain", "user", "apop"])
async def test_each_login_mechanism_works(
    store: Store, dovecot: Dovecot, mail_user: MailUser, auth: str
) -> None:
    deliver(dovecot, mail_user, 2)
    assert (await run(store, dovecot, mail_user, auth=auth)).startswith("2 new")
    assert f"method={auth.upper() if auth != 'user' else 'PLAIN'}" in dovecot.log or auth == "user"


async def test_starttls_on_the_plain_port(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver(dovecot, mail_user, 2)
    summary = await run(store, dovecot, mail_user, port=dovecot.pop3_port, security="starttls")
    assert summary.startswith("2 new")


async def test_wrong_password_is_an_auth_error_and_stores_nothing(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver(dovecot, mail_user, 2)
    with pytest.raises(AuthError, match="refused"):
        await run(store, dovecot, mail_user, password="wrong")
    assert await stored(store) == {}
    assert maildir_count(mail_user) == 2


async def test_progress_reports_messages_and_bytes(
    store: Store, dovecot: Dovecot, mail_user: MailUser
) -> None:
    originals = deliver(dovecot, mail_user, 12)
    seen: list[SyncProgress] = []
    await sync_pop3(store, "x", account(pop3_table(dovecot, mail_user)), seen.append)
    assert seen[-1].done == seen[-1].total == 12
    assert seen[-1].bytes_done >= sum(len(r) for r in originals.values()) - 12 * 200


async def test_store_survives_unplugged_network(
    store: Store, dovecot: Dovecot, mail_user: MailUser, tmp_path: Path
) -> None:
    deliver(dovecot, mail_user, 5)
    await run(store, dovecot, mail_user, leave_on_server=False)
    # The server is gone (wrong port): the mail is still readable from the store.
    with pytest.raises(ConnectionLost, match=r"127\.0\.0\.1"):
        await run(store, dovecot, mail_user, port=1)
    assert len(await stored(store)) == 5
