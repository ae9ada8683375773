"""Writing mail: ``send``, ``outbox``, ``drafts``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuimail.commands.common import EXIT_ERROR, Context, run, with_store

if TYPE_CHECKING:  # the store and services load when a command runs
    from tuimail.config import LoadedConfig
    from tuimail.store.db import Store
    from tuimail.store.outbox_queries import OutboxItem
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
            if delivery.late_by:
                click.echo(
                    f"tuimail: {delivery.message_id} went late: it was due "
                    f"{_ago(delivery.late_by)} ago, while no tuimail ran",
                    err=True,
                )
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
@click.option(
    "--at",
    "at",
    default=None,
    metavar="TIME",
    help='Send later: "tomorrow 9:00", "mon 8am", "+2h", "in 30 min" or ISO, local time.',
)
@click.option("--now", "now", is_flag=True, help="Send at once, without the send_delay.")
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
    at: str | None,
    now: bool,
) -> None:
    """Queue a message in the outbox and send it; the body is read from stdin.

    With a send_delay the outbox id is printed and the command waits it out, then sends
    (`tuimail outbox --cancel ID` from another shell takes it back meanwhile; Ctrl-C leaves it
    queued for the next tuimail). With --at it is printed and the message waits in the outbox
    for the interface or `tuimail outbox --due`. Sent at once (--now), the Message-ID is printed.
    """
    from tuimail.errors import MessageNotFound
    from tuimail.mail import compose
    from tuimail.store import outbox_queries
    from tuimail.sync.identities import identity_for
    from tuimail.sync.sending import Drafts, Sending

    send_at = _moment(at) if at is not None else (int(time.time()) if now else None)
    loaded = obj.config()
    raw_file = message_file.read() if message_file is not None else None
    body = "" if raw_file is not None or draft_id is not None else sys.stdin.read()

    async def action(store: Store) -> tuple[str, bool, int | None]:
        sending = Sending(store, loaded)
        drafts = Drafts(store, loaded)
        if postpone:
            name, account = sending.account(account_name)
            draft = compose.Draft(
                identity_for(account, None), to, cc, bcc, subject, body, attachments=attach
            )
            return f"draft #{await drafts.postpone(name, draft)}", True, None
        if draft_id is not None:
            name, draft = await drafts.open(draft_id)
            msg = compose.draft_to_message(draft)
            outbox_id, message_id = await sending.submit_message(
                name, msg, draft.from_identity, send_at=send_at
            )
            await drafts.discard(draft_id)
        elif raw_file is not None:
            outbox_id, message_id = await sending.submit_file(account_name, raw_file, send_at)
        else:
            outbox_id, message_id = await sending.submit_new(
                account_name, to, cc, bcc, subject, body, attach, send_at
            )
        report = await sending.outbox.flush()
        try:
            async with store.session() as session:
                waiting = await outbox_queries.get_item(session, outbox_id)
        except MessageNotFound:  # sent and done
            waiting = None
        if waiting is not None and waiting.send_at is not None and waiting.status == "queued":
            click.echo(
                f"tuimail: #{outbox_id} goes {_when(waiting.send_at)}; "
                f"`tuimail outbox --cancel {outbox_id}` takes it back",
                err=True,
            )
            return str(outbox_id), True, outbox_id
        return message_id, _report_flush(report, message_id), None

    printed, ok, waiting = run(with_store(False, action))
    click.echo(printed)
    if ok and waiting is not None and at is None:
        # The send delay: wait it out here, the store free for `tuimail outbox --cancel`, then
        # send, so that a script's `tuimail send` still sends without a timer or the interface.
        ok = _send_when_due(loaded, waiting)
    if not ok:
        sys.exit(EXIT_ERROR)


def _send_when_due(loaded: LoadedConfig, outbox_id: int) -> bool:
    """Wait for the delayed message ``outbox_id`` to come due, then flush; True when it went
    (or was taken back, or another tuimail holds the store and sends it)."""
    import asyncio

    from tuimail.errors import MessageNotFound
    from tuimail.store import outbox_queries
    from tuimail.store.files import StoreBusy
    from tuimail.sync.sending import Sending

    async def due_at(store: Store) -> int | None:
        try:
            async with store.session() as session:
                item = await outbox_queries.get_item(session, outbox_id)
        except MessageNotFound:
            return None
        return item.send_at if item.status == "queued" else None

    async def wait(store: Store) -> int | None:
        # Looked at every second, read-only (a cancel from another shell writes meanwhile):
        # a message taken back ends the wait at once.
        while (send_at := await due_at(store)) is not None and send_at > time.time():
            await asyncio.sleep(min(1.0, send_at - time.time()))
        return send_at

    async def flush(store: Store) -> bool:
        return _report_flush(await Sending(store, loaded).outbox.flush())

    try:
        if run(with_store(True, wait)) is None:
            click.echo(f"tuimail: #{outbox_id} was taken back", err=True)
            return True
        return run(with_store(False, flush))
    except StoreBusy as exc:  # the interface runs: it sends what is due itself
        click.echo(f"tuimail: #{outbox_id} is left to the tuimail that runs: {exc}", err=True)
        return True
    except KeyboardInterrupt:
        click.echo(
            f"tuimail: #{outbox_id} stays in the outbox; the next tuimail (or "
            "`tuimail outbox --due`) sends it",
            err=True,
        )
        raise SystemExit(EXIT_ERROR) from None


@click.command("outbox")
@click.option(
    "--flush", is_flag=True, help="Send everything that is due now, ignoring the retry backoff."
)
@click.option(
    "--due",
    is_flag=True,
    help="Send what is due, keeping the retry backoff: for a timer (cron, systemd).",
)
@click.option(
    "--retry", "retry_ids", type=int, multiple=True, help="Queue failed message #ID again."
)
@click.option(
    "--cancel",
    "cancel_ids",
    type=int,
    multiple=True,
    help="Take message #ID back before it goes; it becomes a saved draft.",
)
@click.option(
    "--at",
    "reschedule",
    type=(int, str),
    multiple=True,
    metavar="ID TIME",
    help='Send message #ID at TIME instead ("tomorrow 9:00", "+2h", "now", ISO).',
)
@click.pass_obj
def outbox_command(
    obj: Context,
    flush: bool,
    due: bool,
    retry_ids: tuple[int, ...],
    cancel_ids: tuple[int, ...],
    reschedule: tuple[tuple[int, str], ...],
) -> None:
    """List queued, scheduled and failed messages with their due times; --flush sends what is
    due now, --due what is due and past its retry backoff (run that from cron or a systemd
    timer for send later); --cancel takes one back."""
    from tuimail.store import outbox_queries
    from tuimail.store.files import StoreBusy
    from tuimail.sync.sending import Sending

    loaded = obj.config()
    moments = [
        (outbox_id, None if text.strip() == "now" else _moment(text))
        for outbox_id, text in reschedule
    ]

    async def action(store: Store) -> bool:
        sending = Sending(store, loaded)
        ok = True
        for outbox_id in cancel_ids:
            draft_id = await sending.outbox.to_draft(outbox_id)
            click.echo(
                f"#{outbox_id} taken back as draft #{draft_id} (tuimail send --draft {draft_id})"
            )
        for outbox_id, send_at in moments:
            await sending.outbox.reschedule(outbox_id, send_at)
        for outbox_id in retry_ids:
            await sending.outbox.requeue(outbox_id)
        if flush or retry_ids:
            async with store.session() as session:
                for item in await outbox_queries.list_outbox(session):
                    if item.status == "queued":  # the backoff goes, a scheduled time stays
                        await outbox_queries.requeue(session, item.id)
        if flush or retry_ids or due:
            # --due (a timer every minute): a message the server deferred waits out its backoff.
            ok = _report_flush(await sending.outbox.flush())
        items = await sending.outbox.items()
        if not items:
            click.echo("outbox is empty")
        for item in items:
            click.echo(_listing(item))
        return ok

    try:
        ok = run(with_store(False, action))
    except StoreBusy as exc:
        if not (flush or due) or cancel_ids or reschedule or retry_ids:
            raise
        # A timer's flush while the interface runs: the interface sends what is due itself.
        click.echo(f"tuimail: not flushed: {exc}", err=True)
        return
    if not ok:
        sys.exit(EXIT_ERROR)


def _listing(item: OutboxItem) -> str:
    """One outbox line: id, state, when it goes, account, Message-ID, recipients, error."""
    when = ""
    if item.status == "queued":
        due = max(item.next_attempt_at, item.send_at or 0)
        if due > time.time():
            when = f", {'next try' if item.attempts else 'goes'} {_when(due)}"
        else:
            when = ", due now"
    error = f": {item.last_error}" if item.last_error else ""
    return (
        f"#{item.id} {item.status}{when} {item.account_name} {item.message_id} "
        f"to {', '.join(item.recipients)}{error}"
    )


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


def _moment(text: str) -> int:
    """A --at TIME as Unix seconds, or a usage error saying why not."""
    import datetime

    from tuimail.mail.when import WhenError, parse_when

    try:
        return int(parse_when(text, datetime.datetime.now(datetime.UTC)).timestamp())
    except WhenError as exc:
        raise click.BadParameter(str(exc), param_hint="TIME") from None


def _when(timestamp: int) -> str:
    """A due time in words, "Tuesday 8 December 09:00 (in 3 h)"."""
    import datetime

    from tuimail.mail.when import describe

    now = datetime.datetime.now(datetime.UTC)
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    left = timestamp - int(now.timestamp())
    relative = f"in {_ago(left)}" if left > 0 else f"{_ago(-left)} ago"
    return f"{describe(moment, now)} ({relative})"


def _ago(seconds: int) -> str:
    """A span in its largest unit: "45 s", "12 min", "3 h", "2 d"."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{max(seconds, 0)} s"
