"""The app hands its input to the collector (tuimail/collector.py), and its settings back."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.ui.pilot import settle
from tests.ui.test_compose import make_app
from tuimail import collector


async def test_keys_pressed_in_the_app_count_as_input(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert gc.get_threshold()[2] == collector.NEVER
        before = app.collector.last_input
        await pilot.press("j")
        assert app.collector.last_input > before
    assert gc.get_threshold()[2] != collector.NEVER, "the app gives the settings back on exit"
