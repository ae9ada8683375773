"""A message as the reader sees it: chosen headers, body text with numbered links, attachments.

Every string in a ``RenderedMessage`` has been through ``mail.sanitize``. Rendering never
touches the network (HTML is laid out from its own text, remote images are never loaded) and
never raises: if something goes wrong the raw message is shown, sanitised, under a short note.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass
from email.message import Message

from tuimail.mail.htmltext import html_to_text
from tuimail.mail.parse import (
    MALFORMED_INPUT_ERRORS,
    MAX_PART_DEPTH,
    PartFacts,
    decode_bytes,
    decode_header_value,
    is_container,
    parse_message,
    part_facts,
    part_payload,
    part_text,
    raw_header_values,
    walk_leaves,
)
from tuimail.mail.sanitize import safe_filename, sanitize_line, sanitize_text

log = logging.getLogger(__name__)

DEFAULT_HEADERS = ("From", "To", "Cc", "Date", "Subject")
FALLBACK_NOTE = "This message could not be laid out; showing its raw text."
_QUOTE_MARKS = re.compile(r">(?:[ \t]?>)*")


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """One attachment as listed under a message; ``index`` is what ``attachment_bytes`` takes."""

    index: int
    filename: str  # already safe to create inside a chosen folder
    content_type: str
    size: int  # bytes after transfer decoding


@dataclass(frozen=True, slots=True)
class BodyLine:
    """One line of the body; ``quote_depth`` counts its leading ``>`` marks (0 for new text)."""

    text: str
    quote_depth: int


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """Everything the message view shows, sanitised."""

    headers: tuple[tuple[str, str], ...]
    body: str
    body_lines: tuple[BodyLine, ...]
    links: tuple[str, ...]  # link n of an HTML body is links[n - 1]; the body shows it as [n]
    attachments: tuple[AttachmentInfo, ...]
    note: str = ""  # one line about how the message was shown (also the body's first line)
    html_alternative: bool = False  # an alternative has an HTML part (``prefer_html`` shows it)


@dataclass(frozen=True, slots=True)
class _TextPart:
    part: Message
    facts: PartFacts

    @property
    def is_html(self) -> bool:
        return self.facts.content_type == "text/html"


def render_message(
    raw: bytes, *, all_headers: bool = False, prefer_html: bool = False
) -> RenderedMessage:
    """Turn raw message bytes into display text; never raises and never touches the network.

    ``all_headers`` lists every header in order instead of From, To, Cc, Date and Subject;
    ``prefer_html`` shows the HTML part of a multipart/alternative (as text) over the plain one.
    """
    try:
        msg = parse_message(raw)
        return _render(msg, all_headers=all_headers, prefer_html=prefer_html)
    except Exception:  # a bug must not hide the message: show it raw, and log the trace
        log.exception("could not render a message; showing its raw text")
        return _raw_fallback(raw)


def attachment_bytes(raw: bytes, index: int) -> tuple[str, bytes]:
    """The safe file name and decoded content of attachment ``index`` of a message.

    Raises IndexError when the message has no attachment with that index.
    """
    parts = _attachment_parts(parse_message(raw))
    if not 0 <= index < len(parts):
        raise IndexError(f"this message has no attachment number {index + 1}")
    part, facts = parts[index]
    return _attachment_filename(facts, index), _attachment_payload(part, facts)


def quote_depth(line: str) -> int:
    """How many ``>`` marks start a line (``"> > text"`` is 2); 0 for a line of new text."""
    marks = _QUOTE_MARKS.match(line)
    return marks.group().count(">") if marks else 0


def _render(msg: Message, *, all_headers: bool, prefer_html: bool) -> RenderedMessage:
    links: list[str] = []
    choice = _Alternatives(prefer_html)
    texts = [_segment_text(segment, links) for segment in _body_parts(msg, 0, choice)]
    body = sanitize_text("\n\n".join(text.rstrip("\r\n") for text in texts if text.strip()))
    return RenderedMessage(
        headers=_headers(msg, all_headers=all_headers),
        body=body,
        body_lines=_body_lines(body),
        links=tuple(links),
        attachments=tuple(
            AttachmentInfo(
                index=index,
                filename=_attachment_filename(facts, index),
                content_type=sanitize_line(facts.content_type),
                size=len(_attachment_payload(part, facts)),
            )
            for index, (part, facts) in enumerate(_attachment_parts(msg))
        ),
        html_alternative=choice.html_seen,
    )


def _headers(msg: Message, *, all_headers: bool) -> tuple[tuple[str, str], ...]:
    if all_headers:
        return tuple(
            (sanitize_line(name).strip(), decode_header_value(str(value)))
            for name, value in msg.raw_items()
        )
    shown = []
    for name in DEFAULT_HEADERS:
        values = raw_header_values(msg, name)
        if values:
            shown.append((name, ", ".join(decode_header_value(value) for value in values)))
    return tuple(shown)


def _is_body_text(facts: PartFacts) -> bool:
    # A multipart leaf is a body the parser could not split: show it as text.
    kind = facts.content_type
    readable = kind.startswith(("text/", "multipart/"))
    return readable and facts.disposition != "attachment"


class _Alternatives:
    """Which branch of a multipart/alternative to show, and whether one offered HTML."""

    def __init__(self, prefer_html: bool) -> None:
        self.prefer_html = prefer_html
        self.html_seen = False

    def choose(self, branches: list[list[_TextPart]]) -> list[_TextPart]:
        html = [b for b in branches if any(tp.is_html for tp in b) and _has_text(b)]
        self.html_seen = self.html_seen or bool(html)
        if self.prefer_html and html:
            return html[-1]
        return _choose_alternative(branches)


def _has_text(branch: list[_TextPart]) -> bool:
    return any(part_text(tp.part, tp.facts).strip() for tp in branch)


def _body_parts(part: Message, depth: int, choice: _Alternatives) -> list[_TextPart]:
    """The text parts that make up the body, choosing one branch of each alternative."""
    facts = part_facts(part)
    if not is_container(part, facts):
        return [_TextPart(part, facts)] if _is_body_text(facts) else []
    children = part.get_payload()
    if depth >= MAX_PART_DEPTH or not isinstance(children, list):
        return []
    branches = [
        _body_parts(child, depth + 1, choice) for child in children if isinstance(child, Message)
    ]
    if facts.content_type == "multipart/alternative":
        return choice.choose(branches)
    return [text_part for branch in branches for text_part in branch]


def _choose_alternative(branches: list[list[_TextPart]]) -> list[_TextPart]:
    """Prefer the first branch of plain text with something in it; else the last, richest one."""
    for branch in branches:
        plain = branch and not any(text_part.is_html for text_part in branch)
        if plain and _has_text(branch):
            return branch
    return next((branch for branch in reversed(branches) if branch), [])


def _segment_text(segment: _TextPart, links: list[str]) -> str:
    text = part_text(segment.part, segment.facts)
    return html_to_text(text, links) if segment.is_html else text


# The view wraps and styles every line it shows; a line of megabytes (hostile or broken mail)
# would freeze it for seconds, so shown lines are cut here (the message itself is untouched).
MAX_SHOWN_LINE = 10_000


def _body_lines(body: str) -> tuple[BodyLine, ...]:
    if not body:
        return ()
    return tuple(BodyLine(_shown(line), quote_depth(line)) for line in body.split("\n"))


def _shown(line: str) -> str:
    if len(line) <= MAX_SHOWN_LINE:
        return line
    return f"{line[:MAX_SHOWN_LINE]} … [{len(line) - MAX_SHOWN_LINE:,} more characters not shown]"


def _attachment_parts(msg: Message) -> list[tuple[Message, PartFacts]]:
    """Leaves listed as attachments: anything not shown as body text, and any named part."""
    return [
        (part, facts)
        for part, facts in walk_leaves(msg)
        if not _is_body_text(facts) or facts.filename is not None
    ]


def _attachment_filename(facts: PartFacts, index: int) -> str:
    extension = mimetypes.guess_extension(facts.content_type) or ""
    return safe_filename(facts.filename, fallback=f"attachment-{index + 1}{extension}")


def _attachment_payload(part: Message, facts: PartFacts) -> bytes:
    if not facts.content_type.startswith("message/") or not part.is_multipart():
        return part_payload(part)
    try:  # an attached message: save it as the message it is
        inner = part.get_payload(0)
        return inner.as_bytes() if isinstance(inner, Message) else b""
    except MALFORMED_INPUT_ERRORS:
        log.debug("could not serialise an attached message", exc_info=True)
        return b""


def _raw_fallback(raw: bytes) -> RenderedMessage:
    body = sanitize_text(f"[{FALLBACK_NOTE}]\n\n" + decode_bytes(raw, None))
    return RenderedMessage(
        headers=(),
        body=body,
        body_lines=_body_lines(body),
        links=(),
        attachments=(),
        note=FALLBACK_NOTE,
    )
