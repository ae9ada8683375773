"""Failures become one readable line on screen and a trace in the log, never a traceback."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Sequence
from pathlib import Path

import pytest

import tuimail.ui
from tests.ui.mailstore import fixed_clock, offline_config
from tests.ui.pilot import notifications, screen_text, settle
from tuimail.errors import StoreError
from tuimail.store.db import Store, open_store
from tuimail.store.records import MessageRow
from tuimail.sync.service import StoreMailService
from tuimail.ui.app import TuimailApp
from tuimail.ui.jobs import ReportsFailures


class BrokenRows(StoreMailService):
    async def rows(self, ids: Sequence[int]) -> list[MessageRow]:
        raise RuntimeError("the disk caught fire")


async def test_a_failing_worker_is_one_notification_and_a_logged_trace(
    generated_store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await open_store(generated_store)
    try:
        service = BrokenRows(store, offline_config())
        app = TuimailApp(offline_config(), service=service, clock=fixed_clock, start_sync=False)
        with caplog.at_level(logging.ERROR, logger="tuimail.ui.app"):
            async with app.run_test(size=(120, 30)) as pilot:
                await settle(pilot)
                shown = notifications(app)
                assert shown and all(
                    note.startswith("reading the message index failed (RuntimeError)")
                    for note in shown
                )
                assert "Traceback" not in screen_text(app)
                assert app.is_running
        assert "the disk caught fire" in caplog.text, "the trace goes to the log"
    finally:
        await store.close()


async def test_a_store_held_by_another_tuimail_stops_the_app_with_one_error(
    store: Store,
) -> None:
    app = TuimailApp(offline_config(), start_sync=False)  # the store fixture holds the lock
    async with app.run_test() as pilot:
        await pilot.pause()
    assert isinstance(app.startup_error, StoreError)
    assert "another tuimail" in str(app.startup_error)


def test_every_class_that_starts_workers_reports_their_failures() -> None:
    starters = []
    for module_info in pkgutil.walk_packages(tuimail.ui.__path__, "tuimail.ui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and "run_worker(" in inspect.getsource(cls):
                starters.append(cls)
    assert starters
    assert [c.__name__ for c in starters if not issubclass(c, ReportsFailures)] == []
