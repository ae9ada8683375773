"""SIGKILL an outbox flush of ten messages at random moments (tests/sync/test_outbox.py kills it
at four named points): the store stays intact, every message is delivered or still waiting, and
a message reaches the server twice only when the kill fell after the server accepted its DATA and
before "sent" was committed."""

from __future__ import annotations

import asyncio
import random
import smtplib
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.harness.smtp import SmtpTestServer
from tests.reliability.crash_checks import check_store, copy_store, empty_store
from tests.reliability.crash_sending_worker import ignore_sent_copy
from tests.reliability.crash_workers import ForkServer
from tests.sync.outbox_child import ACCOUNT, account_config
from tuimail.mail.compose import Identity, finalize, new_message
from tuimail.mail.parse import envelope_from_bytes
from tuimail.store.db import open_store
from tuimail.sync.outbox import Outbox

WORKER = "tests.reliability.crash_sending_worker"
ME = Identity("sender@example.org", "Zoë Sender", "Zoë")
MESSAGES = 10
KILLS = 10


def queue_messages(path: Path, server: SmtpTestServer) -> list[str]:
    """Queue MESSAGES in the outbox of the store at ``path``; returns their Message-IDs."""

    async def queue() -> list[str]:
        store = await open_store(path)
        config = account_config(
            server.host, server.port, server.ca_file, server.username, server.password
        )
        outbox = Outbox(store, {ACCOUNT: config}, sent_sink=ignore_sent_copy)
        ids = []
        try:
            for n in range(MESSAGES):
                draft = new_message(ME, ["ann@example.com"], [], [], f"crash {n}", "Hello.\n")
                raw = finalize(draft, ME)[0]
                await outbox.submit(ACCOUNT, raw, ME.email, ["ann@example.com"])
                ids.append(envelope_from_bytes(raw).message_id or "")
        finally:
            await store.close()
        return ids

    return asyncio.run(queue())


def outbox_left(path: Path) -> dict[str, str]:
    """Message-ID -> status of what the outbox still holds, from an intact store."""
    check_store(path)
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT message_id, status FROM outbox").fetchall())
    finally:
        db.close()


def delivered(server: SmtpTestServer, since: int) -> Counter[str]:
    return Counter(envelope_from_bytes(r.raw).message_id or "" for r in server.messages[since:])


def settle(server: SmtpTestServer) -> None:
    """Let the server finish what the killed client had sent: its single event loop handles
    the dead connection's bytes before it can answer a new connection's EHLO and NOOP."""
    with smtplib.SMTP(server.host, server.port, timeout=10) as probe:
        probe.ehlo("settle.test")
        probe.noop()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_flush_killed_at_random_moments_sends_each_message_once_or_counts_the_duplicate(
    smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    rng = random.Random(777)
    args: dict[str, Any] = {
        "host": smtp_server.host,
        "port": smtp_server.port,
        "ca_file": str(smtp_server.ca_file),
        "username": smtp_server.username,
        "password": smtp_server.password,
    }
    kills = duplicates = 0
    with ForkServer(WORKER, "alembic.command") as workers:
        template = empty_store(tmp_path / "template")
        # A flush run to its end says how long one takes here.
        path = copy_store(template, tmp_path / "probe")
        queue_messages(path, smtp_server)
        whole = workers.run(WORKER, {**args, "store": str(path)})
        assert whole.completed and outbox_left(path) == {}
        rounds = 0
        while kills < KILLS:  # a flush that ended before its kill does not count
            rounds += 1
            assert rounds <= 2 * KILLS, f"only {kills} of {rounds} flushes were killed"
            path = copy_store(template, tmp_path / f"round{rounds}")
            ids = queue_messages(path, smtp_server)
            since = len(smtp_server.messages)
            moment = rng.uniform(0, whole.seconds)
            run = workers.run(WORKER, {**args, "store": str(path)}, moment)
            kills += run.killed
            settle(smtp_server)
            left = outbox_left(path)
            got = delivered(smtp_server, since)
            # Accepted by the server while still waiting here: the next flush sends it again.
            unconfirmed = {m: got[m] for m in ids if left.get(m) in ("queued", "sending")}
            for message_id in ids:
                if message_id not in unconfirmed:  # gone from the outbox, or committed "sent"
                    assert got[message_id] == 1, f"{message_id} left the outbox undelivered"
                assert got[message_id] <= 1
            assert workers.run(WORKER, {**args, "store": str(path)}).completed
            assert outbox_left(path) == {}
            final = delivered(smtp_server, since)
            assert final == Counter({m: 1 + unconfirmed.get(m, 0) for m in ids})
            duplicates += sum(unconfirmed.values())
    print(
        f"sending: {kills} random kills survived, 0 lost, {duplicates} duplicate(s), each "
        "after the server had accepted DATA"
    )
