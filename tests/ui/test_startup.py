"""Start-up: the index of a real store paints before SQLAlchemy and the services are loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.ui.conftest import SYNCED, SyncedMailbox
from tuimail.store.files import lock_store
from tuimail.ui.widgets.message_index import MessageIndex

# Run in a process of its own: this test process imported the store layer long ago.
CHILD = """
import asyncio, json, sys
from pathlib import Path
from tuimail.config import parse_config
from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.message_index import MessageIndex

LAYER = ("sqlalchemy", "aiosqlite", "alembic", "tuimail.store.db", "tuimail.sync.service")

async def main():
    app = TuimailApp(parse_config(json.loads(sys.argv[2])), store_path=Path(sys.argv[1]),
                     start_sync=False)
    async with app.run_test(size=(120, 30)) as pilot:
        while not any(i.rows_painted for i in app.screen.query(MessageIndex)):
            await asyncio.sleep(0.001)
        loaded_at_paint = [name for name in LAYER if name in sys.modules]
        index = app.screen.query_one(MessageIndex)
        while app._store is None:
            await asyncio.sleep(0.01)
        await pilot.press("G")  # keys work once the store is open
        while index.count < int(sys.argv[3]) or index.current_row is None:
            await asyncio.sleep(0.01)
        print(json.dumps({
            "loaded_at_paint": loaded_at_paint,
            "loaded_after": [name for name in LAYER if name in sys.modules],
            "count": index.count,
            "cursor": index.cursor,
            "last_subject": index.current_row.subject,
        }))

asyncio.run(main())
"""


def test_the_index_paints_before_the_store_layer_loads(synced: SyncedMailbox) -> None:
    table = {"accounts": {"home": synced.table}}
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(synced.path), json.dumps(table), str(SYNCED)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["loaded_at_paint"] == []
    assert "sqlalchemy" in seen["loaded_after"] and "tuimail.sync.service" in seen["loaded_after"]
    assert seen["count"] == SYNCED and seen["cursor"] == SYNCED - 1
    assert seen["last_subject"]


async def test_quitting_at_once_leaves_the_store_free_for_the_next_start(
    synced: SyncedMailbox,
) -> None:
    app = synced.app()
    async with app.run_test() as pilot:
        await pilot.press("q")
    assert app.return_code in (0, None)
    os.close(lock_store(synced.path))  # a second tuimail is not refused: the lock was let go
    again = synced.app()
    async with again.run_test() as pilot:
        index = again.screen.query_one(MessageIndex)
        await pilot.pause()
        while again._store is None:
            await pilot.pause(0.01)
        assert index.count == SYNCED
