"""What the crash tests of tests/reliability check after a kill: the store as it was left (read
with plain sqlite3, as the next start finds it) against the server's truth (read with imaplib).
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import shutil
import sqlite3
import ssl
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.dovecot import Dovecot, MailUser
from tuimail.store.db import open_store
from tuimail.store.records import FLAG_COLUMNS


@dataclass(frozen=True)
class Mail:
    """One message as the user sees it: which message, its flags and its size."""

    message_id: str
    flags: frozenset[str]
    size: int


ServerState = dict[str, dict[int, Mail]]
"""Folder -> uid -> Mail: what a server, or the store, holds."""


@dataclass
class StoreSnapshot:
    """The IMAP folders of a store: uid -> Mail, and rows still waiting for their server copy."""

    folders: ServerState = field(default_factory=dict)
    placeholders: dict[str, list[str]] = field(default_factory=dict)
    pending_actions: int = 0

    def message_ids(self) -> Counter[str]:
        """How many times each message appears over all folders, placeholders included."""
        found: Counter[str] = Counter()
        for mails in self.folders.values():
            found.update(m.message_id for m in mails.values())
        for ids in self.placeholders.values():
            found.update(ids)
        return found


def check_store(path: Path) -> StoreSnapshot:
    """Open the store as it was left: it must be intact, and then say what it holds."""
    snapshot = StoreSnapshot()
    if not path.exists():
        return snapshot
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            assert "messages" not in tables, "a schema without its version"
            return snapshot  # killed before the first migration was committed
        dupes = db.execute(
            "SELECT folder_id, uid FROM messages WHERE uid IS NOT NULL "
            "GROUP BY folder_id, uid HAVING count(*) > 1"
        ).fetchall()
        assert dupes == [], f"(folder, uid) stored twice: {dupes[:5]}"
        # Search must never point at a message that is gone, nor miss one that is there: a
        # message not in the index yet must wait in fts_pending, which a search indexes first.
        orphans = db.execute(
            "SELECT count(*) FROM messages_fts WHERE rowid NOT IN (SELECT id FROM messages)"
        ).fetchone()[0]
        pending = "fts_pending" in tables
        unindexed = db.execute(
            "SELECT count(*) FROM messages m WHERE id NOT IN (SELECT rowid FROM messages_fts)"
            + (
                " AND NOT EXISTS (SELECT 1 FROM fts_pending p "
                "WHERE m.id BETWEEN p.first_id AND p.last_id)"
                if pending
                else ""
            )
        ).fetchone()[0]
        assert (orphans, unindexed) == (0, 0), "the search index disagrees with the messages"
        columns = ", ".join(f"m.{c}" for c in FLAG_COLUMNS.values())
        rows = db.execute(
            f"SELECT f.name, m.uid, m.message_id, m.size, m.keywords, {columns} "
            "FROM messages m JOIN folders f ON f.id = m.folder_id WHERE NOT f.is_local"
        ).fetchall()
        snapshot.pending_actions = db.execute("SELECT count(*) FROM pending_actions").fetchone()[0]
    finally:
        db.close()
    for folder, uid, message_id, size, keywords, *bits in rows:
        if uid is None:
            snapshot.placeholders.setdefault(folder, []).append(message_id)
            continue
        flags = {name for name, bit in zip(FLAG_COLUMNS, bits, strict=True) if bit}
        flags.update(keywords.split())
        snapshot.folders.setdefault(folder, {})[uid] = Mail(message_id, frozenset(flags), size)
    return snapshot


def empty_store(directory: Path) -> Path:
    """A new store with its schema, as the first start of tuimail leaves it."""
    path = directory / "mail.sqlite3"

    async def create() -> None:
        await (await open_store(path)).close()

    asyncio.run(create())
    return path


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a closed store (and its WAL, if one was left) in a directory of its own."""
    target.mkdir(parents=True)
    for path in source.parent.glob(source.name + "*"):
        if not path.name.endswith(".lock"):
            shutil.copy(path, target / path.name)
    return target / source.name


def wait_until_logged_out(dovecot: Dovecot, user: MailUser, timeout: float = 15.0) -> None:
    """Wait until Dovecot has no session of ``user`` left: a killed client's last command
    (a MOVE, say) runs to its end on the server after the client is gone."""
    doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
    deadline = time.monotonic() + timeout
    while True:
        listed = subprocess.run(
            [doveadm, "-c", str(dovecot.root / "dovecot.conf"), "who", "-1", user.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if user.name not in listed:
            return
        assert time.monotonic() < deadline, f"{user.name} is still logged in to Dovecot"
        time.sleep(0.02)  # Dovecot announces no session end; poll its own session list


_FETCH = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)|RFC822\.SIZE (\d+)")


def server_folders(dovecot: Dovecot, user: MailUser) -> ServerState:
    """Every folder on the server, read with the stdlib's imaplib: uid -> Mail."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    folders: ServerState = {}
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context) as imap:
        imap.login(user.name, user.password)
        _, listed = imap.list()
        for line in listed:
            assert isinstance(line, bytes)
            name = line.rsplit(b' "/" ', 1)[1].strip(b'"').decode()
            folders[name] = _fetch_all(imap, name)
        imap.logout()
    return folders


def _fetch_all(imap: imaplib.IMAP4_SSL, folder: str) -> dict[int, Mail]:
    status, data = imap.select(f'"{folder}"', readonly=True)
    assert status == "OK", data
    if data == [b"0"]:
        return {}
    _, fetched = imap.uid(
        "FETCH", "1:*", "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    )
    mails: dict[int, Mail] = {}
    for part in fetched:
        if not isinstance(part, tuple):
            continue
        meta, header = part
        uid = flags = size = None
        for match in _FETCH.finditer(meta):
            uid = int(match[1]) if match[1] else uid
            flags = match[2].decode() if match[2] is not None else flags
            size = int(match[3]) if match[3] else size
        assert uid is not None and flags is not None and size is not None, meta
        message_id = header.decode().partition(":")[2].strip()
        names = frozenset(f for f in flags.split() if f != "\\Recent")
        mails[uid] = Mail(message_id, names, size)
    return mails


def assert_stored_rows_are_the_servers(snapshot: StoreSnapshot, server: ServerState) -> None:
    """Every row the store has under a uid is that uid's message on the server."""
    for folder, mails in snapshot.folders.items():
        on_server = server.get(folder, {})
        for uid, mail in mails.items():
            assert uid in on_server, f"{folder}/{uid} is stored but not on the server"
            there = on_server[uid]
            assert (mail.message_id, mail.size) == (there.message_id, there.size), (
                f"{folder}/{uid}: stored {mail} but the server has {there}"
            )


def assert_store_matches_server(snapshot: StoreSnapshot, server: ServerState) -> None:
    """After a completed run: the same folders, uids, messages and flags, nothing pending."""
    assert snapshot.placeholders == {}
    assert snapshot.pending_actions == 0
    for folder, mails in server.items():
        stored = snapshot.folders.get(folder, {})
        assert set(stored) == set(mails), (
            f"{folder}: missing {sorted(set(mails) - set(stored))[:10]}, "
            f"extra {sorted(set(stored) - set(mails))[:10]}"
        )
        wrong = [uid for uid in mails if stored[uid] != mails[uid]]
        assert wrong == [], f"{folder}: differs at {[(stored[u], mails[u]) for u in wrong[:3]]}"
    assert set(snapshot.folders) <= set(server)
