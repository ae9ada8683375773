"""tuimail's search language as IMAP SEARCH keys (RFC 3501 6.4.4), for folders whose bodies
are not in the store: the server searches what we never downloaded."""

from __future__ import annotations

import re
from typing import Final

from tuimail.mail.query import And, DateBound, HasFlag, Not, Query, Text

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FIELDS = {"any": "TEXT", "from": "FROM", "to": "TO", "subject": "SUBJECT", "body": "BODY"}
_FLAGS = {"unread": "UNSEEN", "read": "SEEN", "flagged": "FLAGGED"}
# A header field name as an atom: no space, parenthesis, quote or bracket to escape from.
FIELD_NAME: Final = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")


def quoted(text: str) -> str:
    """``text`` as an IMAP quoted string (``search_arguments`` sends non-ASCII as a literal)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header_key(field: str, value: str) -> str:
    """``HEADER field "value"``: messages whose ``field`` contains ``value`` (a substring!)."""
    if FIELD_NAME.fullmatch(field) is None:
        raise ValueError(f"not a header field name: {field!r}")
    return f"HEADER {field} {quoted(value)}"


def search_keys(query: Query) -> str | None:
    """The IMAP search keys for ``query``, or None when IMAP cannot say it (has:attachment)."""
    if isinstance(query, Text):
        return f"{_FIELDS[query.field]} {quoted(query.value)}"
    if isinstance(query, HasFlag):
        return _FLAGS.get(query.flag)
    if isinstance(query, DateBound):
        day = query.day
        key = "BEFORE" if query.side == "before" else "SINCE"
        return f"{key} {day.day}-{_MONTHS[day.month - 1]}-{day.year}"
    if isinstance(query, Not):
        inner = search_keys(query.term)
        return None if inner is None else f"NOT ({inner})"
    parts = [search_keys(term) for term in query.terms]
    if any(part is None for part in parts):
        return None
    keys = [f"({part})" for part in parts if part is not None]
    if isinstance(query, And):
        return " ".join(keys)
    combined = keys[0]
    for key in keys[1:]:  # OR takes two keys: fold the rest in
        combined = f"OR {combined} {key}"
    return combined
