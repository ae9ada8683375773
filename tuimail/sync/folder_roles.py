"""Folder roles (Sent, Drafts, Trash, ...) for servers without SPECIAL-USE.

STUB: filled in by the work on issue 23 item 3. The signature is fixed: the LIST result in,
the same folders out with ``role`` set from RFC 6154 attributes, then the account's
configured names, then the usual names.
"""

from __future__ import annotations

from collections.abc import Sequence

from tuimail.config import AccountConfig
from tuimail.protocols.imap_records import FolderInfo


def with_roles(listed: Sequence[FolderInfo], account: AccountConfig) -> list[FolderInfo]:
    """``listed`` with a role on each folder that has one (at most one folder per role)."""
    return list(listed)
