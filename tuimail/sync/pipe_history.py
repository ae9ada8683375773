"""The commands typed at the pipe prompt, kept in the data dir so they survive a restart."""

from __future__ import annotations

import os
from pathlib import Path

from tuimail import paths

HISTORY_SIZE = 200  # commands kept, the oldest forgotten first


def history_file() -> Path:
    """Where the pipe prompt's history lives: ``pipe_history`` in the data dir."""
    return paths.data_dir() / "pipe_history"


def read_history(path: Path) -> list[str]:
    """The commands typed before, oldest first (none when the file is missing or unreadable)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]


def remember(path: Path, history: list[str], command: str) -> list[str]:
    """Add ``command`` as the newest entry (an older copy of it is dropped) and write the file.

    Written through a temporary file and a rename, mode 0600: the commands may name private
    paths, and a crash mid-write must not lose the history.
    """
    command = command.replace("\n", " ").strip()
    updated = [entry for entry in history if entry != command] + [command]
    updated = updated[-HISTORY_SIZE:]
    paths.ensure_private_dir(path.parent)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(entry + "\n" for entry in updated))
    os.replace(temporary, path)
    return updated
