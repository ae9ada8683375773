"""Address completion in the compose screen: ranked, from the store and a vCard file, by Tab."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import screen_text, settle
from tuimail.config import parse_config
from tuimail.mail.envelope import Address, Envelope
from tuimail.store import queries
from tuimail.store.db import open_store
from tuimail.store.records import NewMessage
from tuimail.sync.composing import AddressSuggestion
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.widgets.address_input import inline_rest, split_fragment

ANN = Address("Ann Example", "ann@example.org")
OFTEN = Address("Zed Often", "zed.often@example.com")
ONCE = Address("Zed Once", "zed.once@example.com")
RECEIVED = Address("Zed Received", "zed.received@example.com")


def test_the_address_being_typed_is_the_text_after_the_last_unquoted_comma() -> None:
    assert split_fragment("") == ("", "")
    assert split_fragment("ze") == ("", "ze")
    assert split_fragment("a@x.org, ze") == ("a@x.org, ", "ze")
    assert split_fragment('"Smith, J" <j@x.org>,Ze') == ('"Smith, J" <j@x.org>,', "Ze")
    assert split_fragment('"Smith, J') == ("", '"Smith, J')


def test_the_inline_hint_continues_the_name_or_the_address_as_typed() -> None:
    zed = AddressSuggestion("Zed Often", "zed.often@example.com", "written", 5)
    assert inline_rest("zed o", zed) == "ften <zed.often@example.com>"
    assert inline_rest("zed.", zed) == "often@example.com"
    assert inline_rest("often", zed) is None  # a later word: listed, not shown inline


async def add_mail(path: Path) -> None:
    """Written to OFTEN five times last week, to ONCE a year ago; RECEIVED wrote nine times."""
    now = datetime.now(UTC)
    store = await open_store(path)
    try:
        async with store.session() as session:
            sent = await queries.folder_by_name(session, "home", "Sent")
            inbox = await queries.folder_by_name(session, "home", "INBOX")
            written = [
                NewMessage(Envelope(None, "hi", (ANN,), (OFTEN,), date=now - timedelta(days=d)))
                for d in range(2, 7)
            ]
            written.append(
                NewMessage(Envelope(None, "hi", (ANN,), (ONCE,), date=now - timedelta(days=365)))
            )
            await queries.insert_messages(session, sent.id, written)
            received = [
                NewMessage(Envelope(None, "hi", (RECEIVED,), (ANN,), date=now - timedelta(hours=h)))
                for h in range(9)
            ]
            await queries.insert_messages(session, inbox.id, received)
    finally:
        await store.close()


def make_app(store: Path, **ui: Any) -> TuimailApp:
    config = parse_config(
        {
            "accounts": {
                "home": {
                    "email": ANN.email,
                    "pop3": {"host": "localhost", "port": 9, "security": "none"},
                }
            },
            "ui": ui,
        }
    )
    return TuimailApp(config, store_path=store, clock=fixed_clock, start_sync=False)


def field(app: TuimailApp, name: str) -> Input:
    assert isinstance(app.screen, ComposeScreen)
    return app.screen.query_one(f"#compose-{name}", Input)


async def compose(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)


async def test_often_and_recently_written_ranks_first_and_tab_takes_it(
    generated_store: Path,
) -> None:
    await add_mail(generated_store)
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press(*"zed")
        await settle(pilot)
        shown = screen_text(app)
        often, once, received = (shown.find(a.email) for a in (OFTEN, ONCE, RECEIVED))
        assert -1 < often < once < received, shown
        assert "written to 5×" in shown
        await pilot.press("tab")
        assert field(app, "to").value == "Zed Often <zed.often@example.com>"
        assert app.focused is field(app, "to")  # Tab took the address, it did not move on
        await pilot.press("tab")
        assert app.focused is field(app, "cc")  # nothing offered any more: the next field


async def test_down_chooses_another_and_a_second_address_completes_after_the_comma(
    generated_store: Path,
) -> None:
    await add_mail(generated_store)
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press(*"zed o")
        await settle(pilot)
        await pilot.press("tab", *", zed", "down")
        await settle(pilot)
        await pilot.press("tab")
        assert field(app, "to").value == (
            "Zed Often <zed.often@example.com>, Zed Once <zed.once@example.com>"
        )


async def test_tab_typed_ahead_of_the_lookup_still_completes(generated_store: Path) -> None:
    await add_mail(generated_store)
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        driver = app._driver
        assert driver is not None
        for key, character in (("z", "z"), ("e", "e"), ("d", "d"), ("tab", None)):
            event = events.Key(key, character)
            event.set_sender(app)
            driver.send_message(event)  # all at once, as a fast typist's keys arrive
        await settle(pilot)
        assert field(app, "to").value == "Zed Often <zed.often@example.com>"


async def test_vcard_contacts_complete_too(generated_store: Path, tmp_path: Path) -> None:
    cards = tmp_path / "contacts.vcf"
    cards.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Quentin Card\nEMAIL:q@cards.example\nEND:VCARD\n"
    )
    app = make_app(generated_store, contacts=str(cards))
    async with app.run_test(size=(120, 30)) as pilot:
        await compose(pilot)
        await pilot.press("tab", *"card")  # to Cc; "card" starts the second word of the name
        await settle(pilot)
        assert "Quentin Card <q@cards.example>  contacts" in screen_text(app)
        await pilot.press("tab")
        assert field(app, "cc").value == "Quentin Card <q@cards.example>"
