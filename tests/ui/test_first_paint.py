"""The first painted index row costs only what the first screen needs (issue #22: start-up
within 1.3x of a bare Textual app): no screen that only a key opens is loaded before it, and
the cycle collector does not walk the objects of start-up's imports again while it paints."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.ui.conftest import SyncedMailbox

# A process of its own, started as bench/common.py's first-paint child starts the app: this
# test process imported everything long ago.
CHILD = """
import asyncio, gc, json, sys
from pathlib import Path
from tuimail.config import parse_config
from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.message_index import MessageIndex

KEY_ONLY = (
    "tuimail.ui.screens.search", "tuimail.ui.screens.folder_picker",
    "tuimail.ui.screens.link_picker", "tuimail.ui.screens.save_prompt",
    "tuimail.ui.screens.draft_picker", "tuimail.ui.screens.help", "tuimail.ui.screens.choice",
    "tuimail.ui.screens.compose",
)

async def main():
    app = TuimailApp(parse_config(json.loads(sys.argv[2])), store_path=Path(sys.argv[1]),
                     start_sync=False)
    async with app.run_test(size=(160, 48)) as pilot:
        while not any(i.rows_painted for i in app.screen.query(MessageIndex)):
            await asyncio.sleep(0.001)
        at_paint = {
            "loaded": [name for name in KEY_ONLY if name in sys.modules],
            "imports_set_aside": not any(o is TuimailApp for o in gc.get_objects()),
        }
        while app._store is None:
            await asyncio.sleep(0.01)
        await pilot.press("question_mark")  # a key-only screen still opens
        while type(app.screen).__name__ != "HelpScreen":
            await asyncio.sleep(0.01)
        print(json.dumps(at_paint))

asyncio.run(main())
"""


def first_paint(synced: SyncedMailbox) -> dict[str, object]:
    table = {"accounts": {"home": synced.table}}
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(synced.path), json.dumps(table)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return seen


def test_the_first_index_row_paints_without_the_screens_only_a_key_opens(
    synced: SyncedMailbox,
) -> None:
    seen = first_paint(synced)
    assert seen["loaded"] == []
    # The classes and functions the imports made are set aside before the first screen is
    # built: the collections that run while it paints walk only what start-up makes since.
    assert seen["imports_set_aside"] is True


# The interface's module loading (from Textual's first module to app.py's last import), watched
# from the collector's side; the config is loaded first, as the command line and the bench
# child load it.
IMPORTS_CHILD = """
import gc, json, sys
from tuimail.config import parse_config
during = []
def seen(phase, info):
    app = sys.modules.get("tuimail.ui.app")
    loading = "textual" in sys.modules and not hasattr(app, "without_colour")  # its last import
    if phase == "start" and loading:
        during.append(info["generation"])
gc.callbacks.append(seen)
import tuimail.ui.app
print(json.dumps(during))
"""


def test_the_interface_modules_load_without_the_collector_walking_them() -> None:
    run = subprocess.run(
        [sys.executable, "-c", IMPORTS_CHILD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # Before: about 60 collections (one of them full, ~20 ms) while Textual and the screens loaded.
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
