"""IMAP sync: folders, headers, flags, expunges, IDLE (being built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tuimail.config import AccountConfig
from tuimail.errors import TuimailError
from tuimail.store.db import Store


async def sync_imap_account(
    store: Store, name: str, account: AccountConfig, progress: Callable[[Any], None] | None
) -> str:
    """One sync pass of an IMAP account."""
    raise TuimailError(f"{name}: IMAP sync is not available in this version yet")
