"""All inboxes, All unread and All flagged: every account's mail in one index, and every action
there lands on the message's own account and server (two mail users on the private Dovecot)."""

from __future__ import annotations

import dataclasses
import imaplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bench.bench_tui import envelopes
from tests.harness.accounts import account, config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.mailstore import NOW, fixed_clock
from tests.ui.pilot import notifications, screen_text, settle, wait_for
from tests.ui.test_search import search_for
from tuimail.config import LoadedConfig
from tuimail.store import queries
from tuimail.store.db import open_store
from tuimail.store.virtual_folders import VIRTUAL_IDS, VirtualKind
from tuimail.sync.accounts import sync_account
from tuimail.sync.service import StoreMailService
from tuimail.sync.watch import FolderWatcher
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.screens.folder_picker import FolderPicker
from tuimail.ui.screens.main import FIRST_LINES, MainScreen
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.index_pages import PAGE
from tuimail.ui.widgets.message_index import MessageIndex


def mail(subject: str, hours_ago: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sender of {subject} <sender@example.net>"
    message["To"] = "someone@example.org"
    message["Subject"] = subject
    message["Date"] = format_datetime(NOW - timedelta(hours=hours_ago))
    message["Message-ID"] = f"<{subject.replace(' ', '.')}@example.net>"
    message.set_content(f"This is {subject}.\n")
    return bytes(message)


@dataclass
class TwoAccounts:
    """A store synced from two Dovecot users: "home" (ann) and "work" (bob)."""

    path: Path
    config: LoadedConfig
    dovecot: Dovecot
    ann: MailUser
    bob: MailUser

    def app(self, **kwargs: Any) -> TuimailApp:
        kwargs.setdefault("start_sync", False)
        return TuimailApp(self.config, store_path=self.path, clock=fixed_clock, **kwargs)

    def imap(self, user: MailUser) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.dovecot.ca_file))
        imap = imaplib.IMAP4_SSL(self.dovecot.host, self.dovecot.imaps_port, ssl_context=context)
        imap.login(user.name, user.password)
        return imap

    def server(self, user: MailUser, folder: str) -> dict[str, str]:
        """Subject -> flags of the messages in a folder on the server."""
        imap = self.imap(user)
        try:
            imap.select(folder, readonly=True)
            _, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        except imaplib.IMAP4.error:
            return {}
        finally:
            imap.logout()
        found = {}
        for part in data:
            if isinstance(part, tuple):
                flags = part[0].decode()
                subject = part[1].decode().split(":", 1)[1].strip()
                found[subject] = flags[flags.index("FLAGS (") + 7 : flags.index(")")]
        return found


async def two_accounts(data_dir: Path, dovecot: Dovecot) -> TwoAccounts:
    """Ann's and Bob's Inboxes interleaved in time; Bob also has unread mail in Archive and a
    flagged message in Trash; Ann flagged her "ann late"."""
    ann, bob = dovecot.add_user(), dovecot.add_user()
    dovecot.deliver(ann, [mail("ann early", 8), mail("ann late", 4)])
    dovecot.deliver(bob, [mail("bob early", 6), mail("bob late", 2)], seen=True)
    dovecot.deliver(bob, [mail("bob archived", 5)], folder="Archive")
    dovecot.deliver(bob, [mail("bob trashed", 1)], folder="Trash")
    found = TwoAccounts(data_dir / "mail.sqlite3", config(), dovecot, ann, bob)
    for user, folder, subject in ((ann, "INBOX", "ann late"), (bob, "Trash", "bob trashed")):
        imap = found.imap(user)
        imap.select(folder)
        _, numbers = imap.search(None, "SUBJECT", f'"{subject}"')
        imap.store(numbers[0].decode().replace(" ", ","), "+FLAGS", "\\Flagged")
        assert subject in found.server(user, folder)
        imap.logout()
    tables = {"home": imap_table(dovecot, ann), "work": imap_table(dovecot, bob)}
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = await open_store(found.path)
    try:
        for name, table in tables.items():
            assert (await sync_account(store, name, account(table))).ok
    finally:
        await store.close()
    found.config = config(**tables)
    return found


@pytest.fixture
async def mailboxes(data_dir: Path, dovecot: Dovecot) -> TwoAccounts:
    """Ann's ("home") and Bob's ("work") mail synced into one store."""
    return await two_accounts(data_dir, dovecot)


async def open_virtual(pilot: Any, kind: VirtualKind) -> MessageIndex:
    """Open a virtual folder from the folder tree, as a user would (Enter on its line)."""
    await settle(pilot)
    tree = pilot.app.screen.query_one(FolderTree)
    tree.select_folder(VIRTUAL_IDS[kind])
    tree.focus()
    await pilot.press("enter")
    await settle(pilot)
    index: MessageIndex = pilot.app.screen.query_one(MessageIndex)
    return index


