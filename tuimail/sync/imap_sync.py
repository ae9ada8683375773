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


async def append_to_role(
    store: Store, name: str, account: AccountConfig, role: str, raw: bytes, flags: set[str]
) -> None:
    """APPEND a message to the folder with a special-use role (Sent, Drafts)."""
    raise TuimailError(f"{name}: saving to the IMAP {role} folder is not available yet")
