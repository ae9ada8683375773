"""Opening a link with the desktop's handler: only http(s) and mailto, never through a shell.

Over SSH the desktop is on the other end of the connection, so nothing is opened there; the
caller copies the link to the local clipboard instead (OSC 52).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from tuimail.errors import TuimailError
from tuimail.mail.sanitize import sanitize_line
from tuimail.ui.attachments import OPENER, launch

# Printable ASCII only: no spaces, no controls, so nothing can end or extend the OSC 8 sequence.
_SAFE_LINK = re.compile(r"(?:https?://|mailto:)[!-~]+\Z", re.IGNORECASE)


def safe_link(url: str) -> str | None:
    """``url`` if it may become a clickable hyperlink or be opened (http, https, mailto)."""
    cleaned = sanitize_line(url).strip()
    return cleaned if cleaned == url.strip() and _SAFE_LINK.match(cleaned) else None


def remote_session(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether we run over SSH (the user's screen is not this machine's)."""
    return bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))


def open_link(url: str, opener: Sequence[str] = OPENER) -> str:
    """Hand ``url`` to the opener (an argument list, no shell); returns the URL opened."""
    link = safe_link(url)
    if link is None:
        raise TuimailError("only http, https and mailto links are opened; copy it with y")
    launch(opener, link, "copy the link with y instead")
    return link
