"""Reading the store from the command line: ``list``, ``read``, ``export``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tuimail.commands.common import Context, run, split_target, with_store
from tuimail.commands.completing import complete_target

if TYPE_CHECKING:  # the store and services load when a command runs
    import sqlite3

    from tuimail.config_view import ImapAccountSettings
    from tuimail.protocols.imap import ImapClient
    from tuimail.store.db import Store
    from tuimail.store.records import FolderState, MessageRow


def _flags(row: MessageRow) -> str:
    return (
        ("N" if not row.seen else "-")
        + ("r" if row.answered else "-")
        + ("!" if row.flagged else "-")
        + ("@" if row.has_attachments else "-")
    )


def _json(row: MessageRow, folder: FolderState) -> str:
    import json

    return json.dumps(
        {
            "uid": row.uid if not folder.is_local else row.id,
            "message_id": row.message_id,
            "date": row.date.isoformat() if row.date else None,
            "from": f"{row.from_name} <{row.from_email}>" if row.from_name else row.from_email,
            "subject": row.subject,
            "flags": sorted(row.flags),
        },
        ensure_ascii=False,
    )


@click.command("list")
@click.argument("target", shell_complete=complete_target)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N messages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_command(obj: Context, target: str, limit: int | None, as_json: bool) -> None:
    """List ACCOUNT/FOLDER from the store, newest first (works offline)."""
    account, folder_name = split_target(target)
    folder, rows = _listed(account, folder_name or "INBOX", limit)
    for row in rows:
        if as_json:
            click.echo(_json(row, folder))
            continue
        date = row.date.strftime("%Y-%m-%d %H:%M") if row.date else "?"
        number = row.uid if not folder.is_local else row.id
        click.echo(f"{number:>7} {_flags(row)} {date} {row.sender[:24]:<24} {row.subject}")


@click.command("read")
@click.argument("target", shell_complete=complete_target)
@click.argument("uid", type=int)
@click.option("--headers", "all_headers", is_flag=True, help="Show every header.")
@click.option(
    "--raw", "raw_bytes", is_flag=True, help="Print the message exactly as stored (bytes)."
)
@click.pass_obj
def read_command(obj: Context, target: str, uid: int, all_headers: bool, raw_bytes: bool) -> None:
    """Print message UID of ACCOUNT/FOLDER as the message view shows it (--raw: as stored)."""
    account, folder_name = split_target(target)
    folder, row, raw = _stored(account, folder_name or "INBOX", uid)
    if raw is None:
        raw = _fetch_body(obj, account, folder, row)
    if raw_bytes:  # for scripts: the bytes untouched, whatever the terminal or locale
        import sys

        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    from tuimail.mail.render import render_message

    rendered = render_message(raw, all_headers=all_headers)
    for name, value in rendered.headers:
        click.echo(f"{name}: {value}")
    click.echo()
    click.echo(rendered.body)
    for attachment in rendered.attachments:
        click.echo(
            f"[attachment {attachment.index}: {attachment.filename}, {attachment.size} bytes]"
        )


# list and read open the store with plain sqlite3 (store.plain_reads): a script calling them
# waits for no ORM import. A store at another schema revision is read through the ORM as before.


def _plain_store() -> AbstractContextManager[sqlite3.Connection | None]:
    from tuimail import paths
    from tuimail.store.plain_reads import open_plain

    return open_plain(paths.store_file())


def _listed(account: str, name: str, limit: int | None) -> tuple[FolderState, list[MessageRow]]:
    """The folder and its newest ``limit`` rows."""
    from tuimail.store import plain_reads

    with _plain_store() as connection:
        if connection is not None:
            folder = plain_reads.folder_by_name(connection, account, name)
            return folder, plain_reads.list_messages(connection, folder.id, limit=limit)
    from tuimail.store import queries

    async def action(store: Store) -> tuple[FolderState, list[MessageRow]]:
        async with store.session() as session:
            folder = await queries.folder_by_name(session, account, name)
            return folder, await queries.list_messages(session, folder.id, limit=limit)

    return run(with_store(True, action))


def _stored(account: str, name: str, uid: int) -> tuple[FolderState, MessageRow, bytes | None]:
    """The folder, the message and its stored bytes (None when only its headers are stored)."""
    from tuimail.store import plain_reads

    with _plain_store() as connection:
        if connection is not None:
            folder = plain_reads.folder_by_name(connection, account, name)
            row = plain_reads.message_by_uid(connection, folder, uid)
            return folder, row, plain_reads.get_body(connection, row.id)
    from tuimail.store import queries

    async def action(store: Store) -> tuple[FolderState, MessageRow, bytes | None]:
        async with store.session() as session:
            folder = await queries.folder_by_name(session, account, name)
            row = await queries.message_by_uid(session, folder.id, uid)
            return folder, row, await queries.get_body(session, row.id)

    return run(with_store(True, action))


def _fetch_body(obj: Context, account: str, folder: FolderState, message: MessageRow) -> bytes:
    """Only the headers are stored: fetch the body from the IMAP server, then store it.

    The ORM, which only storing the body needs, loads in a thread while the server answers:
    its import takes about as long as a FETCH from a large folder.
    """
    from tuimail.sync.imap_pool import ImapRemote

    # A plainly valid file gives the connection settings without the config models.
    chosen = obj.imap_accounts([account])
    config = chosen[account] if chosen is not None else obj.config().account(account)
    uid = message.uid
    if uid is None:  # no server copy: fetch_body says so in its words
        return _fetch_through_store(account, config, message.id)

    async def fetch_uid(client: ImapClient) -> bytes:
        await client.select(folder.name, readonly=True)
        return await client.fetch_body(uid)

    async def fetch() -> bytes:
        import asyncio
        import importlib

        loading = asyncio.to_thread(importlib.import_module, "tuimail.sync.imap_remote")
        orm = asyncio.ensure_future(loading)
        async with ImapRemote() as remote:
            raw = await remote.connection(account, config).run(fetch_uid)
        await orm
        from tuimail.sync.imap_remote import cache_body

        await with_store(False, lambda store: cache_body(store, message.id, raw))
        return raw

    return run(fetch())


def _fetch_through_store(account: str, config: ImapAccountSettings, message_pk: int) -> bytes:
    from tuimail.sync.imap_pool import ImapRemote
    from tuimail.sync.imap_remote import fetch_body

    async def fetch(store: Store) -> bytes:
        async with ImapRemote() as remote:
            return await fetch_body(store, remote.connection(account, config), message_pk)

    return run(with_store(False, fetch))


@click.command("export")
@click.argument("target", shell_complete=complete_target)
@click.argument("destination", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["mbox", "maildir"]), default="mbox", show_default=True
)
@click.pass_obj
def export_command(obj: Context, target: str, destination: Path, fmt: str) -> None:
    """Export ACCOUNT (every folder) or ACCOUNT/FOLDER to an mbox file or a Maildir."""
    from tuimail.store import queries
    from tuimail.sync.export import export_folders

    account, folder_name = split_target(target)

    async def action(store: Store) -> tuple[int, int]:
        async with store.session() as session:
            if folder_name:
                targets = [await queries.folder_by_name(session, account, folder_name)]
            else:
                targets = await queries.folders(session, await queries.account_id(session, account))
        report = await export_folders(
            store, targets, "mbox" if fmt == "mbox" else "maildir", destination
        )
        return report.written, report.without_body

    written, missing = run(with_store(True, action))
    click.echo(f"exported {_messages(written)} to {destination}")
    if missing:
        click.echo(
            f"tuimail: warning: {_messages(missing)} skipped: their bodies were never "
            'downloaded (set offline = "full" and sync)',
            err=True,
        )


def _messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"
