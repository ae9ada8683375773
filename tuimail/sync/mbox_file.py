"""mbox and .eml files as export and "save to a file" write them: Unix line ends, mboxrd quoting.

Kept apart from ``export`` (which reads the store through the ORM) so that the interface's save
prompt writes files without loading SQLAlchemy before the first paint.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import BinaryIO

from tuimail.store.records import MessageRow

_FROM_LINE = re.compile(rb"^(>*From )", re.M)


def unix_lines(raw: bytes) -> bytes:
    """The message with Unix line endings, as mbox, Maildir and .eml files hold it."""
    return raw.replace(b"\r\n", b"\n")


def mbox_entry(row: MessageRow, raw: bytes) -> bytes:
    """One mbox entry: a From_ line, Status headers for the flags, the mboxrd-quoted message."""
    when = time.asctime(time.gmtime(row.date.timestamp() if row.date else time.time()))
    sender = (row.from_email or "MAILER-DAEMON").replace(" ", "")
    status = (b"R" if row.seen else b"") + b"O"
    x_status = (b"F" if row.flagged else b"") + (b"A" if row.answered else b"")
    head = f"From {sender} {when}\n".encode() + b"Status: " + status + b"\n"
    if x_status:
        head += b"X-Status: " + x_status + b"\n"
    # mboxrd quoting: any line that starts with zero or more '>' then "From " gains one '>'.
    body = _FROM_LINE.sub(rb">\1", unix_lines(raw))
    return head + body + (b"" if body.endswith(b"\n") else b"\n") + b"\n"


def open_mbox(destination: Path) -> BinaryIO:
    """An mbox file opened for appending, made 0600 when new (mail is private)."""
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "ab")
