"""A store filled with generated mail, the same every time: for snapshots, screenshots, bench."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tuimail.config import LoadedConfig, parse_config
from tuimail.demo.mailbox import generate
from tuimail.mail.envelope import Envelope
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store import queries
from tuimail.store.db import Store, open_store
from tuimail.store.records import NewMessage

# "Now" for every deterministic picture: the index shows HH:MM for today's mail.
NOW = datetime(2026, 3, 14, 15, 30, tzinfo=UTC)
LOCAL_FOLDERS = (("INBOX", "inbox"), ("Sent", "sent"), ("Drafts", "drafts"), ("Trash", "trash"))


def fixed_clock() -> datetime:
    """The injectable clock of the snapshots."""
    return NOW


def offline_config(**ui: Any) -> LoadedConfig:
    """A config with one POP3 account that the app never contacts (start_sync=False)."""
    return parse_config(
        {
            "accounts": {
                "home": {
                    "email": "ann@example.org",
                    "pop3": {"host": "localhost", "port": 9, "security": "none"},
                }
            },
            "ui": ui,
        }
    )


def generated(count: int, seed: int, start: datetime) -> list[NewMessage]:
    """Generated messages as the POP3 download stores them (bytes, envelope, seen flag)."""
    return [
        NewMessage(
            envelope=envelope_from_bytes(message.raw),
            uidl=f"gen-{seed}-{n}",
            raw=message.raw,
            flags=frozenset({"\\Seen"}) if message.seen else frozenset(),
        )
        for n, message in enumerate(generate(count, seed=seed, start=start))
    ]


async def fill_store(store: Store, count: int = 250, seed: int = 7) -> dict[str, int]:
    """One POP3-style account "home": Inbox with ``count`` recent and a few old messages,
    an Archive folder, and the special folders. Returns folder ids by name."""
    # The newest message arrives ten minutes before NOW; 250 of them reach back to yesterday.
    recent_start = NOW - timedelta(minutes=7 * (count - 1) + 10)
    messages = generated(8, seed + 1, datetime(2024, 11, 2, 8, 0, tzinfo=UTC))
    messages += generated(count, seed, recent_start)
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", "ann@example.org")
        ids = {
            name: await queries.ensure_folder(session, account, name, role=role, is_local=True)
            for name, role in LOCAL_FOLDERS
        }
        ids["Archive"] = await queries.ensure_folder(session, account, "Archive", is_local=True)
        await queries.insert_messages(session, ids["INBOX"], messages)
        archived = generated(5, seed + 2, datetime(2026, 2, 1, 10, 0, tzinfo=UTC))
        await queries.insert_messages(session, ids["Archive"], archived)
        for folder in ids.values():
            await queries.refresh_counts(session, folder)
    return ids


async def add_newest(path: Path, envelope: Envelope, raw: bytes) -> None:
    """Store ``raw`` in home/INBOX of the store at ``path``; dated a minute before NOW, it is
    the newest message, so the index cursor starts on it."""
    store = await open_store(path)
    try:
        async with store.session() as session:
            inbox = await queries.folder_by_name(session, "home", "INBOX")
            dated = replace(envelope, date=NOW - timedelta(minutes=1))
            await queries.insert_messages(session, inbox.id, [NewMessage(dated, raw=raw)])
            await queries.refresh_counts(session, inbox.id)
    finally:
        await store.close()
