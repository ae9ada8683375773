"""Raw message bytes to a parsed message, and to the decoded, sanitised ``Envelope``.

Mail in the wild breaks every rule, so nothing here raises on bad input: broken encoded words,
unknown charsets, unparseable dates and missing headers all give a best-effort value. Header
values are read raw and decoded by us, which is both faster than the header objects of
``policy.default`` and cannot trip over the parser's corner cases.

``envelope_from_bytes`` runs for every downloaded message, so it skips the full parse where it
can: ``fastheaders`` reads the header fields and the MIME structure straight from the lines, and
any shape it does not read exactly goes through ``policy.default`` instead (``_envelope_slow``,
which the tests also hold the fast path against). Two known differences, both on extreme input:
the preview of a text part over 4 MiB comes from its first 4 MiB (and an unlabelled charset is
guessed from those), and an attached message that makes the stdlib parser give up on the whole
body (nesting past the recursion limit) does not hide the other parts, as it does there.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

from tuimail.mail.attachment_rule import counts_as_attachment
from tuimail.mail.envelope import Address, Envelope
from tuimail.mail.fastheaders import (
    MAX_DEPTH,
    ContentHeaders,
    FastLeaf,
    Unsupported,
    collect_leaves,
    common_date,
    content_headers,
    leaf_bytes,
    mailbox_pairs,
    read_header_block,
)
from tuimail.mail.htmltext import snippet_lines, visible_text
from tuimail.mail.sanitize import sanitize_line, sanitize_text

log = logging.getLogger(__name__)

# What the stdlib parser and its helpers raise on malformed input, as far as we have seen.
MALFORMED_INPUT_ERRORS = (
    *(ArithmeticError, AssertionError, AttributeError, LookupError, RecursionError, TypeError),
    *(ValueError, email.errors.MessageError),
)

MAX_PART_DEPTH = MAX_DEPTH  # deeper MIME nesting is ignored; no real mail comes close
MAX_REFERENCES = 100  # the newest ones, which are the ones threading needs
PREVIEW_LENGTH = 200
_PREVIEW_SOURCE_LENGTH = 256 * 1024  # enough to get past the <head> of bulky HTML mail
# The fast path transfer-decodes at most this much of a text part for the preview: enough for
# _PREVIEW_SOURCE_LENGTH characters of 4-byte UTF-8 in quoted-printable, so only the preview of
# a text part larger than this can differ, and only if its charset guess would have changed.
_PREVIEW_SOURCE_BYTES = 16 * _PREVIEW_SOURCE_LENGTH

# HTML previews are tried on this many characters first, then four times as many, and so on.
_HTML_PREVIEW_WINDOW = 8 * 1024
# The preview is read from this much text at once; if that does not decide it, line by line.
_WORDS_AT_ONCE = 8 * 1024
_HEAD_START = re.compile(r"<head(?![\w-])", re.IGNORECASE)
_HEAD_END = re.compile(r"</head", re.IGNORECASE)

_MAX_CACHED_ADDRESSES = 1000  # characters; longer address headers are parsed every time
_MAX_CACHED_TEXT = 200
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?\r\n]*+)\?=")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]++")
_MESSAGE_ID = re.compile(r"<([^<>\s]++)>")
# Charsets whose labels lie in practice (the WHATWG encoding standard maps them the same way).
_CHARSET_SUPERSETS = {
    **dict.fromkeys(["iso-8859-1", "latin1", "latin-1"], "cp1252"),
    **dict.fromkeys(["gb2312", "gbk"], "gb18030"),
    **dict.fromkeys(["ks_c_5601-1987", "euc-kr"], "cp949"),
    "tis-620": "cp874",
}
_UNLABELLED = frozenset(["", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default"])


def parse_message(raw: bytes) -> EmailMessage:
    """Parse raw RFC 5322 bytes with ``policy.default``; never raises, however broken the input.

    If the body cannot be parsed (e.g. absurdly deep MIME nesting) the headers are kept and the
    body becomes one undecoded text payload.
    """
    parser = BytesParser(EmailMessage, policy=policy.default)
    try:
        return parser.parsebytes(raw)
    except MALFORMED_INPUT_ERRORS:
        log.debug("full parse failed, keeping the headers only", exc_info=True)
    try:
        return parser.parsebytes(raw, headersonly=True)
    except MALFORMED_INPUT_ERRORS:
        log.debug("header parse failed, keeping the bytes as text", exc_info=True)
    message = EmailMessage()
    message.set_payload(raw.decode("utf-8", "replace"))
    return message


def decode_header_value(value: str) -> str:
    """Unfold and decode a raw header value (RFC 2047 words, raw 8-bit) into safe display text.

    Broken encoded words are decoded as far as they go; unknown charsets never raise.
    """
    value = _undo_surrogateescape(_unfold(value))
    if "=?" in value:
        value = _decode_encoded_words(value)
    return sanitize_line(value).strip()


def header_text(msg: Message, name: str) -> str:
    """The decoded, sanitised value of the first ``name`` header, or "" when there is none."""
    values = raw_header_values(msg, name)
    return decode_header_value(values[0]) if values else ""


def raw_header_values(msg: Message, name: str) -> list[str]:
    """Every value of the ``name`` header as it came off the wire, folded and undecoded."""
    wanted = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == wanted]


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode body or header bytes in ``charset``; unknown or missing charsets never raise.

    Without a usable charset we try UTF-8 and fall back to Windows-1252.
    """
    label = (charset or "").strip().lower()
    label = _CHARSET_SUPERSETS.get(label, label)
    if label not in _UNLABELLED:
        try:
            return data.decode(label, "replace")
        except (LookupError, ValueError, TypeError):
            pass  # an unknown label: fall through and guess
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


