"""The conversation view (issue 21): a whole thread on one screen, oldest first, at 80x24.

A 50-message thread is delivered to the private Dovecot (45 read, the last 5 unread) and
synced over IMAP with headers only, so every text the view shows is fetched as it comes into
view. Changes made there are checked on the server from a second client.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from textual import events
from textual.pilot import Pilot

from tests.harness.accounts import account, config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.ui.mailstore import NOW, fixed_clock
from tests.ui.pilot import screen_text, settle, wait_for
from tests.ui.test_action_races import server_flags, store_uids
from tests.ui.test_imap import server_count
from tests.ui.test_safety import assert_defused, hostile_message
from tuimail.config import LoadedConfig
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_account
from tuimail.sync.service import StoreMailService
from tuimail.ui import keys
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.screens.conversation import ConversationScreen
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.message_card import MessageCard
from tuimail.ui.widgets.message_index import MessageIndex

THREAD = 50
UNREAD = 5
PEOPLE = ("Ann Archer", "Bob Baker", "Cleo Cole")


def own_text(n: int) -> list[str]:
    return [f"Message {n} says hello.", f"Item {n} is on the list.", f"Regards, number {n}"]


def thread_message(n: int) -> bytes:
    """Message ``n`` of the thread: it answers message n-1 and quotes its three lines."""
    sender = PEOPLE[n % len(PEOPLE)]
    email = sender.split()[0].lower() + "@example.org"
    date = (NOW - timedelta(minutes=9 * (THREAD - n))).strftime("%a, %d %b %Y %H:%M:%S +0000")
    subject = "Offsite planning" if n == 0 else "Re: Offsite planning"
    if n >= 40:
        subject = "Re: Offsite planning (dates)"
    headers = [
        f"From: {sender} <{email}>",
        "To: team@example.org",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: <offsite-{n}@example.org>",
    ]
    body = own_text(n)
    if n:
        headers.append(f"In-Reply-To: <offsite-{n - 1}@example.org>")
        refs = " ".join(f"<offsite-{k}@example.org>" for k in range(max(0, n - 5), n))
        headers.append(f"References: {refs}")
        body += ["", f"{PEOPLE[(n - 1) % len(PEOPLE)]} wrote:"]
        body += [f"> {line}" for line in own_text(n - 1)]
    return ("\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(body) + "\r\n").encode()


async def sync_headers(data_dir: Path, dovecot: Dovecot, user: MailUser) -> LoadedConfig:
    """An IMAP sync of ``user``'s mailbox into a new store: headers only, no text."""
    table = imap_table(dovecot, user)
    store = await open_store(data_dir / "mail.sqlite3")
    try:
        assert (await sync_account(store, "work", account(table))).ok
    finally:
        await store.close()
    assert stored_bodies(data_dir) == 0, "offline = headers: every text is fetched on view"
    return config(work=table)


def stored_bodies(data_dir: Path) -> int:
    connection = sqlite3.connect(f"file:{data_dir / 'mail.sqlite3'}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM message_bodies").fetchone()[0])
    finally:
        connection.close()


async def thread_app(
    data_dir: Path, dovecot: Dovecot, user: MailUser, unread: int = UNREAD
) -> TuimailApp:
    """The app on a store holding the 50-message thread (the last ``unread`` of it unread)
    and one unrelated message."""
    raws = [thread_message(n) for n in range(THREAD)]
    dovecot.deliver(user, raws[: THREAD - unread], seen=True)
    dovecot.deliver(user, raws[THREAD - unread :])
    other = (
        b"From: Zed <zed@example.org>\r\nTo: team@example.org\r\nSubject: Lunch\r\n"
        b"Date: Sat, 14 Mar 2026 15:29:00 +0000\r\nMessage-ID: <lunch@example.org>\r\n\r\n"
        b"Pizza?\r\n"
    )
    dovecot.deliver(user, [other], seen=True)
    loaded = await sync_headers(data_dir, dovecot, user)
    return TuimailApp(
        loaded, store_path=data_dir / "mail.sqlite3", clock=fixed_clock, start_sync=False
    )


async def open_conversation(app: TuimailApp, pilot: Pilot[None]) -> ConversationScreen:
    """From the index (newest first: the thread's newest message is second), press C."""
    await settle(pilot)
    index = app.screen.query_one(MessageIndex)
    row = index.current_row
    assert row is not None and row.subject == "Lunch"
    await pilot.press("j", "C")
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    await wait_for(pilot, lambda: len(screen.cards) == THREAD, 5)
    return screen


def press_without_waiting(app: TuimailApp, key: str) -> None:
    """A key sent as the terminal sends it, without Pilot's wait for the app to go idle."""
    driver = app._driver
    assert driver is not None
    event = events.Key(key, key)
    event.set_sender(app)
    driver.send_message(event)


