"""Writing mail: ``send``, ``outbox``, ``drafts``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuimail.commands.common import EXIT_ERROR, Context, run, with_store

if TYPE_CHECKING:  # the store and services load when a command runs
    from tuimail.store.db import Store
    from tuimail.sync.outbox import FlushReport


def _report_flush(report: FlushReport, message_id: str | None = None) -> bool:
    """Print what a flush did; True when everything asked for went out.

    With ``message_id`` (``send``) only that message's problems: the caller prints its id.
    """
    ok = True
    for delivery in report.deliveries:
        if message_id is not None and delivery.message_id != message_id:
            continue
        if delivery.outcome == "sent":
            if message_id is None:
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


@click.command("send")
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
    from tuimail.sync.identities import identity_for
    from tuimail.sync.sending import Drafts, Sending

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


@click.command("outbox")
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
        items = await sending.outbox.items()
        if not items:
            click.echo("outbox is empty")
        for item in items:
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


@click.command("drafts")
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
