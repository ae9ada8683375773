"""The virtual folders: All inboxes, All unread, All flagged, made of every account's folders.

Plain values, no SQL: the folder tree, the screen and the store's query agree here on which
folders a virtual folder is made of. A virtual folder has a negative id (no stored folder has
one), so the index, searches and the watcher carry it where they carry a folder's id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from tuimail.store.records import FolderState

VirtualKind = Literal["inboxes", "unread", "flagged"]

# Below the index's own stand-in for search results (-1): no stored folder is negative.
VIRTUAL_IDS: dict[VirtualKind, int] = {"inboxes": -100, "unread": -101, "flagged": -102}
VIRTUAL_NAMES: dict[VirtualKind, str] = {
    "inboxes": "All inboxes",
    "unread": "All unread",
    "flagged": "All flagged",
}
# Mail the user threw away or the server judged spam is not "unread mail" or "flagged mail".
EXCLUDED_ROLES = frozenset({"trash", "junk"})
_KINDS = {pk: kind for kind, pk in VIRTUAL_IDS.items()}


def virtual_kind(folder_id: int | None) -> VirtualKind | None:
    """Which virtual folder ``folder_id`` is (None for a stored folder)."""
    return _KINDS.get(folder_id) if folder_id is not None else None


def is_member(kind: VirtualKind, folder: FolderState) -> bool:
    """Whether ``folder``'s messages (those matching the kind) belong to the virtual folder."""
    if kind == "inboxes":
        return folder.role == "inbox"
    return folder.role not in EXCLUDED_ROLES


def virtual_state(kind: VirtualKind, folders: Iterable[FolderState]) -> FolderState:
    """The virtual folder as a folder record, its counts summed from its member folders.

    All flagged counts no unread messages (the folder counts do not say which are flagged);
    its total is its members' total, so that new mail anywhere changes it and it is read again.
    """
    members = [folder for folder in folders if is_member(kind, folder)]
    unread = 0 if kind == "flagged" else sum(f.unread_count for f in members)
    total = unread if kind == "unread" else sum(f.total_count for f in members)
    return FolderState(
        id=VIRTUAL_IDS[kind],
        account_id=0,  # no account: actions go by each message's own folder
        name=VIRTUAL_NAMES[kind],
        role=None,
        delimiter=None,
        is_local=True,  # nothing of its own on a server
        subscribed=True,
        uidvalidity=None,
        uidnext=None,
        highestmodseq=None,
        total_count=total,
        unread_count=unread,
    )
