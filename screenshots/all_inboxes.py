"""Regenerate screenshots/all-inboxes.svg: All inboxes of two accounts (never edit it by hand).

    python screenshots/all_inboxes.py

Two offline accounts, "home" (the generated mailbox of ``make.py``) and "work" (a second
generated Inbox), in one store; the app runs headless at 120x35 with the clock fixed and
opens All inboxes from the folder pane.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.ui.mailstore import NOW, fill_store, fixed_clock, generated  # noqa: E402
from tests.ui.pilot import settle  # noqa: E402
from tuimail.config import parse_config  # noqa: E402
from tuimail.store import queries  # noqa: E402
from tuimail.store.db import open_store  # noqa: E402
from tuimail.store.virtual_folders import VIRTUAL_IDS  # noqa: E402
from tuimail.ui.app import TuimailApp  # noqa: E402
from tuimail.ui.widgets.folder_tree import FolderTree  # noqa: E402

OFFLINE = {"host": "localhost", "port": 9, "security": "none"}


async def build(path: Path) -> None:
    store = await open_store(path)
    try:
        await fill_store(store)
        async with store.session() as session:
            work = await queries.ensure_account(session, "work", "pop3", "ann@work.example")
            inbox = await queries.ensure_folder(session, work, "INBOX", role="inbox", is_local=True)
            start = NOW - timedelta(minutes=7 * 40 + 3)  # between home's, 7 minutes apart
            await queries.insert_messages(session, inbox, generated(40, seed=23, start=start))
            await queries.refresh_counts(session, inbox)
    finally:
        await store.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TUIMAIL_CONFIG"] = str(Path(tmp) / "config.toml")  # no user themes
        os.environ["TUIMAIL_DATA_DIR"] = str(Path(tmp) / "data")  # nothing of the user's
        path = Path(tmp) / "mail.sqlite3"
        await build(path)
        accounts = {
            "home": {"email": "ann@example.org", "pop3": OFFLINE},
            "work": {"email": "ann@work.example", "pop3": OFFLINE},
        }
        config = parse_config({"accounts": accounts})
        app = TuimailApp(config, store_path=path, clock=fixed_clock, start_sync=False)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            tree = app.screen.query_one(FolderTree)
            tree.select_folder(VIRTUAL_IDS["inboxes"])
            tree.focus()
            await pilot.press("enter")
            await settle(pilot)
            app.save_screenshot("all-inboxes.svg", str(HERE))
    print("screenshots/all-inboxes.svg", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
