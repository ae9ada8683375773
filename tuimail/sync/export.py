"""Export folders from the store to mbox or Maildir, so no user is ever locked in.

Messages are written byte for byte (only line endings become the Unix LF that both formats use),
because the mailbox module would re-fold headers when it sets flags.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from tuimail.store import queries
from tuimail.store.db import Store
from tuimail.store.records import FolderState, MessageRow
from tuimail.sync.mbox_file import mbox_entry, open_mbox, unix_lines

ExportFormat = Literal["mbox", "maildir"]


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and what it could not (bodies never fetched from IMAP)."""

    written: int
    without_body: int
    destination: Path


def _maildir_flags(row: MessageRow) -> str:
    letters = {"D": row.draft, "F": row.flagged, "R": row.answered, "S": row.seen, "T": row.deleted}
    return "".join(letter for letter, on in letters.items() if on)


class _MaildirWriter:
    """Writes through tmp/ and renames into cur/, the Maildir way, so readers never see halves."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        # Mail is private: every directory 0700, every file 0600, whatever the umask allows.
        root.parent.mkdir(parents=True, exist_ok=True)
        root.mkdir(exist_ok=True, mode=0o700)
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(exist_ok=True, mode=0o700)

    def folder(self, name: str) -> _MaildirWriter:
        child = _MaildirWriter(self.root / f".{name.replace('/', '.')}")
        (child.root / "maildirfolder").touch(mode=0o600)
        return child

    def add(self, row: MessageRow, raw: bytes) -> None:
        self.count += 1
        unique = f"{int(time.time())}.P{os.getpid()}Q{self.count}.{socket.gethostname()}"
        tmp = self.root / "tmp" / unique
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(unix_lines(raw))
        if row.date:
            stamp = row.date.timestamp()
            os.utime(tmp, (stamp, stamp))
        os.rename(tmp, self.root / "cur" / f"{unique}:2,{_maildir_flags(row)}")


async def export_folders(
    store: Store, targets: list[FolderState], fmt: ExportFormat, destination: Path
) -> ExportReport:
    """Write every message of ``targets`` that has its bytes in the store to ``destination``."""
    written = without_body = 0
    destination.parent.mkdir(parents=True, exist_ok=True)
    mbox: BinaryIO | None = None
    maildir: _MaildirWriter | None = None
    if fmt == "mbox":
        mbox = open_mbox(destination)
    else:
        maildir = _MaildirWriter(destination)
    try:
        for folder in targets:
            target = maildir
            if maildir is not None and len(targets) > 1 and folder.role != "inbox":
                target = maildir.folder(folder.name)
            async with store.session() as session:
                async for row, raw in queries.iter_folder_raw(session, folder.id):
                    if raw is None:
                        without_body += 1
                    elif mbox is not None:
                        mbox.write(mbox_entry(row, raw))
                        written += 1
                    elif target is not None:
                        target.add(row, raw)
                        written += 1
    finally:
        if mbox is not None:
            mbox.close()
    return ExportReport(written, without_body, destination)
