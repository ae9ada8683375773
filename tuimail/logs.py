"""The log file: where the traces behind one-line errors go (mode 0600, in the data dir)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tuimail import paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO, path: Path | None = None) -> Path:
    """Send tuimail's log records to the log file; returns its path."""
    target = path or paths.log_file()
    paths.ensure_private_dir(target.parent)
    fd = os.open(target, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(target, 0o600)
    handler = _QuietFileHandler(target, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_tuimail", False)]:
        root.removeHandler(old)
        old.close()
    handler._tuimail = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return target


class _QuietFileHandler(logging.FileHandler):
    """A log that cannot be written (a full disk) drops the record instead of printing a
    traceback over the user's terminal; the error itself reaches the user another way."""

    def handleError(self, record: logging.LogRecord) -> None:
        return
