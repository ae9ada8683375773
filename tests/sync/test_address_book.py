"""Address completion for the compose screen: the store's ranking merged with a vCard file."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tuimail.config import LoadedConfig, parse_config
from tuimail.mail.compose import Draft, Identity
from tuimail.mail.envelope import Address, Envelope
from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import NewMessage
from tuimail.sync.composing import StoreComposer
from tuimail.sync.service import StoreMailService

ANN = Address("Ann Example", "ann@example.org")
VCARD = (
    "BEGIN:VCARD\nVERSION:3.0\nFN:Carla Contact\nEMAIL:carla@contacts.example\nEND:VCARD\n"
    "BEGIN:VCARD\nVERSION:3.0\nFN:Carl Received\nEMAIL:carl@received.example\nEND:VCARD\n"
)


def loaded(**ui: Any) -> LoadedConfig:
    """One POP3 account that is never contacted (nothing is flushed here)."""
    never = {"host": "localhost", "port": 9, "security": "none"}
    return parse_config(
        {"accounts": {"home": {"email": ANN.email, "pop3": never, "smtp": never}}, "ui": ui}
    )


async def fill(store: Store) -> None:
    now = datetime.now(UTC)
    async with store.session() as session:
        account = await queries.ensure_account(session, "home", "pop3", ANN.email)
        inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox")
        sent = await queries.ensure_folder(session, account, "Sent", role="sent")
        written = Address("Carlos Written", "carlos@written.example")
        received = Address("Carl Received", "carl@received.example")
        await queries.insert_messages(
            session, sent, [NewMessage(Envelope(None, "hi", (ANN,), (written,), date=now))]
        )
        await queries.insert_messages(
            session,
            inbox,
            [
                NewMessage(Envelope(None, "hi", (received,), (ANN,), date=now - timedelta(hours=h)))
                for h in range(5)
            ],
        )


async def test_written_to_then_vcard_contacts_then_received(store: Store, tmp_path: Path) -> None:
    (tmp_path / "contacts.vcf").write_text(VCARD)
    config = loaded(contacts=str(tmp_path / "contacts.vcf"))
    composer = StoreComposer(store, config, StoreMailService(store, config))
    await fill(store)
    await composer.prepare_completion()
    found = await composer.complete("carl")
    assert [(s.email, s.source) for s in found] == [
        ("carlos@written.example", "written"),
        ("carla@contacts.example", "contacts"),
        ("carl@received.example", "contacts"),  # in the vCard too: a contact, not a stranger
    ]
    assert found[0].text == "Carlos Written <carlos@written.example>"


async def test_an_edited_vcard_file_is_read_again(store: Store, tmp_path: Path) -> None:
    cards = tmp_path / "contacts.vcf"
    cards.write_text(VCARD)
    config = loaded(contacts=str(cards))
    composer = StoreComposer(store, config, StoreMailService(store, config))
    await composer.prepare_completion()
    assert [s.email for s in await composer.complete("dora")] == []
    cards.write_text("BEGIN:VCARD\nFN:Dora New\nEMAIL:dora@new.example\nEND:VCARD\n")
    later = time.time() + 5
    os.utime(cards, (later, later))  # a new mtime even within the file system's granularity
    await composer.prepare_completion()
    assert [s.email for s in await composer.complete("dora")] == ["dora@new.example"]


async def test_bcc_counts_as_written_when_the_message_is_submitted(store: Store) -> None:
    config = loaded()
    composer = StoreComposer(store, config, StoreMailService(store, config))
    draft = Draft(
        Identity(ANN.email), ("to@example.net",), (), ("Hidden Helper <hidden@example.net>",), "s"
    )
    await composer.submit("home", draft, None, None)
    [found] = await composer.complete("hidden")
    assert (found.name, found.source, found.uses) == ("Hidden Helper", "written", 1)


async def test_a_missing_vcard_file_leaves_completion_to_the_store(
    store: Store, tmp_path: Path
) -> None:
    config = loaded(contacts=str(tmp_path / "nowhere.vcf"))
    assert any("ui.contacts" in warning for warning in config.warnings)
    composer = StoreComposer(store, config, StoreMailService(store, config))
    await fill(store)
    await composer.prepare_completion()
    assert [s.email for s in await composer.complete("carlos")] == ["carlos@written.example"]
