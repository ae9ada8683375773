"""The links of a rendered message: an HTML body's numbered links, else the URLs in its text."""

from __future__ import annotations

import re

from tuimail.mail.render import RenderedMessage

# http(s) and mailto in plain text; a trailing full stop, comma or bracket ends the sentence,
# not the URL.
_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\""


def message_links(rendered: RenderedMessage) -> tuple[str, ...]:
    """Links in the order the message shows them, each once."""
    found: list[str] = list(rendered.links)
    if not found:
        for line in rendered.body_lines or ():
            found.extend(match.rstrip(_TRAILING) for match in _URL.findall(line.text))
        if not rendered.body_lines:
            found.extend(match.rstrip(_TRAILING) for match in _URL.findall(rendered.body))
    return tuple(dict.fromkeys(link for link in found if link))
