"""Text a server sent, made fit for one line of an error message or a log entry.

Shared by every protocol client: server replies are written by strangers and end up in
notifications and logs, so they are cut short and stripped of anything that drives a terminal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_ESCAPE_SEQUENCE: Final = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)"
)


def clean_server_text(raw: bytes, limit: int = 200) -> str:
    """Make server-sent text safe for one line of an error message or log entry."""
    # Only the start can be shown; cutting first keeps a huge hostile line cheap to clean.
    text = raw[: limit * 8].decode("utf-8", errors="replace")
    if not (text.isascii() and text.isprintable()):  # the usual reply has nothing to strip
        text = _ESCAPE_SEQUENCE.sub("", text)
        # Drop control, format (bidi overrides, zero-width) and unassigned characters: a
        # hostile server must not move the cursor, recolour or reorder what the user reads.
        text = "".join(
            " " if unicodedata.category(ch).startswith("Z") else ch
            for ch in text
            if not unicodedata.category(ch).startswith("C")
        )
    cleaned = " ".join(text.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def format_size(size: int) -> str:
    """A byte count for people: 512 bytes, 1.5 MiB, 200 MiB."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
        value /= 1024
    return f"{value:.1f}".removesuffix(".0") + " GiB"
