"""IMAP sync of a generated INBOX in Dovecot: tuimail beside a stdlib imaplib floor.

    python -m bench.bench_imap [--count 10000] [--runs 3]

Floor: one imaplib ``UID FETCH 1:*`` of the same items tuimail asks for (flags, internal date,
size, ENVELOPE, BODYSTRUCTURE, References/In-Reply-To, and MODSEQ where the server has CONDSTORE),
responses kept in memory, no parsing.
tuimail: a cold `sync` of the account into an empty store (parse, sanitise, commit), the search
indexing that follows it (timed on its own: the messages are in the index view before it), then
a no-change resync; each tuimail run is a child process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import json
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, dovecot, peak_rss_mb, print_table
from tests.harness.accounts import account, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tuimail.demo.mailbox import generate
from tuimail.protocols.imap_headers import FETCH_ITEMS


def floor(server: Dovecot, user: MailUser, items: str) -> int:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    imap = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context)
    imap.login(user.name, user.password)
    imap.select("INBOX", readonly=True)
    if items == FETCH_ITEMS:
        # tuimail adds MODSEQ where the server has CONDSTORE (imaplib keeps the capabilities
        # from before login, when Dovecot lists fewer); both sides must fetch the same items.
        status, data = imap.capability()
        if status == "OK" and b"CONDSTORE" in data[-1].upper().split():
            items += " MODSEQ"
    status, data = imap.uid("FETCH", "1:*", f"({items})")
    imap.logout()
    assert status == "OK"
    return sum(1 for d in data if isinstance(d, tuple))


def child(table_json: str) -> None:
    """Run in a child: cold sync, then a no-change sync; print timings and peak RSS as JSON."""
    from tuimail.store.db import open_store
    from tuimail.sync.accounts import index_for_search
    from tuimail.sync.imap_sync import sync_imap_account

    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            store = await open_store(Path(tmp) / "mail.sqlite3")
            cfg = account(json.loads(table_json))
            started = time.perf_counter()
            await sync_imap_account(store, "bench", cfg)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            await index_for_search(store)
            index = time.perf_counter() - started
            started = time.perf_counter()
            summary = await sync_imap_account(store, "bench", cfg)
            warm = time.perf_counter() - started
            assert summary.startswith("0 new"), summary
            await store.close()
            return {"cold": cold, "index": index, "warm": warm, "rss": peak_rss_mb()}

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    rows = {
        "py-imaplib-flags": Row(
            "A", "py-imaplib-flags", [], None, "floor: UID FETCH 1:* (UID FLAGS)"
        ),
        "py-imaplib-headers": Row(
            "A", "py-imaplib-headers", [], None, "floor: UID FETCH 1:* (tuimail's items), imaplib"
        ),
        "tuimail-cold": Row(
            "A", "tuimail-cold", [], "py-imaplib-headers", "tuimail cold sync into an empty store"
        ),
        "tuimail-index": Row(
            "A", "tuimail-index", [], "", "search indexing after the cold sync, on its own"
        ),
        "tuimail-nochange": Row(
            "A", "tuimail-nochange", [], "py-imaplib-flags", "tuimail resync, nothing changed"
        ),
    }
    rss: list[float] = []
    with dovecot() as server:
        user = server.add_user()
        started = time.perf_counter()
        server.deliver(user, (m.raw for m in generate(args.count, seed=42)))
        print(
            f"delivered {args.count} messages in {time.perf_counter() - started:.1f} s", flush=True
        )
        # Dovecot builds its index, and its cache of ENVELOPE and BODYSTRUCTURE, on the first
        # FETCH that asks for them: once here, outside the timings, so that the first timed
        # run (the floor's) does not pay for what every later one reads from the cache.
        floor(server, user, "UID FLAGS")
        floor(server, user, FETCH_ITEMS)
        table = json.dumps(imap_table(server, user))
        for _ in range(args.runs):
            started = time.perf_counter()
            floor(server, user, "UID FLAGS")
            rows["py-imaplib-flags"].seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert floor(server, user, FETCH_ITEMS) == args.count
            rows["py-imaplib-headers"].seconds.append(time.perf_counter() - started)
            result = subprocess.run(
                [sys.executable, "-m", "bench.bench_imap", "--child", table],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            rows["tuimail-cold"].seconds.append(figures["cold"])
            rows["tuimail-index"].seconds.append(figures["index"])
            rows["tuimail-nochange"].seconds.append(figures["warm"])
            rss.append(figures["rss"])
    print_table(f"IMAP sync, N = {args.count}", list(rows.values()))
    print(f"\npeak RSS of the tuimail child: {max(rss):.0f} MB")


if __name__ == "__main__":
    main()
