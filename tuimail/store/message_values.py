"""A message to insert as the tuple of its column values, without SQLAlchemy.

A cold sync builds one such tuple per message, and a large one builds them in a child process
(``sync.header_rows``) that must start quickly: this module imports nothing heavier than the
records. ``store.queries`` inserts the tuples, with the folder's id in front.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from tuimail.mail.envelope import Address
from tuimail.store.records import FLAG_COLUMNS, NewMessage, to_timestamp

# The columns of a message row as inserted, in this order, after "folder_id".
INSERT_COLUMNS = (
    "uid",
    "uidl",
    "message_id",
    "in_reply_to",
    "references",
    "date",
    "internal_date",
    "from_name",
    "from_email",
    "to_addrs",
    "cc_addrs",
    "subject",
    "size",
    "has_attachments",
    "preview",
    "modseq",
    *FLAG_COLUMNS.values(),
    "keywords",
)
UID_AT = INSERT_COLUMNS.index("uid")
MESSAGE_ID_AT = INSERT_COLUMNS.index("message_id")

MessageValues = tuple[object, ...]

_NOBODY = Address("", "")


def addresses_text(addresses: Sequence[Address]) -> str:
    """An address list as stored: ``Name <a@b>, c@d``."""
    # Most lists hold one address or none: skip the generator for those (once per row).
    if len(addresses) < 2:
        return str(addresses[0]) if addresses else ""
    return ", ".join(str(a) for a in addresses)


def flag_values(flags: frozenset[str]) -> dict[str, object]:
    """The flag columns and the keywords column for a set of IMAP flags."""
    values: dict[str, object] = {column: False for column in FLAG_COLUMNS.values()}
    keywords = []
    for flag in flags:
        column = FLAG_COLUMNS.get(flag) or FLAG_COLUMNS.get(flag.capitalize())
        if column is not None:
            values[column] = True
        elif flag != "\\Recent":
            keywords.append(flag)
    values["keywords"] = " ".join(sorted(keywords))
    return values


@lru_cache(maxsize=1024)
def flag_row(flags: frozenset[str]) -> tuple[object, ...]:
    """``flag_values`` as a tuple in column order."""
    # A mailbox has a handful of distinct flag sets, so a sync of 100k rows builds each once.
    values = flag_values(flags)
    return (*(values[column] for column in FLAG_COLUMNS.values()), values["keywords"])


def message_values(item: NewMessage) -> MessageValues:
    """The values of ``INSERT_COLUMNS`` for one message."""
    env = item.envelope
    sender = env.from_[0] if env.from_ else _NOBODY
    return (
        item.uid,
        item.uidl,
        env.message_id,
        env.in_reply_to,
        " ".join(env.references),
        to_timestamp(env.date or item.internal_date),
        to_timestamp(item.internal_date) or None,
        sender.name,
        sender.email,
        addresses_text(env.to),
        addresses_text(env.cc),
        env.subject,
        env.size,
        env.has_attachments,
        env.preview,
        item.modseq,
        *flag_row(item.flags),
    )
