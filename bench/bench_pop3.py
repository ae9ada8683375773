"""POP3 download of N messages from Dovecot: tuimail (durable commits) beside a poplib floor.

    python -m bench.bench_pop3 [--count 10000] [--runs 3]

Each run gets a fresh Dovecot user holding the same generated mailbox and a fresh store;
tuimail's figure includes creating the store, parsing every message, committing it with
synchronous=FULL and closing the store (which checkpoints the WAL). One-off imports are paid
before the first run on both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import poplib
import ssl
import tempfile
import time
from pathlib import Path

from bench.common import Row, dovecot, peak_rss_mb, print_table
from tests.harness.accounts import account, pop3_table
from tests.harness.dovecot import Dovecot
from tuimail.demo.mailbox import generate
from tuimail.store.db import open_store
from tuimail.sync.accounts import sync_pop3


def poplib_floor(server: Dovecot, user: str, password: str, tls: bool) -> int:
    """RETR 1..N with the stdlib, keeping the bytes in memory: the simplest correct client."""
    if tls:
        context = ssl.create_default_context(cafile=str(server.ca_file))
        pop: poplib.POP3 = poplib.POP3_SSL(server.host, server.pop3s_port, context=context)
    else:
        pop = poplib.POP3(server.host, server.pop3_port)
    pop.user(user)
    pop.pass_(password)
    count = pop.stat()[0]
    total = 0
    for n in range(1, count + 1):
        total += sum(len(line) for line in pop.retr(n)[1])
    pop.quit()
    return count


async def tuimail_run(server: Dovecot, user_name: str, tls: bool) -> int:
    user = server.users[user_name]
    overrides = {} if tls else {"port": server.pop3_port, "security": "none"}
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(Path(tmp) / "mail.sqlite3")
        try:
            table = pop3_table(server, user, **overrides)
            summary = await sync_pop3(store, "bench", account(table))
        finally:
            await store.close()
    return int(summary.split()[0])


async def warm_up() -> None:
    """Pay the one-off imports (Alembic for a new store, the POP3 sync) before any timing, as
    the floor's poplib was imported before its first run."""
    import tuimail.sync.pop3_fetch  # noqa: F401 - imported on first use by sync_pop3

    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(Path(tmp) / "mail.sqlite3")
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raws = [m.raw for m in generate(args.count, seed=42)]
    rows = {
        name: Row("C", name, [], reference, what)
        for name, reference, what in [
            ("py-poplib-retr", None, "floor: RETR 1..N, poplib, plain"),
            ("tuimail-pop3", "py-poplib-retr", "tuimail download + parse + durable commit, plain"),
            ("py-poplib-retr-tls", None, "floor: poplib, POP3S"),
            ("tuimail-pop3-tls", "py-poplib-retr-tls", "tuimail, POP3S"),
        ]
    }
    asyncio.run(warm_up())
    with dovecot() as server:
        for _ in range(args.runs):
            for tls in (False, True):
                suffix = "-tls" if tls else ""
                floor_user = server.add_user()
                server.deliver(floor_user, raws)
                started = time.perf_counter()
                assert poplib_floor(server, floor_user.name, floor_user.password, tls) == args.count
                rows[f"py-poplib-retr{suffix}"].seconds.append(time.perf_counter() - started)
                our_user = server.add_user()
                server.deliver(our_user, raws)
                started = time.perf_counter()
                assert asyncio.run(tuimail_run(server, our_user.name, tls)) == args.count
                rows[f"tuimail-pop3{suffix}"].seconds.append(time.perf_counter() - started)
    print_table(f"POP3 download, N = {args.count}", list(rows.values()))
    print(f"\npeak RSS of the benchmark process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
