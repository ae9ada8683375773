"""Talking to the servers: ``sync`` and the ``folder`` commands."""

from __future__ import annotations

import sys
from collections.abc import Collection
from typing import TYPE_CHECKING

import click

from tuimail.commands.common import EXIT_ERROR, Context, run, split_target, with_store
from tuimail.commands.completing import complete_account, complete_target
from tuimail.errors import NotAllowed

if TYPE_CHECKING:  # the store and services load when a command runs
    from tuimail.config import LoadedConfig
    from tuimail.store.db import Store
    from tuimail.sync.interface import SyncProgress


class _ProgressLine:
    """One progress line per account on a terminal; nothing but the summary when piped."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.current: str | None = None

    def __call__(self, progress: SyncProgress) -> None:
        if not self.tty:
            return
        self.current = progress.account
        width = 30
        filled = width * progress.done // progress.total if progress.total else width
        bar = "#" * filled + "-" * (width - filled)
        mb = progress.bytes_done / 1_000_000
        click.echo(
            f"\r{progress.account}: [{bar}] {progress.done}/{progress.total} ({mb:.1f} MB)",
            err=True,
            nl=False,
        )

    def finish(self) -> None:
        if self.tty and self.current is not None:
            click.echo(err=True)
            self.current = None


@click.command("sync")
@click.argument("accounts", nargs=-1, shell_complete=complete_account)
@click.pass_obj
def sync_command(obj: Context, accounts: tuple[str, ...]) -> None:
    """Run one sync pass of ACCOUNTS (default: all) and print a summary per account."""
    from tuimail import paths
    from tuimail.sync.quick_check import nothing_to_do

    # Nothing new on any server (the usual case) is answered without the ORM, the sync
    # machinery and (for a plainly valid file) the config models, which take most of a full
    # pass's time to import.
    chosen = obj.imap_accounts(accounts)
    results = None if chosen is None else run(nothing_to_do(chosen, paths.store_file()))
    if results is None:
        results = _full_sync(obj.config(), accounts)
    failed = False
    for account, ok, summary in results:
        if ok:
            click.echo(f"{account}: {summary}")
        else:
            failed = True
            click.echo(f"tuimail: {account}: {summary}", err=True)
    if failed:
        sys.exit(EXIT_ERROR)


def _full_sync(loaded: LoadedConfig, accounts: tuple[str, ...]) -> list[tuple[str, bool, str]]:
    from tuimail.sync.accounts import sync_all

    line = _ProgressLine()

    async def action(store: Store) -> list[tuple[str, bool, str]]:
        outcomes = await sync_all(store, loaded, list(accounts) or None, line)
        line.finish()
        return [(o.account, o.ok, o.summary) for o in outcomes]

    return run(with_store(False, action))


@click.group("folder")
def folder_group() -> None:
    """Create, rename and delete folders (on the IMAP server, or local for POP3 accounts)."""


def _folder_target(target: str) -> tuple[str, str]:
    account, name = split_target(target)
    if not name:
        raise click.BadParameter(f"{target!r} is not ACCOUNT/FOLDER")
    return account, name


@folder_group.command("create")
@click.argument("target", shell_complete=complete_target)
@click.pass_obj
def folder_create(obj: Context, target: str) -> None:
    """Create ACCOUNT/FOLDER."""
    from tuimail.sync import folders

    account, name = _folder_target(target)
    config = obj.config().account(account)
    run(with_store(False, lambda store: folders.create_folder(store, account, config, name)))
    click.echo(f"created {target}")


def _new_folder_name(account: str, new: str, accounts: Collection[str]) -> str:
    """NEW as ``ACCOUNT/FOLDER`` of the same account, or a bare folder name of it."""
    prefix, _, rest = new.partition("/")
    if rest and prefix == account:
        return rest
    if rest and prefix in accounts:
        raise NotAllowed(
            f"a folder stays in its account: give NEW as {account}/NAME or NAME, not {new}"
        )
    return new


@folder_group.command("rename")
@click.argument("target", shell_complete=complete_target)
@click.argument("new")
@click.pass_obj
def folder_rename(obj: Context, target: str, new: str) -> None:
    """Rename ACCOUNT/FOLDER to NEW: ACCOUNT/NAME or just NAME (the folder stays in ACCOUNT).

    A NEW that starts with another account's name and a slash is refused; any other slash is
    part of the name (a subfolder, with the server's delimiter).
    """
    from tuimail.sync import folders

    account, name = _folder_target(target)
    loaded = obj.config()
    config = loaded.account(account)
    new_name = _new_folder_name(account, new, loaded.accounts)
    run(
        with_store(
            False, lambda store: folders.rename_folder(store, account, config, name, new_name)
        )
    )
    click.echo(f"renamed {target} to {account}/{new_name}")


@folder_group.command("delete")
@click.argument("target", shell_complete=complete_target)
@click.pass_obj
def folder_delete(obj: Context, target: str) -> None:
    """Delete the empty folder ACCOUNT/FOLDER."""
    from tuimail.sync import folders

    account, name = _folder_target(target)
    config = obj.config().account(account)
    run(with_store(False, lambda store: folders.delete_folder(store, account, config, name)))
    click.echo(f"deleted {target}")
