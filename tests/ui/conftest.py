"""Fixtures for the interface: stores filled by a real POP3 sync, or generated for pictures."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness.accounts import account, config, imap_table, pop3_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.mailstore import NOW, fill_store, fixed_clock, offline_config
from tuimail.config import LoadedConfig
from tuimail.demo.mailbox import generate
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_account
from tuimail.ui.app import TuimailApp

SYNCED = 40  # messages delivered to Dovecot and downloaded by POP3 before each flow test


@dataclass
class SyncedMailbox:
    """A store filled by a real POP3 sync from the private Dovecot, and its config."""

    path: Path
    config: LoadedConfig
    dovecot: Dovecot
    user: MailUser
    table: dict[str, Any]

    def app(self, **kwargs: Any) -> TuimailApp:
        """The app on this store, with the fixed clock and no sync unless asked."""
        kwargs.setdefault("start_sync", False)
        kwargs.setdefault("clock", fixed_clock)
        return TuimailApp(self.config, store_path=self.path, **kwargs)


def deliver_generated(dovecot: Dovecot, user: MailUser, count: int, seed: int) -> list[bytes]:
    """Deliver generated mail (dated up to NOW) into the user's Dovecot INBOX."""
    start = NOW.replace(hour=6)
    raws = [m.raw for m in generate(count, seed=seed, start=start, malformed_every=0)]
    dovecot.deliver(user, raws)
    return raws


async def download(dovecot: Dovecot, user: MailUser, path: Path) -> dict[str, Any]:
    """Deliver generated mail to ``user`` and download it by POP3 into a new store at ``path``."""
    deliver_generated(dovecot, user, SYNCED, seed=11)
    table = pop3_table(dovecot, user)
    store = await open_store(path)
    try:
        outcome = await sync_account(store, "home", account(table))
    finally:
        await store.close()
    assert outcome.ok, outcome.summary
    return table


async def synced_imap_app(data_dir: Path, dovecot: Dovecot, user: MailUser) -> TuimailApp:
    """The app on a new store filled by a real IMAP sync of ``user``'s mailbox (account "work")."""
    table = imap_table(dovecot, user)
    path = data_dir / "mail.sqlite3"
    store = await open_store(path)
    try:
        assert (await sync_account(store, "work", account(table))).ok
    finally:
        await store.close()
    return TuimailApp(config(work=table), store_path=path, clock=fixed_clock, start_sync=False)


@pytest.fixture(scope="session")
def synced_template(
    dovecot: Dovecot, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, MailUser, dict[str, Any]]:
    """One real POP3 download per run; the flow tests each get a copy of its store."""
    user = dovecot.add_user()
    path = tmp_path_factory.mktemp("synced") / "mail.sqlite3"
    table = asyncio.run(download(dovecot, user, path))
    return path, user, table


@pytest.fixture
def synced(
    data_dir: Path, dovecot: Dovecot, synced_template: tuple[Path, MailUser, dict[str, Any]]
) -> SyncedMailbox:
    """A private copy of a store filled by a real POP3 sync (its server mailbox is shared:
    tests that sync again use ``fresh_synced``)."""
    template, user, table = synced_template
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "mail.sqlite3"
    shutil.copyfile(template, path)
    return SyncedMailbox(path, config(home=table), dovecot, user, table)


@pytest.fixture
async def fresh_synced(data_dir: Path, dovecot: Dovecot, mail_user: MailUser) -> SyncedMailbox:
    """A store downloaded from a mailbox of its own, for tests that change the server's mail."""
    path = data_dir / "mail.sqlite3"
    table = await download(dovecot, mail_user, path)
    return SyncedMailbox(path, config(home=table), dovecot, mail_user, table)


@pytest.fixture(scope="session")
def generated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated store, made once per run (each test gets a copy)."""
    path = tmp_path_factory.mktemp("generated") / "mail.sqlite3"

    async def fill() -> None:
        store = await open_store(path)
        try:
            await fill_store(store)
        finally:
            await store.close()

    asyncio.run(fill())
    return path


@pytest.fixture
def generated_store(data_dir: Path, generated_template: Path) -> Path:
    """A private copy of the generated store for pictures (no server: the same every run)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "mail.sqlite3"
    shutil.copyfile(generated_template, path)
    return path


@pytest.fixture
def picture_app(generated_store: Path) -> Iterator[Any]:
    """A factory of apps on the generated store with the fixed clock."""

    def make(**ui: Any) -> TuimailApp:
        return TuimailApp(
            offline_config(**ui), store_path=generated_store, clock=fixed_clock, start_sync=False
        )

    yield make