def shown_lines(app: TuimailApp) -> list[str]:
    """The screen's lines without the cursor's bar and the padding."""
    return [line.strip(" █▂▄▆▇") for line in screen_text(app).splitlines()]


async def go_to(pilot: Pilot[None], screen: ConversationScreen, number: int) -> None:
    """Move the conversation's cursor with j and k to message ``number`` of the thread."""
    for _ in range(THREAD):
        here = number_of(screen.cards[screen.cursor])
        if here == number:
            return
        await pilot.press("j" if here < number else "k")
    raise AssertionError(f"message {number} not reached")


def number_of(card: MessageCard) -> int:
    assert card.row.message_id is not None
    return int(card.row.message_id.strip("<>").split("-")[1].split("@")[0])


async def test_a_50_message_thread_opens_oldest_first_with_unread_open_and_read_folded(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await thread_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        started = time.monotonic()
        press_without_waiting(app, "C")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen), 5)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        await wait_for(pilot, lambda: "▾ Bob Baker  15:21" in screen_text(app), 5)
        opened = time.monotonic() - started
        assert opened < 1.0, f"the thread's first screen shows after {opened:.2f} s"
        assert [number_of(card) for card in screen.cards] == list(range(THREAD))
        assert [card.expanded for card in screen.cards] == [False] * 45 + [True] * 5
        assert number_of(screen.cards[screen.cursor]) == 49, "the cursor on the index's message"
        newest = screen.cards[49]
        await wait_for(pilot, lambda: newest.rendered is not None, 10)
        await settle(pilot)
        assert [card.row.seen for card in screen.cards[45:]] == [False] * 4 + [True], (
            "only the message under the cursor is read, not the others in view"
        )
        text = screen_text(app)
        lines = text.splitlines()
        assert lines[0].strip() == "Offsite planning — 50 messages"
        assert "Message 49 says hello." in text
        assert "[… 3 quoted lines; z shows them]" in text, "the quote of message 48 is folded"
        assert "> Message 48 says hello." not in text
        assert "Offsite planning (dates)" not in text, "the subject shows where it changes only"
        assert max(len(line.rstrip()) for line in lines) <= 80
        await go_to(pilot, screen, 45)
        assert "▾ Ann Archer  14:45" in shown_lines(app)
        await pilot.press("k")
        assert "▸ Cleo Cole  14:36" in shown_lines(app), "a read one is one line"
        await go_to(pilot, screen, 40)
        assert "▸ Bob Baker  14:00  Re: Offsite planning (dates)" in shown_lines(app)
        await pilot.press("g")
        assert "▸ Ann Archer  08:00  Offsite planning" in shown_lines(app)


async def test_enter_unfolds_a_read_message_and_z_shows_its_quote(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await thread_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot)
        await go_to(pilot, screen, 44)
        card = screen.cards[screen.cursor]
        assert not card.expanded
        await pilot.press("enter")
        await wait_for(pilot, lambda: card.rendered is not None, 10)
        await settle(pilot)
        lines = shown_lines(app)
        top = lines.index("▾ Cleo Cole  14:36")
        assert lines[top + 1 : top + 6] == [
            "Message 44 says hello.",
            "Item 44 is on the list.",
            "Regards, number 44",
            "",
            "Bob Baker wrote:",
        ]
        assert lines[top + 6] == "[… 3 quoted lines; z shows them]", (
            "the quote of message 43 is folded"
        )
        await pilot.press("z")
        lines = shown_lines(app)
        assert lines[top + 6 : top + 9] == [
            "> Message 43 says hello.",
            "> Item 43 is on the list.",
            "> Regards, number 43",
        ]
        await pilot.press("enter")
        assert not card.expanded
        assert "Item 44 is on the list." not in screen_text(app)


async def test_flag_and_delete_in_the_conversation_act_on_its_message_and_reach_dovecot(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await thread_app(data_dir, dovecot, mail_user)
    uid_of: dict[int, int] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot)
        uid_of = store_uids(data_dir / "mail.sqlite3")
        flagged = screen.cards[screen.cursor]
        assert number_of(flagged) == 49
        await pilot.press("F")
        await settle(pilot)
        assert flagged.row.flagged
        assert "▾ Bob Baker  15:21  !" in shown_lines(app), "the card shows the flag"
        await pilot.press("k", "k")
        deleted = screen.cards[screen.cursor]
        assert number_of(deleted) == 47
        await pilot.press("d")
        await settle(pilot)
        assert deleted not in screen.cards and len(screen.cards) == THREAD - 1
        last = screen.cards[screen.cursor]
        await pilot.press("q")
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        index = main.query_one(MessageIndex)
        assert index.current_id == last.message_id, "the index's cursor on the last chosen"
        assert index.count == THREAD, "the deleted one left the index"
        await pilot.press("dollar_sign")  # the queued changes reach the server
        await settle(pilot)
    flags = server_flags(dovecot, mail_user)
    assert flags[uid_of[flagged.message_id]][1], "flagged on the server"
    assert uid_of[deleted.message_id] not in flags, "gone from the server's INBOX"
    assert sum(1 for _seen, flag in flags.values() if flag) == 1, "nothing else flagged"
    assert server_count(dovecot, mail_user, "Trash") == 1