def subjects(index: MessageIndex) -> list[str]:
    rows = [index.cached(pk) for pk in index._order]
    return [row.subject if row is not None else "?" for row in rows]


def line_of(app: TuimailApp, subject: str) -> str:
    return next(line for line in screen_text(app).splitlines() if subject in line)


async def test_all_inboxes_shows_every_accounts_inbox_newest_first_with_the_account(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        index = await open_virtual(pilot, "inboxes")
        assert subjects(index) == ["bob late", "ann late", "bob early", "ann early"]
        assert "work" in line_of(app, "bob late") and "home" in line_of(app, "ann late")
        tree_text = screen_text(app)
        assert "All inboxes 2" in tree_text, "Ann's two unread Inbox messages are counted"
        assert "All unread" in tree_text and "All flagged" in tree_text


async def test_flag_and_delete_in_all_inboxes_land_on_the_messages_own_server(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        index = await open_virtual(pilot, "inboxes")
        await pilot.press("F")  # "bob late", work
        await settle(pilot)
        await pilot.press("j", "d")  # "ann late", home: to Ann's Trash
        await settle(pilot)
        assert subjects(index) == ["bob late", "bob early", "ann early"]
        await pilot.press("dollar_sign")  # the sync replays the queued changes on the servers
        await settle(pilot)
    bob_inbox = mailboxes.server(mailboxes.bob, "INBOX")
    ann_inbox = mailboxes.server(mailboxes.ann, "INBOX")
    assert "\\Flagged" in bob_inbox["bob late"] and "\\Flagged" not in bob_inbox["bob early"]
    assert set(ann_inbox) == {"ann early"} and "\\Flagged" not in ann_inbox["ann early"]
    assert "ann late" in mailboxes.server(mailboxes.ann, "Trash")
    assert set(mailboxes.server(mailboxes.bob, "Trash")) == {"bob trashed"}


async def test_a_reply_from_all_inboxes_is_written_from_the_messages_account(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_virtual(pilot, "inboxes")
        await pilot.press("r")  # "bob late", which came to Bob's account "work"
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.account == "work"
        assert screen.draft.from_identity.email == f"{mailboxes.bob.name}@example.org"


async def test_all_unread_and_all_flagged_gather_every_folder_but_trash(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        index = await open_virtual(pilot, "unread")
        assert subjects(index) == ["ann late", "bob archived", "ann early"]
        assert "work/Archive" in line_of(app, "bob archived")
        index = await open_virtual(pilot, "flagged")
        assert subjects(index) == ["ann late"], "Bob's flagged message is in his Trash"


async def test_new_mail_in_any_inbox_shows_up_in_open_all_inboxes(
    mailboxes: TwoAccounts,
) -> None:
    watchers: list[FolderWatcher] = []

    def recording(*args: Any, **kwargs: Any) -> FolderWatcher:
        watchers.append(FolderWatcher(*args, **kwargs))
        return watchers[-1]

    store = await open_store(mailboxes.path)
    try:
        service = StoreMailService(store, mailboxes.config, watcher=recording)
        app = TuimailApp(mailboxes.config, service=service, clock=fixed_clock)
        async with app.run_test(size=(160, 48)) as pilot:
            index = await open_virtual(pilot, "inboxes")
            assert index.count == 4

            def both_idle() -> bool:
                idle = {w.name for w in watchers if w.idling.is_set()}
                return idle >= {"home", "work"}

            await wait_for(pilot, both_idle, 10)
            mailboxes.dovecot.deliver(mailboxes.bob, [mail("bob newest", 0)])
            await wait_for(pilot, lambda: index.count == 5, 5)
            await settle(pilot)
            assert subjects(index)[0] == "bob newest"
    finally:
        await store.close()


class RecordingService(StoreMailService):
    """The store's service, noting each order the index asks for: (folder, limit, ids)."""

    asked: list[tuple[int, int, int]]

    async def message_ids(self, folder_id: int, limit: int = -1) -> list[int]:
        ids = await super().message_ids(folder_id, limit)
        self.asked.append((folder_id, limit, len(ids)))
        return ids


async def test_all_inboxes_of_100k_messages_opens_on_its_first_page(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = await open_store(data_dir / "mail.sqlite3")
    newest = []
    async with store.session() as session:
        for seed, name in enumerate(("home", "work")):
            account_pk = await queries.ensure_account(session, name, "pop3", f"{name}@example.org")
            inbox = await queries.ensure_folder(
                session, account_pk, "INBOX", role="inbox", is_local=True
            )
            batch = envelopes(50_000, seed=seed)
            for first in range(0, len(batch), 10_000):
                await queries.insert_messages(session, inbox, batch[first : first + 10_000])
            await queries.refresh_counts(session, inbox)
            newest.append(batch[-1].envelope)
    offline = {"host": "localhost", "port": 9, "security": "none"}
    loaded = config(
        **{name: {"email": f"{name}@x.org", "pop3": offline} for name in ("home", "work")}
    )
    try:
        service = RecordingService(store, loaded)
        service.asked = []
        app = TuimailApp(loaded, service=service, clock=fixed_clock, start_sync=False)
        async with app.run_test(size=(160, 48)) as pilot:
            index = await open_virtual(pilot, "inboxes")
            virtual = [entry for entry in service.asked if entry[0] == VIRTUAL_IDS["inboxes"]]
            # The top of the union first (one page read per Inbox, merged), then the rest.
            union = VIRTUAL_IDS["inboxes"]
            assert virtual == [(union, FIRST_LINES, FIRST_LINES), (union, -1, 100_000)]
            assert index.count == 100_000 and index.rows_painted > 0
            assert len(index._pages) <= FIRST_LINES + 3 * PAGE, "rows are read a page at a time"
            # Both Inboxes end at the same minute: the top two lines are theirs, one each.
            top, next_one = (index.cached(pk) for pk in index._order[:2])
            assert top is not None and next_one is not None
            assert top.date == next_one.date == max(e.date for e in newest if e.date)
            assert top.folder_id != next_one.folder_id
    finally:
        await store.close()


async def test_a_search_in_all_inboxes_finds_only_its_messages_of_every_account(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        index = await open_virtual(pilot, "inboxes")
        await search_for(pilot, "slash", "subject:late OR subject:archived")
        assert subjects(index) == ["bob late", "ann late"], "Bob's Archive is not an Inbox"
        assert "work" in line_of(app, "bob late"), "the lines still name their account"
        await pilot.press("q")
        await settle(pilot)
        assert index.count == 4


async def test_moving_tagged_messages_whose_rows_left_the_cache_asks_the_store_for_their_account(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        index = await open_virtual(pilot, "inboxes")
        rows = {row.subject: row for pk in index._order if (row := index.cached(pk)) is not None}
        main = app.screen
        assert isinstance(main, MainScreen)
        account_of = {f.id: f.account_id for a in main.accounts for f in a.folders}
        bob = account_of[rows["bob late"].folder_id]
        assert account_of[rows["ann late"].folder_id] != bob
        # "bob late" (work) and "ann late" (home) tagged; Bob's row then drops out of the cache,
        # as rows scrolled far away do: Ann's cached row alone must not choose the account.
        index.tagged = {rows["bob late"].id, rows["ann late"].id}
        index._pages.rows.pop(rows["bob late"].id)
        await pilot.press("semicolon", "s")
        await settle(pilot)
        assert not isinstance(app.screen, FolderPicker)
        assert "Move or copy messages of one account at a time." in notifications(app)

        # Bob's two messages alone, neither row cached: his account's folders are offered.
        index.tagged = {rows["bob late"].id, rows["bob early"].id}
        index._pages.rows.pop(rows["bob early"].id)
        await pilot.press("semicolon", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, FolderPicker), 10)
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        assert {folder.account_id for folder in picker._folders} == {bob}


async def test_a_delete_for_good_in_all_inboxes_asks_first_even_for_a_row_not_cached(
    mailboxes: TwoAccounts,
) -> None:
    app = mailboxes.app()
    async with app.run_test(size=(160, 48)) as pilot:
        index = await open_virtual(pilot, "inboxes")
        rows = {row.subject: row for pk in index._order if (row := index.cached(pk)) is not None}
        main = app.screen
        assert isinstance(main, MainScreen)
        # Bob's account as one without a Trash folder: a delete there is for good.
        bob = next(
            a for a in main.accounts if any(f.id == rows["bob late"].folder_id for f in a.folders)
        )
        main.accounts = [
            dataclasses.replace(a, folders=tuple(f for f in a.folders if f.role != "trash"))
            if a is bob
            else a
            for a in main.accounts
        ]
        index.tagged = {rows["bob late"].id}
        index._pages.rows.pop(rows["bob late"].id)  # scrolled far away
        await pilot.press("semicolon", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 10)
        assert "for good" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
    assert "bob late" in mailboxes.server(mailboxes.bob, "INBOX")
