"""Keys sent faster than the store answers: whatever the timing, the index as drawn, the folder's
unread count, the store and (after the queued changes are replayed) Dovecot all agree."""

from __future__ import annotations

import asyncio
import imaplib
import re
import sqlite3
import ssl
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual import events
from textual.pilot import Pilot

from tests.harness.accounts import account, config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.conftest import deliver_generated
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import screen_text, settle, wait_for
from tests.ui.store_state import message_states
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_account
from tuimail.sync.service import StoreMailService
from tuimail.sync.watch import FolderWatcher
from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_index import MessageIndex

MESSAGES = 6
# (seen, flagged) per message
Flags = dict[int, tuple[bool, bool]]
KEYS = st.sampled_from(["F", "N", "j", "k", "enter"])


async def burst(pilot: Pilot[None], keys: list[str]) -> None:
    """Send every key at once, the way a terminal delivers keys typed in quick succession."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(pilot.app)
        driver.send_message(event)


def drawn_flags(app: TuimailApp) -> Flags:
    """Each index line's N and ! columns, read from the screen as the terminal shows it."""
    index = app.screen.query_one(MessageIndex)
    region = index.content_region
    lines = screen_text(app).splitlines()
    shown: Flags = {}
    for y in range(min(region.height, index.count - index.top)):
        cells = lines[region.y + y][region.x : region.x + 4]
        assert cells.strip() != "…", "a line still waits for its row"
        shown[index._order[index.top + y]] = (cells[0] != "N", cells[2] == "!")
    return shown


def drawn_unread(app: TuimailApp, folder_id: int) -> int:
    """The unread count beside the folder's name in the tree."""
    tree = app.screen.query_one(FolderTree)
    label = str(tree._folder_nodes[folder_id].label)
    found = re.search(r" (\d+)$", label)
    return int(found.group(1)) if found else 0


def server_flags(dovecot: Dovecot, user: MailUser) -> dict[int, tuple[bool, bool]]:
    """(seen, flagged) by UID, as Dovecot holds them."""
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    imap = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    try:
        imap.login(user.name, user.password)
        imap.select("INBOX", readonly=True)
        _status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    finally:
        imap.logout()
    flags = {}
    for item in data:
        text = item.decode() if isinstance(item, bytes) else str(item)
        uid = re.search(r"UID (\d+)", text)
        assert uid is not None, text
        flags[int(uid.group(1))] = ("\\Seen" in text, "\\Flagged" in text)
    return flags


def store_uids(path: Path) -> dict[int, int]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT id, uid FROM messages").fetchall())
    finally:
        connection.close()


def expected(order: list[int], start: Flags, keys: list[str]) -> Flags:
    """What a user expects: j/k move the cursor, F and N toggle its message, Enter reads it."""
    flags, cursor = dict(start), 0
    for key in keys:
        current = order[cursor]
        seen, flagged = flags[current]
        if key == "j":
            cursor = min(cursor + 1, len(order) - 1)
        elif key == "k":
            cursor = max(cursor - 1, 0)
        elif key == "F":
            flags[current] = (seen, not flagged)
        elif key == "N":
            flags[current] = (not seen, flagged)
        elif key == "enter":
            flags[current] = (True, flagged)
    return flags


def stored_flags(path: Path) -> Flags:
    return {pk: (seen, flagged) for pk, (_f, seen, flagged) in message_states(path).items()}


def pending(path: Path) -> int:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM pending_actions").fetchone()[0])
    finally:
        connection.close()


async def scenario(dovecot: Dovecot, keys: list[str], seed: int) -> None:
    """Keys sent at once to the app on an IMAP account whose open folder is watched (IDLE):
    the watcher replays each queued change and syncs the folder while the keys still land."""
    user = dovecot.add_user()
    deliver_generated(dovecot, user, MESSAGES, seed=seed)
    table: dict[str, Any] = {**imap_table(dovecot, user), "poll_interval": 3600}
    loaded = config(work=table)
    watchers: list[FolderWatcher] = []

    def recording(*args: Any, **kwargs: Any) -> FolderWatcher:
        watchers.append(FolderWatcher(*args, **kwargs))
        return watchers[-1]

    def quiet() -> bool:
        return bool(watchers) and watchers[-1].idling.is_set() and pending(path) == 0

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mail.sqlite3"
        store = await open_store(path)
        try:
            service = StoreMailService(store, loaded, watcher=recording)
            app = TuimailApp(loaded, service=service, clock=fixed_clock)
            async with app.run_test(size=(160, 48)) as pilot:
                await settle(pilot)
                await wait_for(pilot, quiet, 20)
                await settle(pilot)
                index = app.screen.query_one(MessageIndex)
                assert index.count == MESSAGES
                want = expected(list(index._order), stored_flags(path), keys)
                await burst(pilot, keys)
                await settle(pilot)
                await wait_for(pilot, quiet, 20)
                await settle(pilot)
                folder_id = index.folder_id
                assert folder_id is not None
                stored = stored_flags(path)
                assert stored == want, f"the store holds what the keys asked for: {keys}"
                assert drawn_flags(app) == stored, f"screen = store after {keys}"
                unread = sum(1 for seen, _flagged in stored.values() if not seen)
                assert drawn_unread(app, folder_id) == unread, f"folder count = store: {keys}"
        finally:
            await store.close()
        store = await open_store(path)
        try:  # a sync replays whatever is still queued first
            assert (await sync_account(store, "work", account(table))).ok
        finally:
            await store.close()
        assert stored_flags(path) == want, f"the sync keeps the store's changes: {keys}"
        uids = store_uids(path)
        on_server = {uids[pk]: flags for pk, flags in want.items()}
        assert server_flags(dovecot, user) == on_server, f"server = store after {keys}"


@pytest.mark.timeout(900)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(keys=st.lists(KEYS, min_size=2, max_size=12), seed=st.integers(0, 1000))
def test_keys_sent_without_waiting_leave_screen_counts_store_and_server_agreeing(
    dovecot: Dovecot, keys: list[str], seed: int
) -> None:
    asyncio.run(scenario(dovecot, keys, seed))


def test_flag_twice_sent_together_leaves_the_message_unflagged(dovecot: Dovecot) -> None:
    """Two F keys toggle twice: the second sees the first's result, not the old row."""
    asyncio.run(scenario(dovecot, ["F", "F"], 3))


def test_opening_then_new_leaves_the_message_unread(dovecot: Dovecot) -> None:
    """Enter then N typed together: N comes after the open's "read", as typed."""
    asyncio.run(scenario(dovecot, ["enter", "N"], 4))
