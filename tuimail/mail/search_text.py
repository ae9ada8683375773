"""A downloaded message's words for the search index, and the paperclip its bytes give.

``offline = "full"`` indexes every body it downloads: ``render_message`` (the full
``policy.default`` parse, HTML laid out) took about 12 ms a message, 117 s of 10,000. Here the
header block and MIME boundaries are read as the envelope's fast path reads them and only the
text parts are decoded; HTML loses its tags and hidden parts, not its words. A message that path
cannot read exactly goes through ``render_message``.
"""

from __future__ import annotations

import logging
import re
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from typing import NamedTuple

from tuimail.mail.attachment_rule import counts_as_attachment
from tuimail.mail.fastheaders import (
    MAX_DEPTH,
    ContentHeaders,
    FastLeaf,
    Unsupported,
    child_regions,
    content_headers,
    leaf_bytes,
    part_header,
    payload_end,
    read_header_block,
)
from tuimail.mail.htmltext import visible_text
from tuimail.mail.parse import (
    decode_bytes,
    decode_header_value,
    envelope_from_bytes,
    is_fast_attachment,
)
from tuimail.mail.render import render_message

log = logging.getLogger(__name__)

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")

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
    leaves: list[_Leaf] = []
    _collect(raw, content_headers(header), header.body_start, len(raw), leaves, 0)
    texts: list[str] = []
    attached = False
    for leaf, shown in leaves:
        content = leaf.content
        if is_fast_attachment(content):
            attached = True
        elif shown and content.content_type in ("text/plain", "text/html"):
            text = decode_bytes(leaf_bytes(raw, leaf, MAX_PART_BYTES), content.charset)
            texts.append(visible_text(text) if content.content_type == "text/html" else text)
    return SearchText("\n".join(texts), attached)


# A leaf, and whether its text is the body's: of an alternative, one branch is (as rendered).
_Leaf = tuple[FastLeaf, bool]


def _collect(
    raw: bytes, content: ContentHeaders, start: int, end: int, leaves: list[_Leaf], depth: int
) -> None:
    """``fastheaders.collect_leaves``, but a part whose Content-* fields the fast reader leaves
    alone (RFC 2231 names: 1.5% of real mail, mostly big attachments) has just its header block
    read by the stdlib, not the whole message; of an alternative, only one branch is text."""
    if content.content_type.startswith("multipart/") and content.boundary is not None:
        regions = child_regions(raw, start, end, content.boundary)
        if regions:
            if depth + 1 >= MAX_DEPTH:
                raise Unsupported("deep MIME nesting")
            digest = content.content_type == "multipart/digest"
            child_type = "message/rfc822" if digest else "text/plain"
            branches: list[list[_Leaf]] = []
            for part_start, part_end in regions:
                try:
                    child, body = part_header(raw, part_start, part_end, child_type)
                except Unsupported:
                    child, body = _stdlib_part_header(raw, part_start, part_end, child_type)
                branches.append([])
                _collect(raw, child, body, part_end, branches[-1], depth + 1)
            chosen = _chosen(branches) if content.content_type == "multipart/alternative" else -1
            for index, branch in enumerate(branches):
                if chosen in (-1, index):
                    leaves += branch
                else:
                    leaves += [(leaf, False) for leaf, _shown in branch]
            return
    stop = payload_end(raw, start, end) if depth else end
    leaves.append((FastLeaf(content, start, max(stop, start)), True))


def _chosen(branches: list[list[_Leaf]]) -> int:
    """``render``'s choice: the first branch of plain text with something in it, else the last
    branch with any text (the richest)."""
    for index, branch in enumerate(branches):
        kinds = [leaf.content.content_type for leaf, _shown in branch]
        plain = "text/plain" in kinds and "text/html" not in kinds
        if plain and any(leaf.payload_end > leaf.payload_start for leaf, _shown in branch):
            return index
    for index in reversed(range(len(branches))):
        if branches[index]:
            return index
    return -1


def _stdlib_part_header(
    raw: bytes, start: int, end: int, default_type: str
) -> tuple[ContentHeaders, int]:
    """A part's content facts from its header block alone, through ``compat32``."""
    blank = _BLANK_LINE.search(raw, start, end)
    body = end if blank is None else blank.end()
    part = BytesHeaderParser(policy=compat32).parsebytes(raw[start:body])
    if default_type == "message/rfc822" and part.get("content-type") is None:
        part.set_default_type(default_type)
    filename = part.get_filename() or part.get_param("name")
    charset, boundary = part.get_content_charset(), part.get_boundary()
    content = ContentHeaders(
        content_type=part.get_content_type(),
        disposition=part.get_content_disposition(),
        filename=filename if isinstance(filename, str) else None,
        charset=charset,
        boundary=boundary,
        transfer_encoding=str(part.get("content-transfer-encoding", "")).strip().lower(),
    )
    return content, body


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
