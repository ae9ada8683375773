"""All inboxes over two accounts of 50k messages each (100k in the union), 160x48 headless.

    python -m bench.bench_all_inboxes [--count 50000]

Measures, from choosing All inboxes (coming from one account's Inbox) to its first row painted
("open"), and to its whole order read ("whole order"). Floor measured in the same run: sqlite3
reading the union's ordered ids plus one page of rows, what opening it must at least do.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.bench_tui import SIZE, envelopes, until
from bench.common import fmt
from tuimail.config import parse_config
from tuimail.store import queries
from tuimail.store.db import open_store
from tuimail.store.virtual_folders import VIRTUAL_IDS
from tuimail.ui.app import TuimailApp
from tuimail.ui.messages import FolderChosen
from tuimail.ui.widgets.message_index import MessageIndex

ACCOUNTS = ("home", "work")
TARGET = 0.3  # the folder open target of bench_tui, for the union


async def build_store(path: Path, count: int) -> dict[str, int]:
    store = await open_store(path)
    inboxes = {}
    try:
        async with store.session() as session:
            for seed, name in enumerate(ACCOUNTS):
                account = await queries.ensure_account(session, name, "pop3", f"{name}@x.org")
                inbox = await queries.ensure_folder(
                    session, account, "INBOX", role="inbox", is_local=True
                )
                batch = envelopes(count, seed=seed)
                for first in range(0, count, 10_000):
                    await queries.insert_messages(session, inbox, batch[first : first + 10_000])
                await queries.refresh_counts(session, inbox)
                inboxes[name] = inbox
    finally:
        await store.close()
    return inboxes


def sqlite_floor(path: Path, inboxes: list[int]) -> float:
    started = time.perf_counter()
    with sqlite3.connect(path) as connection:
        marks = ",".join("?" * len(inboxes))
        ids = [
            row[0]
            for row in connection.execute(
                f"SELECT id FROM messages WHERE folder_id IN ({marks}) ORDER BY date DESC, id DESC",
                inboxes,
            )
        ]
        page = ",".join(str(pk) for pk in ids[:200])
        connection.execute(f"SELECT * FROM messages WHERE id IN ({page})").fetchall()
    return time.perf_counter() - started


def shown(index: MessageIndex, folder: int) -> bool:
    return index.folder_id == folder


def painted_past(index: MessageIndex, painted: int) -> bool:
    return index.rows_painted > painted


async def measure(path: Path, inboxes: dict[str, int], total: int) -> tuple[list[float], ...]:
    offline = {"host": "localhost", "port": 9, "security": "none"}
    config = parse_config(
        {"accounts": {name: {"email": f"{name}@x.org", "pop3": offline} for name in ACCOUNTS}}
    )
    app = TuimailApp(config, store_path=path, start_sync=False)
    union = VIRTUAL_IDS["inboxes"]
    opens: list[float] = []
    wholes: list[float] = []
    async with app.run_test(size=SIZE):
        index = app.screen.query_one(MessageIndex)
        await until(lambda: index.rows_painted > 0)
        for _ in range(5):
            for folder in (inboxes["home"], union):
                painted = index.rows_painted
                began = time.perf_counter()
                app.screen.post_message(FolderChosen(folder))
                await until(partial(shown, index, folder))
                await until(partial(painted_past, index, painted))
                if folder == union:
                    opens.append(time.perf_counter() - began)
                    await until(lambda: index.count == total)
                    wholes.append(time.perf_counter() - began)
                else:
                    await until(lambda: index.count == total // 2)
    return opens, wholes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000, help="messages per account")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mail.sqlite3"
        inboxes = asyncio.run(build_store(path, args.count))
        total = args.count * len(ACCOUNTS)
        floor = statistics.median(sqlite_floor(path, list(inboxes.values())) for _ in range(5))
        opens, wholes = asyncio.run(measure(path, inboxes, total))
    opened = statistics.median(opens)
    print(f"\n### All inboxes, {total} messages in {len(ACCOUNTS)} accounts, 160x48 headless\n")
    print("| measure | tuimail | floor | × floor | target | met |")
    print("|---|---:|---:|---:|---:|---|")
    met = "yes" if opened < TARGET else "NO"
    what = f"{fmt(floor)} (sqlite3: union's ordered ids + one page)"
    print(f"| open | {fmt(opened)} | {what} | {opened / floor:.2f} | < {fmt(TARGET)} | {met} |")
    print(f"| whole order | {fmt(statistics.median(wholes))} | | | | |")


if __name__ == "__main__":
    main()
