"""``tuimail import``: mbox files, Maildirs and MH folders into an account's folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tuimail.commands.common import EXIT_ERROR, Context, run, split_target, with_store
from tuimail.commands.completing import complete_target

if TYPE_CHECKING:  # the store and services load when the command runs
    from tuimail.store.db import Store
    from tuimail.sync.importing import ImportProgress, ImportReport


class _ProgressBar:
    """A bar on a terminal; nothing when stdout is a file or a pipe."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.shown = False

    def __call__(self, progress: ImportProgress) -> None:
        if not self.tty:
            return
        width = 30
        filled = width * progress.done // progress.total if progress.total else width
        bar = "#" * filled + "-" * (width - filled)
        click.echo(f"\r{progress.folder}: [{bar}] {progress.done}/{progress.total}", nl=False)
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            click.echo()


def _messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


def _summary(account: str, report: ImportReport) -> list[str]:
    folders = ", ".join(f"{account}/{name}" for name in report.folders)
    lines = [f"imported {_messages(report.imported)} into {folders}"]
    if report.duplicates:
        lines.append(f"skipped {_messages(report.duplicates)}: already in the folder")
    for reason, count in sorted(report.skipped.items()):
        lines.append(f"skipped {_messages(count)}: {reason} (first: {report.examples[reason]})")
    return lines


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.argument("target", shell_complete=complete_target)
@click.option(
    "--format",
    "quoting",
    type=click.Choice(["auto", "mboxrd", "mboxo"]),
    default="auto",
    show_default=True,
    help="How an mbox quotes 'From ' lines; auto reads '>>From ' as mboxrd does.",
)
@click.pass_obj
def import_command(obj: Context, source: Path, target: str, quoting: str) -> None:
    """Import an mbox file, a Maildir (a Maildir++ tree with its subfolders) or an MH folder
    into ACCOUNT/FOLDER: appended on the IMAP server with flags and dates, or into a POP3
    account's local folder.

    Messages already in the folder are skipped, so an import that was stopped can be run
    again. Exit status 1 when anything was skipped as unreadable or not a message.
    """
    from tuimail.sync.importing import import_path

    account, folder = split_target(target)
    config = obj.config().account(account)
    bar = _ProgressBar()

    async def action(store: Store) -> ImportReport:
        return await import_path(
            store,
            account,
            config,
            folder or "INBOX",
            source,
            "mboxrd" if quoting == "mboxrd" else "mboxo" if quoting == "mboxo" else "auto",
            bar,
        )

    try:
        report = run(with_store(False, action))
    finally:
        bar.finish()
    for line in _summary(account, report):
        click.echo(line)
    if report.skipped:
        sys.exit(EXIT_ERROR)
