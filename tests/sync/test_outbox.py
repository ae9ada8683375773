"""The outbox against a real aiosmtpd: what arrives, what is kept, and what survives a crash."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.harness.smtp import SmtpTestServer
from tests.sync.outbox_child import ACCOUNT, account_config
from tuimail.mail.compose import Identity, finalize, new_message, reply
from tuimail.mail.envelope import Envelope
from tuimail.store import outbox_queries as oq
from tuimail.store import queries
from tuimail.store.db import Store, open_store
from tuimail.store.records import NewMessage
from tuimail.sync.outbox import BACKOFF_MAX, Outbox, backoff

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]
ME = Identity("sender@example.org", "Zoë Sender", "Zoë")
T0 = 1_700_000_000


@dataclass
class Harness:
    """An outbox on the test store, talking to the test server, with recording callbacks."""

    store: Store
    server: SmtpTestServer
    now: float = T0
    sent_copies: list[tuple[str, bytes]] = field(default_factory=list)
    marked: list[tuple[int, str]] = field(default_factory=list)
    sink_error: Exception | None = None

    def outbox(self, password: str | None = None) -> Outbox:
        config = account_config(
            self.server.host,
            self.server.port,
            self.server.ca_file,
            self.server.username,
            password or self.server.password,
        )
        return Outbox(
            self.store,
            {ACCOUNT: config},
            sent_sink=self._sink,
            mark_origin=self._mark,
            clock=lambda: self.now,
            jitter=lambda: 0.0,
            local_hostname="client.test",
        )

    async def _sink(self, account: str, raw: bytes) -> None:
        if self.sink_error is not None:
            raise self.sink_error
        self.sent_copies.append((account, raw))

    async def _mark(self, origin_pk: int, action: str) -> None:
        self.marked.append((origin_pk, action))

    async def items(self) -> list[oq.OutboxItem]:
        async with self.store.session() as session:
            return await oq.list_outbox(session)


@pytest.fixture
async def harness(store: Store, smtp_server: SmtpTestServer) -> AsyncIterator[Harness]:
    yield Harness(store, smtp_server)


def simple(to: tuple[str, ...] = ("ann@example.com",), subject: str = "hello") -> bytes:
    return finalize(new_message(ME, list(to), [], [], subject, "Hello.\n"), ME)[0]


async def submit(outbox: Outbox, raw: bytes, recipients: list[str], **kw: object) -> int:
    return await outbox.submit(ACCOUNT, raw, ME.email, recipients, **kw)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


async def stored_origin(store: Store) -> int:
    async with store.session() as session:
        account = await queries.ensure_account(session, ACCOUNT, "imap", ME.email)
        folder = await queries.ensure_folder(session, account, "INBOX", role="inbox")
        envelope = Envelope(message_id="<orig@example.com>", subject="Plans")
        (pk,) = await queries.insert_messages(session, folder, [NewMessage(envelope, uid=1)])
    return pk


async def test_a_submitted_message_is_committed_before_any_attempt(harness: Harness):
    outbox = harness.outbox()
    pk = await submit(outbox, simple(), ["ann@example.com"])
    (item,) = await harness.items()
    assert (item.id, item.status, item.attempts) == (pk, "queued", 0)
    assert item.message_id.endswith("@example.org>")
    assert harness.server.messages == []


async def test_a_composed_reply_arrives_intact_and_bcc_only_in_the_envelope(harness: Harness):
    origin = await stored_origin(harness.store)
    original = (
        b"From: Ann <ann@example.com>\r\nTo: sender@example.org\r\nSubject: Plans\r\n"
        b"Message-ID: <orig@example.com>\r\nReferences: <root@example.com>\r\n\r\nLunch?\r\n"
    )
    draft = reply(original, [ME], mode="sender", body_prefix="Grüße — yes, at noon.")
    msg = new_message(
        ME,
        draft.to,
        ["Ωmega Bob <bob@example.com>"],
        ["hidden@example.net"],
        "Re: Plans — café",
        draft.body,
        [("menü.pdf", b"%PDF-1.4", "application/pdf")],
    )
    msg["In-Reply-To"] = draft.in_reply_to
    msg["References"] = " ".join(draft.references)
    raw, sender, recipients = finalize(msg, ME)
    outbox = harness.outbox()
    await outbox.submit(
        ACCOUNT, raw, sender, recipients, origin_pk=origin, origin_action="answered"
    )

    report = await outbox.flush()

    (received,) = await harness.server.wait_for(1)
    assert received.raw == raw
    assert received.mail_from == "sender@example.org"
    assert set(received.rcpt_tos) == {"ann@example.com", "bob@example.com", "hidden@example.net"}
    assert b"hidden" not in received.raw and b"\r\nBcc:" not in received.raw
    back = parse(received.raw)
    assert str(back["Subject"]) == "Re: Plans — café"
    subject_line = received.raw.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0]
    assert b"=?utf-8?" in subject_line and received.raw.isascii()
    assert back["Cc"].addresses[0].display_name == "Ωmega Bob"
    assert back["In-Reply-To"] == "<orig@example.com>"
    assert back["References"] == "<root@example.com> <orig@example.com>"
    body = back.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    assert "Grüße — yes, at noon." in body.get_content()
    assert "> Lunch?" in body.get_content()
    (attachment,) = back.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content_type()) == (
        "menü.pdf",
        "application/pdf",
    )
    assert attachment.get_content() == b"%PDF-1.4"
    assert [d.outcome for d in report.deliveries] == ["sent"]
    assert harness.sent_copies == [(ACCOUNT, raw)]
    assert harness.marked == [(origin, "answered")]
    assert await harness.items() == []


async def test_server_down_then_up_sends_the_message_exactly_once(harness: Harness):
    outbox = harness.outbox()
    await submit(outbox, simple(), ["ann@example.com"])
    harness.server.stop()

    down = await outbox.flush()

    (delivery,) = down.retrying
    assert "cannot reach" in delivery.error
    assert ACCOUNT in down.account_errors
    (item,) = await harness.items()
    assert (item.status, item.attempts) == ("queued", 1)
    assert "cannot reach" in item.last_error
    assert item.next_attempt_at == T0 + 30
    assert (await outbox.flush()).deliveries == ()  # not due yet

    harness.server.start()
    harness.now = item.next_attempt_at
    up = await outbox.flush()
    again = await outbox.flush()

    assert len(up.sent) == 1 and again.deliveries == ()
    assert len(await harness.server.wait_for(1)) == 1
    assert await harness.items() == []
    assert len(harness.sent_copies) == 1


async def test_a_4xx_keeps_the_message_queued_with_the_servers_reason(harness: Harness):
    harness.server.data_reply = "452 4.3.1 insufficient system storage"
    outbox = harness.outbox()
    first = await submit(outbox, simple(), ["ann@example.com"])
    second = await submit(outbox, simple(subject="second"), ["ann@example.com"])

    report = await outbox.flush()

    assert [d.outcome for d in report.deliveries] == ["retry", "retry"]  # the server was up
    items = await harness.items()
    assert all(i.status == "queued" and "452 4.3.1" in i.last_error for i in items)
    harness.server.data_reply = None
    harness.now += 60
    assert [d.outbox_id for d in (await outbox.flush()).sent] == [first, second]


async def test_a_5xx_fails_the_message_and_keeps_it_to_requeue(harness: Harness):
    harness.server.data_reply = "554 5.7.1 message rejected as spam"
    outbox = harness.outbox()
    pk = await submit(outbox, simple(), ["ann@example.com"])

    report = await outbox.flush()

    (failed,) = report.failed
    assert "554 5.7.1 message rejected as spam" in failed.error
    (item,) = await harness.items()
    assert (item.status, item.last_error) == ("failed", failed.error)
    harness.now += 10 * BACKOFF_MAX
    assert (await outbox.flush()).deliveries == ()  # failed is not retried on its own
    harness.server.data_reply = None
    await outbox.requeue(pk)
    assert [d.outbox_id for d in (await outbox.flush()).sent] == [pk]
    assert len(await harness.server.wait_for(1)) == 1


async def test_a_failed_message_can_be_taken_back_for_editing(harness: Harness):
    harness.server.mail_reply = "553 5.7.1 not your address"
    outbox = harness.outbox()
    pk = await submit(outbox, simple(), ["ann@example.com"])
    await outbox.flush()
    draft_id = await outbox.to_draft(pk)
    async with harness.store.session() as session:
        assert (await oq.load_draft(session, draft_id)).raw.startswith(b"From: ")
    assert await harness.items() == []


async def test_a_partial_refusal_is_reported_per_recipient(harness: Harness):
    harness.server.rcpt_replies = {
        "gone@example.com": "550 5.1.1 no such user",
        "busy@example.com": "450 4.2.1 mailbox busy",
    }
    outbox = harness.outbox()
    everyone = ["ann@example.com", "gone@example.com", "busy@example.com"]
    raw = simple(tuple(everyone))
    await submit(outbox, raw, everyone)

    report = await outbox.flush()

    (sent,) = report.sent
    assert sent.accepted == ("ann@example.com",)
    assert dict(sent.refused) == {
        "gone@example.com": "550 5.1.1 no such user",
        "busy@example.com": "450 4.2.1 mailbox busy",
    }
    assert "gone@example.com: 550 5.1.1 no such user" in sent.error
    (retry,) = await harness.items()  # only the temporarily refused recipient is kept
    assert retry.id == sent.retry_id
    assert retry.recipients == ("busy@example.com",)
    assert retry.last_error == "refused for now: busy@example.com"
    assert retry.next_attempt_at == T0 + 30

    harness.server.rcpt_replies = {}
    harness.now = retry.next_attempt_at
    await outbox.flush()
    first, second = await harness.server.wait_for(2)
    assert first.rcpt_tos == ("ann@example.com",)
    assert second.rcpt_tos == ("busy@example.com",)
    assert second.raw == raw


async def test_a_failing_sent_copy_is_reported_kept_and_saved_at_the_next_flush(
    harness: Harness,
):
    harness.sink_error = OSError("Sent folder is full")
    outbox = harness.outbox()
    origin = await stored_origin(harness.store)
    await submit(outbox, simple(), ["ann@example.com"], origin_pk=origin, origin_action="answered")

    report = await outbox.flush()

    (sent,) = report.sent
    assert sent.follow_up_errors == (
        "the message was sent, but its Sent copy was not saved (Sent folder is full); "
        "it stays in the outbox and the copy is tried again at the next send",
    )
    (kept,) = await harness.items()
    assert (kept.status, kept.last_error) == ("sent", "Sent copy pending: Sent folder is full")
    assert len(await harness.server.wait_for(1)) == 1
    harness.sink_error = None
    (again,) = (await outbox.flush()).deliveries
    assert again.follow_up_errors == () and len(harness.sent_copies) == 1
    assert await harness.items() == []
    assert (await outbox.flush()).deliveries == ()
    assert len(harness.server.messages) == 1
    assert harness.marked == [(origin, "answered")]  # the original is marked once


async def test_a_refused_login_keeps_every_message_and_tries_only_once(harness: Harness):
    outbox = harness.outbox(password="wrong")
    await submit(outbox, simple(), ["ann@example.com"])
    await submit(outbox, simple(subject="two"), ["ann@example.com"])

    report = await outbox.flush()

    assert "refused the login" in report.account_errors[ACCOUNT]
    assert len(harness.server.logins) == 1
    assert [i.status for i in await harness.items()] == ["queued", "queued"]
    assert [i.attempts for i in await harness.items()] == [1, 0]


async def test_a_message_left_sending_by_a_crash_is_sent_on_the_next_flush(harness: Harness):
    outbox = harness.outbox()
    pk = await submit(outbox, simple(), ["ann@example.com"])
    async with harness.store.session() as session:
        await oq.mark_sending(session, pk)  # as if the process died right after this commit

    report = await outbox.flush()

    assert [d.outbox_id for d in report.sent] == [pk]
    assert len(await harness.server.wait_for(1)) == 1


async def test_cancel_removes_a_waiting_message(harness: Harness):
    outbox = harness.outbox()
    pk = await submit(outbox, simple(), ["ann@example.com"])
    await outbox.cancel(pk)
    assert await outbox.items() == []
    assert (await outbox.flush()).deliveries == ()


async def test_a_flush_never_logs_the_password(harness: Harness, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    outbox = harness.outbox()
    await submit(outbox, simple(), ["ann@example.com"])
    await outbox.flush()
    await harness.server.wait_for(1)
    ours = [r for r in caplog.records if r.name.startswith(("tuimail", "aiosmtplib", "asyncio"))]
    assert any(r.name == "tuimail.sync.outbox" for r in ours)
    for record in ours:
        assert harness.server.password not in record.getMessage() + (record.exc_text or "")


def test_backoff_doubles_from_30_seconds_to_an_hour_with_jitter():
    assert [backoff(n, 0.0) for n in (1, 2, 3, 7, 8, 50)] == [30, 60, 120, 1920, 3600, 3600]
    assert backoff(1, 1.0) == 22
    assert backoff(50, 0.999) >= BACKOFF_MAX * 0.75


# Crash tests: the flush runs in a child process that is SIGKILLed at chosen points.


async def crash_setup(data_dir: Path, server: SmtpTestServer) -> tuple[Path, bytes]:
    path = data_dir / "mail.sqlite3"
    store = await open_store(path)
    config = account_config(
        server.host, server.port, server.ca_file, server.username, server.password
    )
    raw = simple()
    outbox = Outbox(store, {ACCOUNT: config}, sent_sink=_ignore)
    await outbox.submit(ACCOUNT, raw, ME.email, ["ann@example.com"])
    await store.close()
    return path, raw


async def _ignore(account: str, raw: bytes) -> None:
    return None


async def start_child(path: Path, server: SmtpTestServer, pause: str) -> asyncio.subprocess.Process:
    args = {
        "store": str(path),
        "host": server.host,
        "port": server.port,
        "ca_file": str(server.ca_file),
        "username": server.username,
        "password": server.password,
        "pause": pause,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sync.outbox_child",
        json.dumps(args),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )


async def kill(child: asyncio.subprocess.Process) -> None:
    child.send_signal(signal.SIGKILL)
    assert await child.wait() == -signal.SIGKILL


async def rerun(path: Path, server: SmtpTestServer) -> tuple[list[oq.OutboxItem], list[bytes]]:
    """Reopen the store after the kill: report what it holds, then flush and collect copies."""
    store = await open_store(path)
    copies: list[bytes] = []

    async def sink(account: str, raw: bytes) -> None:
        copies.append(raw)

    try:
        async with store.session() as session:
            left = await oq.list_outbox(session)
        config = account_config(
            server.host, server.port, server.ca_file, server.username, server.password
        )
        outbox = Outbox(store, {ACCOUNT: config}, sent_sink=sink, local_hostname="client.test")
        await outbox.flush()
        async with store.session() as session:
            assert await oq.list_outbox(session) == []
    finally:
        await store.close()
    return left, copies


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "status_after_kill", "deliveries"),
    [("connect", "sending", 1), ("accepted", "sending", 2), ("sink", "sent", 1)],
)
async def test_a_killed_flush_leaves_the_message_to_be_delivered_on_the_next_run(
    data_dir: Path, smtp_server: SmtpTestServer, point: str, status_after_kill: str, deliveries: int
):
    path, raw = await crash_setup(data_dir, smtp_server)
    child = await start_child(path, smtp_server, point)
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 15)
    assert line.decode().strip() == f"paused {point}"
    await kill(child)

    left, copies = await rerun(path, smtp_server)

    assert [item.status for item in left] == [status_after_kill]
    received = await smtp_server.wait_for(deliveries)
    assert len(received) == deliveries  # a duplicate only when the server had accepted DATA
    assert all(r.raw == raw for r in received)
    assert copies == [raw]


@pytest.mark.slow
async def test_a_flush_killed_during_data_delivers_once_on_the_next_run(
    data_dir: Path, smtp_server: SmtpTestServer
):
    path, raw = await crash_setup(data_dir, smtp_server)
    hold = smtp_server.hold_next_data()
    child = await start_child(path, smtp_server, "none")
    await smtp_server.wait_until(lambda: hold.arrived, timeout=15)
    await kill(child)
    hold.release(accept=False)  # the server never acknowledged it, so it keeps nothing

    left, copies = await rerun(path, smtp_server)

    assert [item.status for item in left] == ["sending"]
    (received,) = await smtp_server.wait_for(1)
    assert received.raw == raw
    assert copies == [raw]