@dataclass(frozen=True, slots=True)
class PartFacts:
    """What a MIME part says about itself, read once and defensively."""

    content_type: str  # "maintype/subtype", lower case
    disposition: str | None  # "inline", "attachment" or None
    filename: str | None  # decoded but not yet made safe; see sanitize.safe_filename
    charset: str | None


def part_facts(part: Message) -> PartFacts:
    """Content type, disposition, filename and charset of one part; never raises."""
    try:
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        charset = part.get_content_charset()
    except MALFORMED_INPUT_ERRORS:
        log.debug("unreadable part headers", exc_info=True)
        return PartFacts("application/octet-stream", "attachment", None, None)
    if filename is not None:
        filename = decode_header_value(str(filename)) or None
    return PartFacts(content_type.lower(), disposition, filename, charset)


def part_payload(part: Message) -> bytes:
    """The transfer-decoded bytes of a leaf part (b"" for a multipart)."""
    try:
        payload = part.get_payload(decode=True)
    except MALFORMED_INPUT_ERRORS:
        log.debug("undecodable payload", exc_info=True)
        return b""
    return payload if isinstance(payload, bytes) else b""


def part_text(part: Message, facts: PartFacts | None = None) -> str:
    """The decoded text of a leaf part, not yet sanitised; bad charsets decode with replacement."""
    facts = facts or part_facts(part)
    return decode_bytes(part_payload(part), facts.charset)


def is_container(part: Message, facts: PartFacts) -> bool:
    """Whether a part holds other parts we look inside (multipart, not an attached message)."""
    return part.is_multipart() and facts.content_type.startswith("multipart/")


