"""The command line: parses arguments, calls the services, prints. No protocol or SQL here."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from tuimail import paths
from tuimail.config import LoadedConfig, load_config
from tuimail.errors import ConfigError, NotAllowed, TuimailError
from tuimail.logs import setup_logging

# Each command imports the store and the services it needs when it runs: the interface, the
# most used command, starts without loading the protocol clients.
if TYPE_CHECKING:
    from tuimail.store.db import Store
    from tuimail.store.records import FolderState, MessageRow
    from tuimail.sync.accounts import SyncProgress
    from tuimail.sync.outbox import FlushReport

log = logging.getLogger("tuimail")
T = TypeVar("T")

EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_INTERNAL = 70


def fail(message: str, status: int = EXIT_ERROR) -> NoReturn:
    """Print one line for the user and exit."""
    click.echo(f"tuimail: {message}", err=True)
    sys.exit(status)


class _Cli(click.Group):
    """Turns tuimail errors into one line and an exit status; traces go to the log file."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            log.info("config error: %s", exc)
            fail(str(exc), EXIT_CONFIG)
        except TuimailError as exc:
            log.info("error: %s", exc, exc_info=True)
            fail(str(exc))
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as exc:  # the last line of defence: never a traceback on screen
            log.exception("internal error")
            fail(
                f"internal error ({type(exc).__name__}); details in {paths.log_file()}",
                EXIT_INTERNAL,
            )


