"""Completion of file paths in an Input, as a shell would: the first entry of the directory
that starts with what was typed, directories with a trailing "/"; Right takes it."""

from __future__ import annotations

import os
from itertools import islice
from pathlib import Path

from textual.suggester import Suggester

MAX_ENTRIES = 5_000  # a huge directory is not listed whole on every key


class PathSuggester(Suggester):
    """Suggest the completion of a path from the filesystem (``~`` is understood)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """The typed path completed by the first matching entry, or None."""
        if not value:
            return None
        head, slash, prefix = value.rpartition("/")
        where = Path(os.path.expanduser(head + slash)) if slash else Path(".")
        hidden = prefix.startswith(".")  # dot files only when asked for, as in a shell
        try:
            with os.scandir(where) as entries:
                names = sorted(
                    entry.name + ("/" if entry.is_dir() else "")
                    for entry in islice(entries, MAX_ENTRIES)
                    if entry.name.startswith(prefix) and (hidden or entry.name[0] != ".")
                )
        except OSError:
            return None
        if not names or names[0] == prefix:
            return None
        return head + slash + names[0]
