"""``tuimail contacts``: the addresses tuimail knows, in the form of a mutt ``query_command``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from tuimail.commands.common import Context, run, with_store

if TYPE_CHECKING:
    from tuimail.store.db import Store
    from tuimail.sync.interface import AddressSuggestion

LIMIT = 200


@click.command("contacts")
@click.argument("query", required=False, default="")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead.")
@click.pass_obj
def contacts_command(obj: Context, query: str, as_json: bool) -> None:
    """Addresses matching QUERY, best first: those you write to, your address book's, then
    those who wrote to you. Prints a first line of text, then ``address<TAB>name<TAB>source``
    lines (mutt's query_command format); exits 1 when none match."""
    from tuimail.mail.sanitize import sanitize_line
    from tuimail.sync.address_book import AddressBook

    loaded = obj.config()
    ui = loaded.config.ui

    async def action(store: Store) -> list[AddressSuggestion]:
        book = AddressBook(
            store,
            ui.contacts,
            command=ui.address_book_command,
            command_timeout=ui.address_book_timeout,
        )
        await book.refresh()
        return await book.listing(query, LIMIT)

    found = run(with_store(False, action))
    if as_json:
        rows = [
            {"email": s.email, "name": s.name, "source": s.source, "uses": s.uses} for s in found
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        what = f" matching {sanitize_line(query)!r}" if query else ""
        click.echo(f"tuimail: {len(found)} address{'es' if len(found) != 1 else ''}{what}")
        for s in found:
            click.echo(f"{sanitize_line(s.email)}\t{sanitize_line(s.name)}\t{s.source}")
    if not found:
        sys.exit(1)