def walk_leaves(msg: Message) -> Iterator[tuple[Message, PartFacts]]:
    """Every leaf part in order with its facts; attached messages count as leaves.

    Nesting deeper than ``MAX_PART_DEPTH`` is skipped rather than recursed into.
    """
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        facts = part_facts(part)
        if not is_container(part, facts):
            yield part, facts
        elif depth < MAX_PART_DEPTH:
            children = part.get_payload()
            if isinstance(children, list):
                # Always messages; the check is for the type checker's overloads of get_payload.
                stack.extend(
                    (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
                )


def is_attachment(facts: PartFacts) -> bool:
    """Whether a leaf is an attachment for the paperclip: disposition, or a named non-text part."""
    return counts_as_attachment(facts.content_type, facts.disposition, facts.filename)


def envelope_from_bytes(raw: bytes) -> Envelope:
    """Build the index's ``Envelope`` from raw bytes; every string in it is sanitised.

    Most mail takes the fast path, which reads only the header fields and MIME boundaries it
    needs; whatever that path cannot read exactly goes through the full parser instead.
    """
    try:
        return _envelope_fast(raw)
    except Unsupported as unusual:
        log.debug("using the full parser: %s", unusual)
    except Exception:  # a bug in the fast path must not stop a folder from syncing
        log.exception("fast envelope failed; using the full parser")
    return _envelope_slow(raw)


def _envelope_slow(raw: bytes) -> Envelope:
    """The envelope through the full ``policy.default`` parse: the reference and the fallback."""
    msg = parse_message(raw)
    try:
        return _envelope(msg, len(raw))
    except Exception:  # a bug of ours or of the stdlib must not stop a folder from syncing
        log.exception("could not build an envelope; keeping the subject only")
        return Envelope(message_id=None, subject=header_text(msg, "subject"), size=len(raw))


def _envelope(msg: Message, size: int) -> Envelope:
    references = _message_ids(" ".join(raw_header_values(msg, "references")))
    leaves = list(walk_leaves(msg))
    source = _preview_source([facts for _, facts in leaves])
    return Envelope(
        message_id=_first(_message_ids(_first_raw(msg, "message-id"))),
        subject=header_text(msg, "subject"),
        from_=addresses(msg, "from"),
        to=addresses(msg, "to"),
        cc=addresses(msg, "cc"),
        reply_to=addresses(msg, "reply-to"),
        date=parse_date(_first_raw(msg, "date")),
        in_reply_to=_first(_message_ids(_first_raw(msg, "in-reply-to"))),
        references=tuple(dict.fromkeys(references))[-MAX_REFERENCES:],
        size=size,
        has_attachments=any(is_attachment(facts) for _, facts in leaves),
        preview="" if source is None else _preview_of(part_text(leaves[source[0]][0]), source[1]),
    )


def _envelope_fast(raw: bytes) -> Envelope:
    """The envelope from the header fields and boundary lines alone; may raise ``Unsupported``.

    Gives what ``_envelope_slow`` gives (the tests hold the two side by side).
    """
    header = read_header_block(raw)
    leaves: list[FastLeaf] = []
    collect_leaves(raw, content_headers(header), header.body_start, len(raw), leaves)
    references = _message_ids(" ".join(header.all(b"references")))
    source = _preview_source([leaf.content for leaf in leaves])
    preview = ""
    if source is not None:
        leaf = leaves[source[0]]
        text = decode_bytes(leaf_bytes(raw, leaf, _PREVIEW_SOURCE_BYTES), leaf.content.charset)
        preview = _preview_of(text, source[1])
    return Envelope(
        message_id=_first(_message_ids(header.first(b"message-id"))),
        subject=_fast_header_text(header.first(b"subject") or ""),
        from_=_fast_addresses(header.all(b"from")),
        to=_fast_addresses(header.all(b"to")),
        cc=_fast_addresses(header.all(b"cc")),
        reply_to=_fast_addresses(header.all(b"reply-to")),
        date=parse_date(header.first(b"date"), fast=True),
        in_reply_to=_first(_message_ids(header.first(b"in-reply-to"))),
        references=tuple(dict.fromkeys(references))[-MAX_REFERENCES:],
        size=len(raw),
        has_attachments=any(is_fast_attachment(leaf.content) for leaf in leaves),
        preview=preview,
    )


def _fast_addresses(values: list[str]) -> tuple[Address, ...]:
    """``addresses_from_values(fast=True)``, remembered: the same senders write again and again."""
    if not values:
        return ()
    if sum(map(len, values)) > _MAX_CACHED_ADDRESSES:
        return addresses_from_values(values, fast=True)
    return _cached_addresses(*values)


@lru_cache(maxsize=4096)
def _cached_addresses(*values: str) -> tuple[Address, ...]:
    return addresses_from_values(list(values), fast=True)


def _fast_header_text(value: str) -> str:
    """``decode_header_value``, remembered for short values: names and subjects come back."""
    if len(value) > _MAX_CACHED_TEXT:
        return decode_header_value(value)
    return _cached_header_text(value)


def addresses(msg: Message, name: str) -> tuple[Address, ...]:
    """The mailboxes in every ``name`` header, display names decoded and sanitised."""
    return addresses_from_values(raw_header_values(msg, name))


def addresses_from_values(values: list[str], *, fast: bool = False) -> tuple[Address, ...]:
    """The mailboxes in raw address header values; ``fast`` reads everyday lists ourselves.

    Without ``fast`` every value goes through ``email.utils.getaddresses``, the reference.
    """
    # Sanitised before splitting too: the ";" of a raw escape sequence would read as a group.
    raw = sanitize_line(", ".join(_undo_surrogateescape(_unfold(v)) for v in values))
    if not raw.strip():
        return ()
    pairs = mailbox_pairs(raw) if fast else None
    if pairs is None:
        try:
            pairs = getaddresses([raw])
        except MALFORMED_INPUT_ERRORS:
            log.debug("unparseable address header %r", raw[:200], exc_info=True)
            return (Address(name="", email=decode_header_value(raw)),)
    found = (
        Address(
            name=_fast_header_text(display) if fast else decode_header_value(display),
            email="".join(sanitize_line(mail).split()),
        )
        for display, mail in pairs
    )
    return tuple(address for address in found if address.name or address.email)


def parse_date(value: str | None, *, fast: bool = False) -> datetime | None:
    """An RFC 5322 date as an aware datetime (UTC when the zone is unknown), or None.

    ``fast`` reads the form nearly all software writes ourselves, the same way.
    """
    if not value:
        return None
    value = _unfold(value).strip()
    try:
        parsed = (fast and common_date(value)) or parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _unfold(value: str) -> str:
    return _FOLD.sub("", value) if "\n" in value else value


def _first_raw(msg: Message, name: str) -> str | None:
    values = raw_header_values(msg, name)
    return values[0] if values else None


def _first(items: list[str]) -> str | None:
    return items[0] if items else None


def _message_ids(value: str | None) -> list[str]:
    """``<id>`` tokens in a Message-ID, In-Reply-To or References value, in order."""
    if not value:
        return []
    if (
        value[0] == "<"
        and value[-1] == ">"
        and value.count("<") == 1
        and value.count(">") == 1
        and len(value) > 2
        and value.isascii()
        and value.isprintable()
        and " " not in value
    ):
        return [value]  # one clean "<id>" and nothing else: what the general case gives
    value = _undo_surrogateescape(value)
    tokens = _MESSAGE_ID.findall(value)
    if not tokens:  # a bare id without brackets, as some old software writes them
        tokens = [word for word in value.split() if "@" in word and "<" not in word]
    joined = "".join(tokens)
    if joined.isascii() and joined.isprintable():  # the usual case: nothing to clean
        return [f"<{token}>" for token in tokens]
    cleaned = ("".join(sanitize_line(token).split()) for token in tokens)
    return [f"<{token}>" for token in cleaned if token]


def _preview_source(leaves: Sequence[PartFacts | ContentHeaders]) -> tuple[int, bool] | None:
    """Which leaf the preview comes from (the first text/plain, else text/html, not attached),
    and whether it is HTML."""
    for wanted in ("text/plain", "text/html"):
        for index, leaf in enumerate(leaves):
            if leaf.content_type == wanted and leaf.disposition != "attachment":
                return index, wanted == "text/html"
    return None


def _preview_of(text: str, html: bool) -> str:
    """The words of a text body up to PREVIEW_LENGTH characters, quoted lines left out."""
    text = text[:_PREVIEW_SOURCE_LENGTH]
    return _html_preview(text) if html else _words(text)


def _html_preview(source: str) -> str:
    """``_words(html_snippet(source))`` from as short a prefix of ``source`` as gives it.

    A newsletter of 100 KB took html_snippet 3 ms, for 200 characters of preview. A prefix
    cut after a ``>`` ends on a word boundary, and what html_snippet makes of it is the start
    of what it makes of the whole (an unclosed script, style or comment hides the rest: fewer
    words, not other ones), except after an unclosed <head>, which it treats as missing; a
    prefix whose last <head> is not closed is never used. So once a prefix gives a full
    preview, the whole would give the same one (for mail without terminal control sequences,
    whose removal may straddle the cut; their preview is sanitised all the same).
    """
    size = _HTML_PREVIEW_WINDOW
    while size < len(source):
        cut = source.rfind(">", 0, size) + 1
        heads = [match.end() for match in _HEAD_START.finditer(source, 0, cut)]
        if cut and (not heads or _HEAD_END.search(source, heads[-1], cut)):
            preview = _html_words(source[:cut])
            if len(preview) >= PREVIEW_LENGTH:
                return preview
        size *= 4
    return _html_words(source)


def _html_words(source: str) -> str:
    """``_words(html_snippet(source))``. html_snippet only tidies the blanks and lines of
    ``visible_text``, which changes no word, so the unquoted lines are read there directly."""
    text = visible_text(source)
    words = _head_words(text)
    # snippet_lines keeps the text sanitised and single-lined at CRs: what _words would redo.
    return _words_by_line(snippet_lines(text)) if words is None else words


def _words(text: str) -> str:
    """The words of ``text``, joined by spaces, up to PREVIEW_LENGTH; quoted lines left out."""
    if "\r" in text:  # sanitize_text's own first step; after it, clean text passes at once
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = sanitize_text(text)
    words = _head_words(text)
    return _words_by_line(text) if words is None else words


def _head_words(text: str) -> str | None:
    """``_words`` of sanitised text read at once from the lines before its first ">" (none of
    them can be a quote), when those decide it: they fill the preview, or are all there is."""
    quote = text.find(">")
    head = text if quote < 0 else text[: text.rfind("\n", 0, quote) + 1]
    if len(head) > _WORDS_AT_ONCE:  # whole lines only, so that none is cut in two
        head = head[: head.rfind("\n", 0, _WORDS_AT_ONCE) + 1]
    words = " ".join(head.split())
    if len(words) >= PREVIEW_LENGTH or len(head) == len(text):
        return words[:PREVIEW_LENGTH]
    return None


def _words_by_line(text: str) -> str:
    """``_words`` of sanitised text, line by line, stopping once the preview is full."""
    words: list[str] = []
    length = -1  # of the words joined by spaces
    for line in text.split("\n"):
        if not line.lstrip(" \t").startswith(">"):
            line_words = line.split()
            words += line_words
            length += sum(map(len, line_words)) + len(line_words)
            if length >= PREVIEW_LENGTH:
                break  # the rest would be cut off anyway
    return " ".join(words)[:PREVIEW_LENGTH]


def is_fast_attachment(content: ContentHeaders) -> bool:
    """``is_attachment`` for a fast-path leaf; the filename is decoded only when it decides."""
    kind, disposition, filename = content.content_type, content.disposition, content.filename
    if filename is not None and not counts_as_attachment(kind, disposition, None):
        # The name decides, so decode it: a blank one is no name.
        if "=?" in filename:  # the header registry decodes these its own way
            raise Unsupported("encoded word in a filename that decides has_attachments")
        filename = decode_header_value(filename)
    return counts_as_attachment(kind, disposition, filename)


_cached_header_text = lru_cache(maxsize=4096)(decode_header_value)


def _undo_surrogateescape(value: str) -> str:
    """Turn raw 8-bit header bytes (kept by the parser as surrogates) back into text."""
    if value.isascii():
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value  # surrogates the parser did not make; sanitize replaces them
    return decode_bytes(data, None)


def _decode_encoded_words(value: str) -> str:
    """Decode RFC 2047 words, joining adjacent ones in one charset before decoding their bytes.

    Joining first mends senders that split a multibyte character across two words.
    """
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending_charset is not None and between.isspace()):
            if pending_charset is not None:
                out.append(decode_bytes(bytes(pending), pending_charset))
                pending, pending_charset = bytearray(), None
            out.append(between)
        charset = match.group(1).split("*", 1)[0].lower()
        if pending_charset is not None and charset != pending_charset:
            out.append(decode_bytes(bytes(pending), pending_charset))
            pending = bytearray()
        pending_charset = charset
        pending += _decode_word(match.group(2), match.group(3))
        position = match.end()
    if pending_charset is not None:
        out.append(decode_bytes(bytes(pending), pending_charset))
    out.append(value[position:])
    return "".join(out)


def _decode_word(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        data = _NOT_BASE64.sub("", text)
        if len(data) % 4 == 1:  # one stray character cannot be decoded; drop it
            data = data[:-1]
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4))
        except binascii.Error:
            return text.encode("utf-8", "replace")
    return binascii.a2b_qp(text.encode("utf-8", "replace"), header=True)
