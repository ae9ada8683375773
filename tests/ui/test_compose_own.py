"""The composer offers the user's own addresses, and quotes a reply with ``> `` on every line."""

from __future__ import annotations

from email.utils import format_datetime
from pathlib import Path

from tests.ui.mailstore import NOW, fixed_clock
from tests.ui.pilot import screen_text, settle
from tests.ui.widgets.test_address_input import compose, field
from tuimail.config import parse_config
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store import queries
from tuimail.store.db import open_store
from tuimail.store.records import NewMessage
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.widgets.message_index import MessageIndex

QUOTE_WIDTH = 72  # the README's promise: quoted lines hard-wrapped at 72

LONG_LINE = (
    "This paragraph is one long line, as many mail programs send it, and it goes on well past "
    "seventy-two columns so that a reply must wrap it and quote every piece."
)
PLAIN = (
    "From: Bob <bob@example.com>\r\nTo: ann@example.org\r\nSubject: long\r\n"
    f"Date: {format_datetime(NOW)}\r\nMessage-ID: <long@example.com>\r\n\r\n"
    f"{LONG_LINE}\r\n\r\n> an old quote that is also much longer than the seventy-two columns "
    "of a mail line\r\n"
).encode()


def app_with_identities(store: Path) -> TuimailApp:
    config = parse_config(
        {
            "accounts": {
                "home": {
                    "email": "ann@example.org",
                    "display_name": "Ann Example",
                    "identities": [{"email": "ann.work@example.net", "display_name": "Ann W"}],
                    "pop3": {"host": "localhost", "port": 9, "security": "none"},
                }
            }
        }
    )
    return TuimailApp(config, store_path=store, clock=fixed_clock, start_sync=False)


async def test_own_addresses_and_identities_are_offered_in_completion(
    generated_store: Path,
) -> None:
    app = app_with_identities(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press(*"ann.w")
        await settle(pilot)
        assert "Ann W <ann.work@example.net>" in screen_text(app)
        await pilot.press("tab")
        assert field(app, "to").value == "Ann W <ann.work@example.net>"


async def test_a_reply_quotes_a_long_line_wrapped_with_a_mark_on_every_line(
    generated_store: Path,
) -> None:
    store = await open_store(generated_store)
    try:
        async with store.session() as session:
            inbox = (await queries.folder_by_name(session, "home", "INBOX")).id
            message = NewMessage(envelope_from_bytes(PLAIN), raw=PLAIN)
            await queries.insert_messages(session, inbox, [message])
    finally:
        await store.close()
    app = app_with_identities(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(MessageIndex).current_row is not None
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        quoted = [line for line in screen.draft.body.split("\n") if line.startswith(">")]
        assert len(quoted) >= 4, "the long lines were wrapped"
        assert all(len(line) <= QUOTE_WIDTH for line in quoted)
        text = " ".join(line[2:] for line in quoted if not line.startswith(">>"))
        assert " ".join(LONG_LINE.split()) in " ".join(text.split())
        assert sum(line.startswith(">> ") for line in quoted) >= 2, "the old quote nests"
