"""Address completion on a 100k-message store: the first count, then each completion.

    python -m bench.bench_addresses [--count 100000]

The store holds ``count`` received messages from a fifth as many senders (each under a few
names) and 5% sent messages to 4,000 people. Measured: ``refresh_addresses`` over all of it
(what the first compose after an upgrade does, in the background), and
``matching_addresses`` for prefixes from common ("s", one letter) to absent ("zzz"), each run
20 times after one warm-up. Floor, same run: sqlite3 counting the address table (one scan of
what completion reads at most).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tuimail.mail.envelope import Address, Envelope
from tuimail.store import address_queries, queries
from tuimail.store.db import open_store
from tuimail.store.records import NewMessage

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
PREFIXES = ("s", "u", "u1", "fri", "friend3", "person 1", "surname9", "zzz")
TARGET_MS = 20.0


def mail(count: int) -> tuple[list[NewMessage], list[NewMessage]]:
    """Received and sent messages; the user is ann@example.org."""
    ann = Address("Ann Example", "ann@example.org")
    senders = max(1, count // 5)
    received = [
        NewMessage(
            Envelope(
                None,
                "hello",
                (
                    Address(
                        f"Person {n % senders} Surname{n % 977}", f"u{n % senders}@h{n % 50}.net"
                    ),
                ),
                (ann,),
                date=NOW - timedelta(minutes=n),
            )
        )
        for n in range(count - count // 20)
    ]
    sent = [
        NewMessage(
            Envelope(
                None,
                "re: hello",
                (ann,),
                (Address(f"Friend {n % 4000}", f"friend{n % 4000}@example.com"),),
                date=NOW - timedelta(hours=n),
            )
        )
        for n in range(count // 20)
    ]
    return received, sent


async def run(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mail.sqlite3"
        store = await open_store(path)
        received, sent = mail(count)
        async with store.session() as session:
            account = await queries.ensure_account(session, "home", "pop3", "ann@example.org")
            inbox = await queries.ensure_folder(session, account, "INBOX", role="inbox")
            sent_pk = await queries.ensure_folder(session, account, "Sent", role="sent")
        for first in range(0, len(received), 10_000):
            async with store.session() as session:
                await queries.insert_messages(session, inbox, received[first : first + 10_000])
        async with store.session() as session:
            await queries.insert_messages(session, sent_pk, sent)
        started = time.perf_counter()
        while True:
            async with store.session() as session:
                if not await address_queries.refresh_addresses(session):
                    break
        refresh = time.perf_counter() - started
        now = int(NOW.timestamp())
        print(f"{count} messages; first refresh_addresses: {refresh:.2f} s")
        slowest = 0.0
        for prefix in PREFIXES:
            timings = []
            for _ in range(21):
                started = time.perf_counter()
                async with store.session() as session:
                    found = await address_queries.matching_addresses(session, prefix, now)
                timings.append(time.perf_counter() - started)
            timings = timings[1:]  # the warm-up
            slowest = max(slowest, max(timings))
            print(
                f"  {prefix!r:12} {len(found):2} found  median "
                f"{statistics.median(timings) * 1000:5.1f} ms  max {max(timings) * 1000:5.1f} ms"
            )
        await store.close()
        connection = sqlite3.connect(path)
        started = time.perf_counter()
        connection.execute("SELECT count(*), sum(length(search_text)) FROM addresses").fetchone()
        floor = time.perf_counter() - started
        addresses = connection.execute("SELECT count(*) FROM addresses").fetchone()[0]
        connection.close()
        print(f"  {addresses} addresses; floor (sqlite3 scan of them): {floor * 1000:.1f} ms")
        verdict = "ok" if slowest * 1000 < TARGET_MS else "OVER"
        print(f"  slowest completion {slowest * 1000:.1f} ms, target {TARGET_MS} ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    asyncio.run(run(parser.parse_args().count))


if __name__ == "__main__":
    main()
