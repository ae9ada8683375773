"""What the interface shows of the virtual folders (All inboxes, All unread, All flagged), and
which account a message of theirs belongs to.

Pure functions over the accounts' folders as the screen last read them: the folder tree lists
the virtual folders with these counts, the index names each line's account, and every action
(reply, move) goes by the message's own folder, never by the virtual folder.
"""

from __future__ import annotations

from collections.abc import Sequence

from tuimail.store.records import FolderState
from tuimail.store.virtual_folders import VIRTUAL_IDS, virtual_kind, virtual_state
from tuimail.sync.interface import AccountFolders


def virtual_folders(accounts: Sequence[AccountFolders]) -> tuple[FolderState, ...]:
    """The virtual folders with their counts; none before any account has folders."""
    folders = [folder for account in accounts for folder in account.folders]
    if not folders:
        return ()
    return tuple(virtual_state(kind, folders) for kind in VIRTUAL_IDS)


def virtual_folder(accounts: Sequence[AccountFolders], folder_id: int) -> FolderState | None:
    """The virtual folder ``folder_id`` with its current counts (None for a stored folder)."""
    kind = virtual_kind(folder_id)
    if kind is None:
        return None
    return virtual_state(kind, [f for account in accounts for f in account.folders])


def account_of(accounts: Sequence[AccountFolders], folder_id: int) -> str | None:
    """The name of the account a stored folder belongs to."""
    for account in accounts:
        if any(folder.id == folder_id for folder in account.folders):
            return account.name
    return None


def folder_names(accounts: Sequence[AccountFolders]) -> dict[int, str]:
    """Folder id -> its name on an index line: ``account/name`` when there are several
    accounts with folders (the index makes the names safe to show)."""
    several = len([account for account in accounts if account.folders]) > 1
    return {
        folder.id: f"{account.name}/{folder.name}" if several else folder.name
        for account in accounts
        for folder in account.folders
    }


def line_owners(accounts: Sequence[AccountFolders], folder_id: int) -> dict[int, str] | None:
    """For a virtual folder, what each index line names by its folder id: the account in All
    inboxes, the folder (``folder_names``) in the others; None for a stored folder, whose
    lines name nothing."""
    kind = virtual_kind(folder_id)
    if kind is None:
        return None
    if kind != "inboxes":
        return folder_names(accounts)
    return {folder.id: account.name for account in accounts for folder in account.folders}