class HeldBodies(StoreMailService):
    """The real service; its fetches of message text wait until ``release`` is set."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.release = asyncio.Event()
        self.asked: list[int] = []

    async def open_message(self, message_id: int) -> bytes:
        self.asked.append(message_id)
        await self.release.wait()
        return await super().open_message(message_id)


async def test_a_text_is_fetched_when_scrolled_into_view_while_keys_keep_working(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await thread_app(data_dir, dovecot, mail_user, unread=15)  # more than a screen
    store = await open_store(data_dir / "mail.sqlite3")
    try:
        service = HeldBodies(store, app.config)
        app = TuimailApp(app.config, service=service, clock=fixed_clock, start_sync=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_conversation(app, pilot)
            await wait_for(pilot, lambda: bool(service.asked), 5)
            by_number = {number_of(card): card for card in screen.cards}
            assert by_number[49].message_id in service.asked
            far = by_number[36]
            assert far.message_id not in service.asked, "not fetched before it is in view"
            await go_to(pilot, screen, 36)  # keys work while the fetches wait
            assert far.message_id in service.asked, "fetched once scrolled into view"
            assert "Fetching the message…" in screen_text(app)
            await pilot.press("enter")
            assert not far.expanded
            assert not any(card.rendered for card in screen.cards)
            service.release.set()
            await wait_for(pilot, lambda: by_number[37].rendered is not None, 10)
            await settle(pilot)
            assert "Message 37 says hello." in screen_text(app)
            assert by_number[20].message_id not in service.asked, "read ones stay unfetched"
    finally:
        await store.close()


async def test_a_hostile_message_in_a_conversation_reaches_the_terminal_defused(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    root = (
        b"From: Ann <ann@example.org>\r\nTo: team@example.org\r\nSubject: Invoice\r\n"
        b"Date: Sat, 14 Mar 2026 11:00:00 +0000\r\nMessage-ID: <invoice@example.org>\r\n\r\n"
        b"Please pay.\r\n"
    )
    reply = b"In-Reply-To: <invoice@example.org>\r\nMessage-ID: <evil@example.org>\r\n"
    dovecot.deliver(mail_user, [root, reply + hostile_message()])
    loaded = await sync_headers(data_dir, dovecot, mail_user)
    app = TuimailApp(
        loaded, store_path=data_dir / "mail.sqlite3", clock=fixed_clock, start_sync=False
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("C")
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        await wait_for(pilot, lambda: len(screen.cards) == 2, 5)
        await wait_for(pilot, lambda: all(card.rendered for card in screen.cards), 10)
        await settle(pilot)
        text = screen_text(app)
        assert "Mallory" in text and "Body" in text and "Please pay." in text
        assert_defused(app)


async def test_r_in_the_conversation_replies_to_the_message_under_its_cursor(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await thread_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot)
        await pilot.press("g", "j", "j")  # message 2, folded, never opened in the index
        assert number_of(screen.cards[screen.cursor]) == 2
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposeScreen), 5)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        assert compose.draft.in_reply_to == "<offsite-2@example.org>"
        assert compose.draft.to == ("Cleo Cole <cleo@example.org>",)


def test_every_key_of_the_conversation_has_its_action_there() -> None:
    for entry in keys.in_scope("conversation"):
        assert callable(getattr(ConversationScreen, f"action_{entry.action}", None)), entry.id


async def test_t_in_the_conversation_tags_the_message_under_its_cursor_for_the_index(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    app = await thread_app(data_dir, dovecot, mail_user)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot)
        await go_to(pilot, screen, 44)
        tagged = screen.cards[screen.cursor]
        await pilot.press("t")
        assert number_of(screen.cards[screen.cursor]) == 45, "t goes on to the next message"
        await pilot.press("k")
        assert "▸ Cleo Cole  14:36  *" in shown_lines(app), "the card shows the tag"
        await pilot.press("question_mark")
        assert "Conversation" in screen_text(app), "? lists the conversation's keys"
        await pilot.press("escape", "escape")
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        assert index.tagged == {tagged.message_id}, "the index's ; acts on it"
