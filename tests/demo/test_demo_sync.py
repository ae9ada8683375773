"""Syncing the demo account (pymap, no CONDSTORE): counts printed to the user are true."""

from __future__ import annotations

import pytest

from tests.demo.test_servers import loaded, servers  # noqa: F401 (fixtures)
from tuimail.config import LoadedConfig
from tuimail.store.db import Store
from tuimail.sync.accounts import sync_account

pytestmark = pytest.mark.timeout(60)


async def test_a_demo_sync_where_nothing_changed_reports_no_flag_changes(
    store: Store,
    loaded: LoadedConfig,  # noqa: F811
) -> None:
    first = await sync_account(store, "demo", loaded.account("demo"))
    assert first.ok, first.summary
    again = await sync_account(store, "demo", loaded.account("demo"))
    assert again.ok and again.summary.startswith("0 new, 0 flag changes, 0 removed"), again.summary
