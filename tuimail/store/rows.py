"""Stored rows as records: one conversion for the ORM's objects and for plain sqlite3 rows.

The first screen is read with the standard library's sqlite3 before SQLAlchemy is imported
(``store.first_screen``); everything else reads through the ORM (``store.queries``). Both hand
the same records up, built here, so the two paths cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from tuimail.store.records import FolderState, MessageRow, from_timestamp

# Role order puts special-use folders first in the folder tree, as users expect.
ROLE_ORDER = ("inbox", "drafts", "sent", "archive", "junk", "trash")

# The columns a FolderState and a MessageRow are made of, for readers that name them in SQL.
FOLDER_COLUMNS = (
    "id, account_id, name, role, delimiter, is_local, subscribed, uidvalidity, uidnext, "
    "highestmodseq, total_count, unread_count"
)
MESSAGE_COLUMNS = (
    'id, folder_id, uid, uidl, message_id, in_reply_to, "references", thread_id, date, '
    "from_name, from_email, to_addrs, cc_addrs, subject, seen, answered, flagged, deleted, "
    "draft, forwarded, keywords, size, has_attachments, preview"
)


def folder_record(folder: Any) -> FolderState:
    """A folder's record from anything with its columns as attributes."""
    return FolderState(
        id=folder.id,
        account_id=folder.account_id,
        name=folder.name,
        role=folder.role,
        delimiter=folder.delimiter,
        is_local=bool(folder.is_local),
        subscribed=bool(folder.subscribed),
        uidvalidity=folder.uidvalidity,
        uidnext=folder.uidnext,
        highestmodseq=folder.highestmodseq,
        total_count=folder.total_count,
        unread_count=folder.unread_count,
    )


def folder_order(folder: FolderState) -> tuple[int, str]:
    """Sort key of the folder tree: special-use roles first, then by name."""
    rank = ROLE_ORDER.index(folder.role) if folder.role in ROLE_ORDER else len(ROLE_ORDER)
    return rank, folder.name.casefold()


def message_row(message: Any) -> MessageRow:
    """An index row from anything with the message's columns as attributes.

    sqlite3 hands booleans back as 0 and 1; the ORM as bools. Both become bools here.
    """
    return MessageRow(
        id=message.id,
        folder_id=message.folder_id,
        uid=message.uid,
        uidl=message.uidl,
        message_id=message.message_id,
        in_reply_to=message.in_reply_to,
        references=tuple(message.references.split()),
        thread_id=message.thread_id,
        date=from_timestamp(message.date),
        from_name=message.from_name,
        from_email=message.from_email,
        to_addrs=message.to_addrs,
        cc_addrs=message.cc_addrs,
        subject=message.subject,
        seen=bool(message.seen),
        answered=bool(message.answered),
        flagged=bool(message.flagged),
        deleted=bool(message.deleted),
        draft=bool(message.draft),
        forwarded=bool(message.forwarded),
        keywords=tuple(message.keywords.split()),
        size=message.size,
        has_attachments=bool(message.has_attachments),
        preview=message.preview,
    )
