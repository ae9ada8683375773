"""A downloaded message's words for the search index, and the paperclip its bytes give.

``offline = "full"`` indexes every body it downloads: ``render_message`` (the full
``policy.default`` parse, HTML laid out) took about 12 ms a message, 117 s of 10,000. Here the
header block and MIME boundaries are read as the envelope's fast path reads them and only the
text parts are decoded; HTML loses its tags and hidden parts, not its words. A message that path
cannot read exactly goes through ``render_message``.
"""

from __future__ import annotations

import logging
from email.parser import BytesParser
from email.policy import compat32
from typing import NamedTuple

from tuimail.mail.attachment_rule import counts_as_attachment
from tuimail.mail.fastheaders import (
    ContentHeaders,
    FastLeaf,
    Unsupported,
    collect_leaves,
    content_headers,
    leaf_bytes,
    read_header_block,
)
from tuimail.mail.htmltext import visible_text
from tuimail.mail.parse import decode_bytes, decode_header_value, envelope_from_bytes
from tuimail.mail.render import render_message

log = logging.getLogger(__name__)

# Words past the first megabyte of a text part are not indexed: a 50 MB log pasted inline
# would cost the index more than anyone searches it for.
MAX_PART_BYTES = 1_000_000


class SearchText(NamedTuple):
    """The body words to index and whether the message carries attachments."""

    body: str
    has_attachments: bool


def search_text(raw: bytes) -> SearchText:
    """The searchable body text of a message's bytes and its ``has_attachments``."""
    try:
        return _fast(raw)
    except Unsupported as unusual:
        log.debug("search text through the compat32 parser: %s", unusual)
    except Exception:  # a bug in the fast path must not leave a body unindexed
        log.exception("fast search text failed; using the compat32 parser")
    try:
        return _compat(raw)
    except Exception:
        log.exception("compat32 search text failed; using the full parser")
    return SearchText(render_message(raw).body, envelope_from_bytes(raw).has_attachments)


def _fast(raw: bytes) -> SearchText:
    header = read_header_block(raw)
    leaves: list[FastLeaf] = []
    collect_leaves(raw, content_headers(header), header.body_start, len(raw), leaves)
    texts: list[str] = []
    attached = False
    for leaf in leaves:
        content = leaf.content
        if _is_attachment(content):
            attached = True
        elif content.content_type in ("text/plain", "text/html"):
            text = decode_bytes(leaf_bytes(raw, leaf, MAX_PART_BYTES), content.charset)
            texts.append(visible_text(text) if content.content_type == "text/html" else text)
    return SearchText("\n".join(texts), attached)


def _compat(raw: bytes) -> SearchText:
    """The same from the stdlib's ``compat32`` parse: RFC 2231 names and other MIME headers
    the fast path leaves alone, at a tenth of ``policy.default``'s cost on large attachments."""
    message = BytesParser(policy=compat32).parsebytes(raw)
    texts: list[str] = []
    attached = False
    for part in message.walk():
        if part.is_multipart():
            continue
        kind, disposition = part.get_content_type(), part.get_content_disposition()
        name = part.get_filename() or part.get_param("name")
        filename = decode_header_value(name) if isinstance(name, str) else None
        if counts_as_attachment(kind, disposition, filename):
            attached = True
        elif kind in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = decode_bytes(payload[:MAX_PART_BYTES], part.get_content_charset())
                texts.append(visible_text(text) if kind == "text/html" else text)
    return SearchText("\n".join(texts), attached)


def _is_attachment(content: ContentHeaders) -> bool:
    """``parse.is_attachment`` for a fast-path leaf, as the envelope's fast path decides it."""
    kind, disposition, filename = content.content_type, content.disposition, content.filename
    if filename is not None and not counts_as_attachment(kind, disposition, None):
        if "=?" in filename:  # the header registry decodes these its own way
            raise Unsupported("encoded word in a filename that decides has_attachments")
        filename = decode_header_value(filename)
    return counts_as_attachment(kind, disposition, filename)
