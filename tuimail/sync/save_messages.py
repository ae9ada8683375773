"""Save messages to a file the user names: an ``.eml`` file holds one message, any other name is
an mbox that the messages are appended to (created if missing), as mutt saves to a path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from tuimail.errors import NotAllowed
from tuimail.store.records import MessageRow
from tuimail.sync.mbox_file import mbox_entry, open_mbox, unix_lines

SaveFormat = Literal["mbox", "eml"]


def save_format(path: Path) -> SaveFormat:
    """The file's format by its name: ``.eml`` is one message, anything else an mbox."""
    return "eml" if path.suffix.lower() == ".eml" else "mbox"


def save_messages(path: Path, messages: Sequence[tuple[MessageRow, bytes]]) -> SaveFormat:
    """Write ``messages`` to ``path`` (mode 0600 when new); returns the format written.

    An .eml file is never overwritten and holds exactly one message; an mbox is appended to.
    """
    fmt = save_format(path)
    if path.is_dir():
        raise NotAllowed(f"{path} is a directory: give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "eml":
        if len(messages) != 1:
            raise NotAllowed("an .eml file holds one message: give an mbox file for several")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise NotAllowed(f"{path} exists: give another name") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(unix_lines(messages[0][1]))
        return fmt
    entries = b"".join(mbox_entry(row, raw) for row, raw in messages)
    with open_mbox(path) as mbox:
        if not _ends_a_line(path):  # a From_ line must start a line of its own
            entries = b"\n" + entries
        mbox.write(entries)
    return fmt


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
