"""Undo send and send later in the outbox, against a real aiosmtpd: a message waits for its due
time, goes once, can be taken back until a flush claims it, and survives a SIGKILL while it
waits."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.harness.smtp import SmtpTestServer
from tests.sync.outbox_child import ACCOUNT, account_config
from tests.sync.test_outbox import ME, ROOT, Harness, kill, simple, submit
from tuimail.errors import MessageNotFound
from tuimail.mail.compose import draft_from_bytes, finalize, new_message
from tuimail.protocols import smtp
from tuimail.store import outbox_queries as oq
from tuimail.store.db import Store, open_store
from tuimail.sync.outbox import LATE_AFTER, Outbox

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def harness(store: Store, smtp_server: SmtpTestServer) -> Harness:
    return Harness(store, smtp_server)


async def test_a_delayed_message_waits_for_its_due_time_then_arrives_once(harness: Harness) -> None:
    outbox = harness.outbox()
    due = int(harness.now) + 10
    await submit(outbox, simple(), ["ann@example.com"], send_at=due)

    early = await outbox.flush()
    assert early.deliveries == ()
    (item,) = await harness.items()
    assert (item.status, item.send_at) == ("queued", due)

    harness.now = due
    assert len((await outbox.flush()).sent) == 1
    harness.now = due + 60
    assert (await outbox.flush()).deliveries == ()
    await harness.server.wait_for(1)
    assert len(harness.server.messages) == 1
    assert await harness.items() == []


async def test_a_message_taken_back_during_the_delay_never_reaches_the_server(
    harness: Harness,
) -> None:
    outbox = harness.outbox()
    composed = new_message(
        ME,
        ["ann@example.com"],
        [],
        ["hidden@example.net"],
        "Plans",
        "Lunch?\n",
        [("plan.pdf", b"%PDF-1.4", "application/pdf")],
    )
    raw, sender, recipients = finalize(composed, ME)
    outbox_id = await outbox.submit(
        ACCOUNT,
        raw,
        sender,
        recipients,
        send_at=int(harness.now) + 10,
        draft_raw=composed.as_bytes(),
    )

    taken = await outbox.take_back(outbox_id)
    harness.now += 3600
    assert (await outbox.flush()).deliveries == ()
    assert harness.server.messages == []
    draft = draft_from_bytes(taken.raw, [ME])
    assert draft.bcc == ("hidden@example.net",)
    assert [a[:2] if isinstance(a, tuple) else a for a in draft.attachments] == [
        ("plan.pdf", b"%PDF-1.4")
    ]


async def test_a_message_being_sent_can_no_longer_be_taken_back(harness: Harness) -> None:
    handed_over = asyncio.Event()
    release = asyncio.Event()

    async def held_send(
        settings: smtp.SmtpSettings, raw: bytes, sender: str, recipients: Sequence[str], **kw: Any
    ) -> smtp.SendResult:
        handed_over.set()
        await release.wait()
        return await smtp.send(settings, raw, sender, recipients, **kw)

    outbox = harness.outbox()
    outbox._send = held_send
    outbox_id = await submit(outbox, simple(), ["ann@example.com"])
    flushing = asyncio.create_task(outbox.flush())
    await handed_over.wait()
    with pytest.raises(MessageNotFound, match="being sent"):
        await outbox.take_back(outbox_id)
    release.set()
    assert len((await flushing).sent) == 1
    assert len(await harness.server.wait_for(1)) == 1


async def test_a_take_back_racing_a_flush_neither_sends_twice_nor_loses_the_message(
    harness: Harness,
) -> None:
    outbox = harness.outbox()
    outcomes = []
    for _ in range(12):
        outbox_id = await submit(outbox, simple(), ["ann@example.com"])

        async def take(outbox_id: int) -> bool:
            try:
                await outbox.take_back(outbox_id)
            except MessageNotFound:
                return False
            return True

        report, taken = await asyncio.gather(outbox.flush(), take(outbox_id))
        sent = any(d.outbox_id == outbox_id and d.outcome == "sent" for d in report.deliveries)
        assert sent != taken  # exactly one of the two got it
        outcomes.append(sent)
    await harness.server.wait_until(lambda: len(harness.server.messages) == sum(outcomes))
    assert len(harness.server.messages) == sum(outcomes)
    assert await harness.items() == []


async def test_a_scheduled_message_due_while_nothing_ran_goes_at_once_and_is_late(
    harness: Harness,
) -> None:
    outbox = harness.outbox()
    due = int(harness.now) + 60
    await submit(outbox, simple(), ["ann@example.com"], send_at=due)
    harness.now = due + 3600  # tuimail was not running at the time
    (delivery,) = (await outbox.flush()).sent
    assert delivery.late_by == 3600
    await harness.server.wait_for(1)


async def test_a_message_sent_in_time_is_not_late(harness: Harness) -> None:
    outbox = harness.outbox()
    due = int(harness.now) + 60
    await submit(outbox, simple(), ["ann@example.com"], send_at=due)
    harness.now = due + LATE_AFTER
    (delivery,) = (await outbox.flush()).sent
    assert delivery.late_by == 0


async def test_rescheduling_moves_the_due_time_and_a_flush_keeps_it(harness: Harness) -> None:
    outbox = harness.outbox()
    outbox_id = await submit(outbox, simple(), ["ann@example.com"])
    later = int(harness.now) + 7200
    await outbox.reschedule(outbox_id, later)
    async with harness.store.session() as session:
        await oq.requeue(session, outbox_id)  # what `outbox --flush` does to every waiting one
    assert (await outbox.flush()).deliveries == ()
    (item,) = await harness.items()
    assert item.send_at == later


async def test_a_sigkill_during_the_delay_leaves_it_queued_and_the_next_run_sends_it_once(
    data_dir: Path, smtp_server: SmtpTestServer
) -> None:
    path = data_dir / "store.sqlite3"
    await (await open_store(path)).close()
    args = {
        "store": str(path),
        "host": smtp_server.host,
        "port": smtp_server.port,
        "ca_file": str(smtp_server.ca_file),
        "username": smtp_server.username,
        "password": smtp_server.password,
        "delay": 60,
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sync.outbox_delay_child",
        json.dumps(args),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 15)
    assert line.decode().startswith("queued ")
    await kill(child)

    store = await open_store(path)
    try:
        async with store.session() as session:
            (item,) = await oq.list_outbox(session)
        assert item.status == "queued" and item.send_at is not None
        config = account_config(
            smtp_server.host,
            smtp_server.port,
            smtp_server.ca_file,
            smtp_server.username,
            smtp_server.password,
        )

        async def sink(account: str, raw: bytes) -> None:
            return None

        outbox = Outbox(store, {ACCOUNT: config}, sent_sink=sink)
        assert (await outbox.flush(now=item.send_at - 1)).deliveries == ()  # not yet due
        assert len((await outbox.flush(now=item.send_at)).sent) == 1
        assert (await outbox.flush(now=item.send_at + 60)).deliveries == ()
        async with store.session() as session:
            assert await oq.list_outbox(session) == []
    finally:
        await store.close()
    assert len(await smtp_server.wait_for(1)) == 1
    assert smtp_server.messages[0].mail_from == ME.email
