"""Whether a folder's STATUS shows anything new since its last complete pass.

One rule for the full pass (``imap_sync``, which then skips the folder) and the quick check
before it (``quick_check``, which must not import the sync machinery), so the two cannot drift.
"""

from __future__ import annotations

from tuimail.protocols.imap_records import FolderStatus
from tuimail.store.records import FolderState


def shows_no_change(folder: FolderState, status: FolderStatus) -> bool:
    """True when ``status`` equals what the folder's last complete pass stored."""
    if folder.uidnext is None or folder.highestmodseq is None:
        return False  # no complete pass with CONDSTORE yet: nothing to compare with
    return (
        status.uidvalidity == folder.uidvalidity
        and status.uidnext == folder.uidnext
        and status.highestmodseq == folder.highestmodseq
        and status.messages == folder.total_count
    )