@dataclass
class Context:
    """What the top-level options decided, for the subcommands."""

    config_path: Path | None
    debug: bool

    def config_file(self) -> Path:
        return self.config_path or paths.config_file()

    def config(self) -> LoadedConfig:
        path = self.config_file()
        if not path.exists():
            raise ConfigError(
                f"no config file at {path}; run `tuimail account add` to set up an account, "
                "or `tuimail --demo` to try it"
            )
        loaded = load_config(path)
        for warning in loaded.warnings:
            click.echo(f"tuimail: warning: {warning}", err=True)
        return loaded


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine."""
    return asyncio.run(coro)


async def with_store(readonly: bool, action: Callable[[Store], Coroutine[Any, Any, T]]) -> T:
    """Open the store, run ``action``, close the store."""
    from tuimail.store.db import open_store

    store = await open_store(paths.store_file(), readonly=readonly)
    try:
        return await action(store)
    finally:
        await store.close()


def split_target(target: str) -> tuple[str, str | None]:
    """``ACCOUNT[/FOLDER]`` -> (account, folder or None); folder names may contain '/'."""
    account, _, folder = target.partition("/")
    if not account:
        raise click.BadParameter(f"{target!r} is not ACCOUNT or ACCOUNT/FOLDER")
    return account, folder or None


@click.group(cls=_Cli, invoke_without_command=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="TUIMAIL_CONFIG",
    help="Config file (default ~/.config/tuimail/config.toml).",
)
@click.option("--demo", is_flag=True, help="Try tuimail on embedded demo servers.")
@click.option("--debug", is_flag=True, help="Write debug records to the log file.")
@click.version_option(package_name="tuimail")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, demo: bool, debug: bool) -> None:
    """tuimail: a keyboard-driven terminal email client.

    Without a command it opens the terminal interface.
    """
    level = logging.DEBUG if debug else logging.INFO
    if demo and ctx.invoked_subcommand is None:
        # The demo logs into its own temporary data dir: nothing of the user's is touched.
        from tuimail.demo.run import run_demo

        run_demo(level)
        return
    setup_logging(level)
    ctx.obj = Context(config_path, debug)
    if ctx.invoked_subcommand is not None:
        return
    from tuimail.ui.app import run_app

    if not ctx.obj.config_file().exists() and _interactive():
        # First run: the setup form instead of an error, then the mail it set up.
        from tuimail.ui.setup_app import run_setup

        if run_setup(ctx.obj.config_file()) is None:
            click.echo("no account was set up; `tuimail account add` opens the form again")
            return
    run_app(ctx.obj.config())


def _flags(row: MessageRow) -> str:
    return (
        ("N" if not row.seen else "-")
        + ("r" if row.answered else "-")
        + ("!" if row.flagged else "-")
        + ("@" if row.has_attachments else "-")
    )


def _json(row: MessageRow, folder: FolderState) -> str:
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


@main.command("list")
@click.argument("target")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N messages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_command(obj: Context, target: str, limit: int | None, as_json: bool) -> None:
    """List ACCOUNT/FOLDER from the store, newest first (works offline)."""
    from tuimail.store import queries

    account, folder_name = split_target(target)

    async def action(store: Store) -> tuple[FolderState, list[MessageRow]]:
        async with store.session() as session:
            folder = await queries.folder_by_name(session, account, folder_name or "INBOX")
            return folder, await queries.list_messages(session, folder.id, limit=limit)

    folder, rows = run(with_store(True, action))
    for row in rows:
        if as_json:
            click.echo(_json(row, folder))
            continue
        date = row.date.strftime("%Y-%m-%d %H:%M") if row.date else "?"
        number = row.uid if not folder.is_local else row.id
        click.echo(f"{number:>7} {_flags(row)} {date} {row.sender[:24]:<24} {row.subject}")


@main.command("read")
@click.argument("target")
@click.argument("uid", type=int)
@click.option("--headers", "all_headers", is_flag=True, help="Show every header.")
@click.pass_obj
def read_command(obj: Context, target: str, uid: int, all_headers: bool) -> None:
    """Print message UID of ACCOUNT/FOLDER as the message view shows it."""
    from tuimail.mail.render import render_message
    from tuimail.store import queries
    from tuimail.sync.imap_sync import fetch_body

    account, folder_name = split_target(target)

    async def action(store: Store) -> tuple[int, bytes | None]:
        async with store.session() as session:
            folder = await queries.folder_by_name(session, account, folder_name or "INBOX")
            row = await queries.message_by_uid(session, folder.id, uid)
            return row.id, await queries.get_body(session, row.id)

    message_pk, raw = run(with_store(True, action))
    if raw is None:
        # Only the headers are cached: fetch the body from the IMAP server (and cache it).
        config = obj.config().account(account)

        async def fetch(store: Store) -> bytes:
            return await fetch_body(store, account, config, message_pk)

        raw = run(with_store(False, fetch))
    rendered = render_message(raw, all_headers=all_headers)
    for name, value in rendered.headers:
        click.echo(f"{name}: {value}")
    click.echo()
    click.echo(rendered.body)
    for attachment in rendered.attachments:
        click.echo(
            f"[attachment {attachment.index}: {attachment.filename}, {attachment.size} bytes]"
        )


@main.command("export")
@click.argument("target")
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
    click.echo(f"exported {written} messages to {destination}")
    if missing:
        click.echo(
            f"tuimail: warning: {missing} messages were skipped: their bodies were never "
            'downloaded (set offline = "full" and sync)',
            err=True,
        )


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


@main.command("sync")
@click.argument("accounts", nargs=-1)
@click.pass_obj
def sync_command(obj: Context, accounts: tuple[str, ...]) -> None:
    """Run one sync pass of ACCOUNTS (default: all) and print a summary per account."""
    from tuimail.sync.accounts import sync_all

    loaded = obj.config()
    line = _ProgressLine()

    async def action(store: Store) -> list[tuple[str, bool, str]]:
        outcomes = await sync_all(store, loaded, list(accounts) or None, line)
        line.finish()
        return [(o.account, o.ok, o.summary) for o in outcomes]

    results = run(with_store(False, action))
    failed = False
    for account, ok, summary in results:
        if ok:
            click.echo(f"{account}: {summary}")
        else:
            failed = True
            click.echo(f"tuimail: {account}: {summary}", err=True)
    if failed:
        sys.exit(EXIT_ERROR)


@main.group("folder")
def folder_group() -> None:
    """Create, rename and delete folders (on the IMAP server, or local for POP3 accounts)."""


def _folder_target(target: str) -> tuple[str, str]:
    account, name = split_target(target)
    if not name:
        raise click.BadParameter(f"{target!r} is not ACCOUNT/FOLDER")
    return account, name


@folder_group.command("create")
@click.argument("target")
@click.pass_obj
def folder_create(obj: Context, target: str) -> None:
    """Create ACCOUNT/FOLDER."""
    from tuimail.sync import folders

    account, name = _folder_target(target)
    config = obj.config().account(account)
    run(with_store(False, lambda store: folders.create_folder(store, account, config, name)))
    click.echo(f"created {target}")


@folder_group.command("rename")
@click.argument("target")
@click.argument("new_name")
@click.pass_obj
def folder_rename(obj: Context, target: str, new_name: str) -> None:
    """Rename ACCOUNT/FOLDER to NEW_NAME."""
    from tuimail.sync import folders

    account, name = _folder_target(target)
    config = obj.config().account(account)
    run(
        with_store(
            False, lambda store: folders.rename_folder(store, account, config, name, new_name)
        )
    )
    click.echo(f"renamed {target} to {new_name}")


@folder_group.command("delete")
@click.argument("target")
@click.pass_obj
def folder_delete(obj: Context, target: str) -> None:
    """Delete the empty folder ACCOUNT/FOLDER."""
    from tuimail.sync import folders

    account, name = _folder_target(target)
    config = obj.config().account(account)
    run(with_store(False, lambda store: folders.delete_folder(store, account, config, name)))
    click.echo(f"deleted {target}")


def _report_flush(report: FlushReport, message_id: str | None = None) -> bool:
    """Print what a flush did; True when everything asked for went out."""
    ok = True
    for delivery in report.deliveries:
        if message_id is not None and delivery.message_id != message_id:
            continue
        if delivery.outcome == "sent":
            click.echo(f"sent {delivery.message_id}")
            if delivery.refused:
                ok = False
                for rcpt, reply in delivery.refused.items():
                    click.echo(f"tuimail: {rcpt} was refused: {reply}", err=True)
            for problem in delivery.follow_up_errors:
                click.echo(f"tuimail: warning: {problem}", err=True)
        else:
            ok = False
            state = "kept in the outbox, will retry" if delivery.outcome == "retry" else "failed"
            click.echo(f"tuimail: {delivery.message_id} {state}: {delivery.error}", err=True)
    for account, error in report.account_errors.items():
        ok = False
        click.echo(f"tuimail: {account}: cannot send now ({error}); kept in the outbox", err=True)
    return ok


@main.command("send")
@click.option("--account", "account_name", default=None, help="Send from this account.")
@click.option("--to", "to", multiple=True, help="Recipient (repeatable).")
@click.option("--cc", multiple=True, help="Copy recipient (repeatable).")
@click.option("--bcc", multiple=True, help="Blind copy recipient (repeatable, never in headers).")
@click.option("--subject", default="", help="Subject line.")
@click.option(
    "--attach", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--file",
    "message_file",
    type=click.File("rb"),
    default=None,
    help="Send a complete RFC 5322 message (To/Cc/Bcc from its headers).",
)
@click.option("--postpone", is_flag=True, help="Save to the Drafts folder instead of sending.")
@click.option("--draft", "draft_id", type=int, default=None, help="Send saved draft #ID.")
@click.pass_obj
def send_command(
    obj: Context,
    account_name: str | None,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    bcc: tuple[str, ...],
    subject: str,
    attach: tuple[Path, ...],
    message_file: Any,
    postpone: bool,
    draft_id: int | None,
) -> None:
    """Queue a message in the outbox and send it; the body is read from stdin."""
    from tuimail.mail import compose
    from tuimail.sync.sending import Drafts, Sending, identity_for

    loaded = obj.config()
    raw_file = message_file.read() if message_file is not None else None
    body = "" if raw_file is not None or draft_id is not None else sys.stdin.read()

    async def action(store: Store) -> tuple[str, bool]:
        sending = Sending(store, loaded)
        drafts = Drafts(store, loaded)
        if postpone:
            name, account = sending.account(account_name)
            draft = compose.Draft(
                identity_for(account, None), to, cc, bcc, subject, body, attachments=attach
            )
            return f"draft #{await drafts.postpone(name, draft)}", True
        if draft_id is not None:
            name, draft = await drafts.open(draft_id)
            msg = compose.draft_to_message(draft)
            _, message_id = await sending.submit_message(name, msg, draft.from_identity)
            await drafts.discard(draft_id)
        elif raw_file is not None:
            _, message_id = await sending.submit_file(account_name, raw_file)
        else:
            _, message_id = await sending.submit_new(
                account_name, to, cc, bcc, subject, body, attach
            )
        report = await sending.outbox.flush()
        return message_id, _report_flush(report, message_id)

    message_id, ok = run(with_store(False, action))
    click.echo(message_id)
    if not ok:
        sys.exit(EXIT_ERROR)


@main.command("outbox")
@click.option("--flush", is_flag=True, help="Send everything queued now, ignoring the backoff.")
@click.option(
    "--retry", "retry_ids", type=int, multiple=True, help="Queue failed message #ID again."
)
@click.pass_obj
def outbox_command(obj: Context, flush: bool, retry_ids: tuple[int, ...]) -> None:
    """List queued and failed messages; --flush sends the queued ones now."""
    from tuimail.store import outbox_queries
    from tuimail.sync.sending import Sending

    loaded = obj.config()

    async def action(store: Store) -> bool:
        sending = Sending(store, loaded)
        ok = True
        for outbox_id in retry_ids:
            await sending.outbox.requeue(outbox_id)
        if flush or retry_ids:
            async with store.session() as session:
                for item in await outbox_queries.list_outbox(session):
                    if item.status == "queued":
                        await outbox_queries.requeue(session, item.id)
            ok = _report_flush(await sending.outbox.flush())
        for item in await sending.outbox.items():
            when = ""
            if item.status == "queued" and item.next_attempt_at:
                when = f", next try {_clock(item.next_attempt_at)}"
            error = f": {item.last_error}" if item.last_error else ""
            click.echo(
                f"#{item.id} {item.status}{when} {item.account_name} {item.message_id} "
                f"to {', '.join(item.recipients)}{error}"
            )
        return ok

    if not run(with_store(False, action)):
        sys.exit(EXIT_ERROR)


def _clock(timestamp: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


@main.command("drafts")
@click.pass_obj
def drafts_command(obj: Context) -> None:
    """List saved drafts (send one with `tuimail send --draft ID`)."""
    from tuimail.store import outbox_queries
    from tuimail.sync.sending import Drafts

    loaded = obj.config()

    async def action(store: Store) -> list[tuple[int, str, str, str]]:
        drafts = Drafts(store, loaded)
        async with store.session() as session:
            stored = await outbox_queries.list_drafts(session)
        listed = []
        for item in stored:
            name, draft = await drafts.open(item.id)
            listed.append((item.id, name, ", ".join(draft.to), draft.subject))
        return listed

    for draft_id, name, to, subject in run(with_store(False, action)):
        click.echo(f"#{draft_id} {name} to {to or '(nobody yet)'}: {subject}")


@main.command("doctor")
@click.argument("account", required=False)
@click.pass_obj
def doctor_command(obj: Context, account: str | None) -> None:
    """Check ACCOUNT's servers (default: every account) step by step, with a fix per failure.

    One line per check: config, DNS, TCP, TLS or STARTTLS, login, folders. Exits 1 if any
    check failed. Nothing is written to the store and no password is printed.
    """
    from tuimail.mail.sanitize import sanitize_line
    from tuimail.sync.doctor import Check, diagnose

    try:
        loaded = obj.config()
    except ConfigError as exc:
        click.echo(f"config   FAIL  {exc}")
        click.echo("         fix: correct the key named above (the README lists every key)")
        sys.exit(EXIT_ERROR)

    def report(check: Check) -> None:
        where = f"{check.account} {check.server}"
        verdict = "ok  " if check.ok else "FAIL"
        click.echo(sanitize_line(f"{where:<16} {check.name:<8} {verdict}  {check.detail}"))
        if not check.ok:
            click.echo(sanitize_line(f"{'':<16} {'':<8} fix:  {check.fix}"))

    if not run(diagnose(loaded, [account] if account else None, report)):
        sys.exit(EXIT_ERROR)


def _interactive() -> bool:
    """A terminal on both ends: the setup form can be shown."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@main.group("account")
def account_group() -> None:
    """Set up accounts."""


@account_group.command("add")
@click.option("--email", default="", help="Fill in the address.")
@click.option("--name", "name", default="", help="The account's name (default: from the domain).")
@click.pass_obj
def account_add(obj: Context, email: str, name: str) -> None:
    """Open the setup form: find the servers, test the login, save the account.

    The password goes to the system keyring (or you give a password command); the config file
    gets the rest, and stays readable by you alone.
    """
    path = obj.config_file()
    if name and path.exists() and name in obj.config().accounts:
        raise NotAllowed(f"an account named {name!r} already exists in {path}")
    if not _interactive():
        fail("`tuimail account add` shows a form: run it in a terminal")
    from tuimail.ui.screens.setup import FormValues
    from tuimail.ui.setup_app import run_setup

    added = run_setup(path, FormValues(email=email, account=name))
    if added is None:
        fail("no account was added")
    click.echo(f"added account {added} to {path}; `tuimail doctor {added}` checks it again")
