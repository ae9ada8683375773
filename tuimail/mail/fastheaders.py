"""Fast reading of a message's line structure: header fields, MIME parameters, part boundaries.

``policy.default`` builds a header object on every access and the full parser walks every line
of every part, which costs milliseconds per message; the index needs a dozen header values and a
few facts about the parts. Here a handful of regex scans over the raw bytes find them, following
the stdlib ``email.feedparser`` rule for rule (where the header block ends, the unix-from line,
continuation lines, boundary lines and the parts between them), so the results are the same.

Only the common, well-formed shapes are understood. Anything else (a lone CR in a header block,
RFC 2231 or commented MIME parameters, 8-bit or encoded words in MIME headers, uuencoded bodies,
very deep nesting) raises ``Unsupported`` and the caller uses the full parser instead.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple

MAX_DEPTH = 32  # parse.MAX_PART_DEPTH: parts nested deeper are not looked into


class Unsupported(Exception):
    """The input has a shape this module does not read exactly; use the full parser."""


# The fields we read: a line "name:value" with its continuation lines (leading blank). The value
# starts after the blanks that follow the colon and keeps its folds, like header_source_parse.
_FIELD_NAMES = (
    *("subject", "from", "to", "cc", "reply-to", "date", "message-id", "in-reply-to"),
    *("references", "content-type", "content-disposition", "content-transfer-encoding"),
)
# One pass finds them, and also (with an empty name) any odd line: a unix-from line, or a line
# that feedparser's headerRE does not take for a header line, where the body begins.
_FIELD_OR_ODD_LINE = re.compile(
    rb"\n(?:((?i:" + "|".join(_FIELD_NAMES).encode() + rb")):[ \t]*+([^\n]*+(?:\n[ \t][^\n]*+)*+)"
    rb"|From |(?![ \t]|[\x21-\x39\x3b-\x7e]*+:|\Z))"
)
_NOT_HEADER_LINE = re.compile(rb"\n(?![ \t]|[\x21-\x39\x3b-\x7e]*+:|\Z)")
_HEADER_LINE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*+:|[ \t]")


class HeaderBlock(NamedTuple):
    """The fields of one header block that we read, and where the body after it starts.

    Values are kept as they came, folded and undecoded, and handed out surrogate-escaped, as
    the stdlib keeps them.
    """

    firsts: dict[bytes, bytes]  # lower-case name -> its first value
    every: list[tuple[bytes, bytes]] | None  # every (name, value), only when a name repeats
    body_start: int

    def first(self, name: bytes) -> str | None:
        """The first value of ``name``, or None."""
        value = self.firsts.get(name)
        return None if value is None else _text(value)

    def all(self, name: bytes) -> list[str]:
        """Every value of ``name``, in order."""
        if self.every is None:
            value = self.firsts.get(name)
            return [] if value is None else [_text(value)]
        return [_text(value) for field, value in self.every if field.lower() == name]


def _text(value: bytes) -> str:
    # The line break that ends the field is not part of it (header_source_parse strips it).
    return value.rstrip(b"\r\n").decode("ascii", "surrogateescape")


def read_header_block(data: bytes, start: int = 0, end: int | None = None) -> HeaderBlock:
    """Read the header block at ``start`` (a line start) of ``data[:end]``, as feedparser would.

    The block ends at the first line that is not a header line: the blank separator, or else
    the first line of the body.
    """
    end = len(data) if end is None else end
    stop = _blank_line(data, start, end)
    block = b"\n" + data[start:stop]  # a line break before every line, for the patterns
    if block.count(b"\r") != block.count(b"\r\n"):
        raise Unsupported("lone CR in a header block")  # feedparser ends lines there too
    found: list[tuple[bytes, bytes]] = _FIELD_OR_ODD_LINE.findall(block)
    firsts = {name.lower(): value for name, value in reversed(found)}  # the first one wins
    if b"" in firsts:  # an odd line
        odd = _odd_line(block)
        found = [field for field in _FIELD_OR_ODD_LINE.findall(block[:odd]) if field[0]]
        firsts = {name.lower(): value for name, value in reversed(found)}
        if odd is not None:  # the body starts there, without a blank line before it
            return HeaderBlock(firsts, None if len(firsts) == len(found) else found, start + odd)
    if data.startswith(b"\r\n", stop, end):
        body_start = stop + 2
    else:
        body_start = stop + 1 if data.startswith(b"\n", stop, end) else stop
    return HeaderBlock(firsts, None if len(firsts) == len(found) else found, body_start)


def _odd_line(block: bytes) -> int | None:
    """Where in ``block`` the first line that is no header line begins, or None if the odd line
    was only a unix-from line in front; unix-from lines further down raise ``Unsupported``."""
    if block.find(b"\nFrom ", 1) >= 0:
        raise Unsupported("unix-from line inside a header block")  # dropped, or moved to the body
    if not _HEADER_LINE.match(block, 1):
        return 0
    other = _NOT_HEADER_LINE.search(block, 1)
    return None if other is None else other.start()


def _blank_line(data: bytes, start: int, end: int) -> int:
    """Where the first empty line at or after ``start`` begins, or ``end``."""
    if data.startswith((b"\r\n", b"\n"), start, end):
        return start
    crlf = data.find(b"\n\r\n", start, end)
    lf = data.find(b"\n\n", start, end if crlf < 0 else crlf + 2)  # not past the CRLF one
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf + 1
    return end if crlf < 0 else crlf + 1


# --- MIME parameters --------------------------------------------------------------------------

# Tokens without RFC 2231's "*" and "'", and quoted strings without escapes: the registry of
# policy.default reads these shapes exactly as written.
_TOKEN = r"[A-Za-z0-9!#$%&+.^_`|~-]++"
_PARAMS = rf'(?:[ \t]*+;[ \t]*+{_TOKEN}[ \t]*+=[ \t]*+(?:{_TOKEN}|"[ !#-\[\]-~]*+"))*+'
_MEDIA_TYPE = re.compile(rf"[ \t]*+({_TOKEN}/{_TOKEN})({_PARAMS})[ \t]*+(?:;[ \t]*+)?")
_DISPOSITION = re.compile(rf"[ \t]*+({_TOKEN})({_PARAMS})[ \t]*+(?:;[ \t]*+)?")
_PARAM = re.compile(rf'({_TOKEN})[ \t]*+=[ \t]*+(?:({_TOKEN})|"([^"]*+)")')
_CTE = re.compile(r"[A-Za-z0-9-]*+")
_UUENCODE = frozenset(["x-uuencode", "uuencode", "uue", "x-uue"])


class ContentHeaders(NamedTuple):
    """What a part's Content-* fields say, read the way ``policy.default`` reads them."""

    content_type: str  # "maintype/subtype", lower case
    disposition: str | None  # lower case, or None without a Content-Disposition
    filename: str | None  # the raw, undecoded parameter value, or None
    charset: str | None  # lower case
    boundary: str | None
    transfer_encoding: str  # lower case; "" when absent


def content_headers(header: HeaderBlock, default_type: str = "text/plain") -> ContentHeaders:
    """The content facts of a header block; raises ``Unsupported`` on an unusual shape."""
    return _content_headers(
        header.first(b"content-type"),
        header.first(b"content-disposition"),
        header.first(b"content-transfer-encoding"),
        default_type,
    )


# Parts repeat the same few Content-* values (text/plain; charset=utf-8, ...) across a mailbox;
# only multipart types carry a unique boundary, and those just pass through the cache.
@lru_cache(maxsize=1024)
def _content_headers(
    raw_type: str | None, raw_disposition: str | None, raw_encoding: str | None, default_type: str
) -> ContentHeaders:
    content_type, type_params = default_type, dict[str, str]()
    if raw_type is not None:
        content_type, type_params = _parameterised(_MEDIA_TYPE, raw_type)
    disposition: str | None = None
    disposition_params: dict[str, str] = {}
    if raw_disposition is not None:
        disposition, disposition_params = _parameterised(_DISPOSITION, raw_disposition)
    # As get_filename(): the disposition's filename, else the type's name.
    filename = disposition_params.get("filename", type_params.get("name"))
    charset = type_params.get("charset")
    boundary = type_params.get("boundary")
    return ContentHeaders(
        content_type=content_type,
        disposition=disposition,
        filename=None if filename is None else _unquote(filename).strip(),
        charset=None if charset is None else charset.lower(),
        boundary=None if boundary is None else _unquote(boundary).rstrip(),
        transfer_encoding=_transfer_encoding(raw_encoding),
    )


def _parameterised(grammar: re.Pattern[str], raw: str) -> tuple[str, dict[str, str]]:
    value = raw.replace("\r", "").replace("\n", "")  # policy.default unfolds by deleting breaks
    match = grammar.fullmatch(value)
    if match is None:
        raise Unsupported("unusual MIME header")
    params: dict[str, str] = {}
    for param in _PARAM.finditer(match.group(2)):
        name = param.group(1).lower()
        quoted = param.group(3)
        if name in params:
            raise Unsupported("repeated MIME parameter")
        if quoted is not None and "=?" in quoted and name not in ("name", "filename"):
            # The registry decodes these; a filename only matters for has_attachments, which
            # checks it there.
            raise Unsupported("encoded word in a MIME parameter")
        params[name] = param.group(2) if quoted is None else quoted
    return match.group(1).lower(), params


def _unquote(value: str) -> str:
    """The second unquoting get_filename() and get_boundary() do (``email.utils.unquote``)."""
    if len(value) > 1 and value[0] == "<" and value[-1] == ">":
        return value[1:-1]
    return value  # a value in double quotes cannot reach here: our grammar has no inner quotes


def _transfer_encoding(raw: str | None) -> str:
    if raw is None:
        return ""
    value = raw.replace("\r", "").replace("\n", "")
    if _CTE.fullmatch(value) is None or value.lower() in _UUENCODE:
        raise Unsupported("unusual Content-Transfer-Encoding")
    return value.lower()


# --- MIME boundaries --------------------------------------------------------------------------

# What may follow "--boundary" on a boundary line (feedparser's boundaryre, minus the prefix).
_BOUNDARY_TAIL = re.compile(rb"(--)?[ \t]*+(?:\r\n|\r|\n|\Z)")


def child_regions(data: bytes, start: int, end: int, boundary: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` byte ranges of the parts of a multipart body in ``data[start:end]``.

    ``end`` is already where an enclosing boundary cuts this body off. An empty list means that
    no opening boundary line came before the closing one or the end: feedparser then keeps the
    whole body as one undivided payload. Runs of boundary lines open one part, as there too.
    """
    lines = _boundary_lines(data, start, end, b"--" + boundary.encode("ascii"))
    if not lines or lines[0][2]:
        return []
    regions = []
    position = lines[0][1]
    index = 1
    while True:
        while index < len(lines) and lines[index][0] == position:  # adjacent boundary lines
            position = lines[index][1]
            index += 1
        if index == len(lines):  # no closing boundary: the last part runs to the end
            regions.append((position, end))
            return regions
        line_start, line_end, closing = lines[index]
        regions.append((position, line_start))
        if closing:
            return regions
        position = line_end
        index += 1


def payload_end(data: bytes, start: int, end: int) -> int:
    """Where a part's payload ends: the line break before the next boundary belongs to it."""
    if data.endswith(b"\r\n", start, end):
        return end - 2
    return end - 1 if data.endswith((b"\n", b"\r"), start, end) else end


def _boundary_lines(
    data: bytes, start: int, end: int, separator: bytes
) -> list[tuple[int, int, bool]]:
    """``(line start, line end, is closing)`` of each boundary line in ``data[start:end]``."""
    found_lines = []
    position = start
    while (found := data.find(separator, position, end)) >= 0:
        position = found + 1
        if found > start and data[found - 1] not in b"\r\n":
            continue  # not at the start of a line
        tail = _BOUNDARY_TAIL.match(data, found + len(separator))
        if tail is not None:
            position = tail.end()
            found_lines.append((found, position, tail.group(1) is not None))
    return found_lines


# --- parts ----------------------------------------------------------------------------------


class FastLeaf(NamedTuple):
    """A leaf part as ``parse.walk_leaves`` would yield it, with where its payload lies."""

    content: ContentHeaders
    payload_start: int
    payload_end: int


def collect_leaves(
    data: bytes,
    content: ContentHeaders,
    body_start: int,
    end: int,
    leaves: list[FastLeaf],
    depth: int = 0,
) -> None:
    """Append the leaves of the part with ``content`` whose body is ``data[body_start:end]``.

    Attached messages are leaves, as in ``walk_leaves``; nesting that walk_leaves would cut off
    raises ``Unsupported`` (feedparser may not even get that far).
    """
    if content.content_type.startswith("multipart/") and content.boundary is not None:
        regions = child_regions(data, body_start, end, content.boundary)
        if regions:
            if depth + 1 >= MAX_DEPTH:
                raise Unsupported("deep MIME nesting")
            # feedparser's rule: the parts of a digest are messages unless they say otherwise.
            digest = content.content_type == "multipart/digest"
            child_type = "message/rfc822" if digest else "text/plain"
            for start, stop in regions:
                child, child_body = part_header(data, start, stop, child_type)
                collect_leaves(data, child, child_body, stop, leaves, depth + 1)
            return
    # The line break before a boundary belongs to the boundary; the top level keeps its own.
    stop = payload_end(data, body_start, end) if depth else end
    leaves.append(FastLeaf(content, body_start, max(stop, body_start)))


def part_header(data: bytes, start: int, end: int, default_type: str) -> tuple[ContentHeaders, int]:
    """The content facts of the part at ``data[start:end]`` and where its body starts."""
    # The block and the start of the blank line after it decide both, and the same few part
    # headers come back in message after message, so each is read once.
    blank = _blank_line(data, start, end)
    block = data[start : min(blank + 2, end)]
    if len(block) > _MAX_CACHED_BLOCK:
        content, offset = _part_header_of(block, default_type)
    else:
        content, offset = _cached_part_header(block, default_type)
    return content, start + offset


def _part_header_of(block: bytes, default_type: str) -> tuple[ContentHeaders, int]:
    header = read_header_block(block)
    return content_headers(header, default_type), header.body_start


_MAX_CACHED_BLOCK = 1024
_cached_part_header = lru_cache(maxsize=1024)(_part_header_of)


def leaf_bytes(data: bytes, leaf: FastLeaf, limit: int) -> bytes:
    """The transfer-decoded payload of a leaf, as ``get_payload(decode=True)``, from at most
    ``limit`` bytes of it; a character cut in two at that limit is dropped."""
    payload = data[leaf.payload_start : min(leaf.payload_end, leaf.payload_start + limit)]
    encoding = leaf.content.transfer_encoding
    if encoding == "quoted-printable":
        decoded = binascii.a2b_qp(payload)  # what quopri.decodestring uses
    elif encoding == "base64":
        decoded = _base64_decoded(b"".join(payload.splitlines()))
    else:
        decoded = payload
    if leaf.payload_end - leaf.payload_start > limit:
        decoded = _without_cut_utf8(decoded)
    return decoded


def _base64_decoded(data: bytes) -> bytes:
    """Lenient base64, step for step as the stdlib's ``email._encoded_words.decode_b``."""
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
    except binascii.Error:
        pass  # invalid characters: let the decoder skip them
    try:
        return base64.b64decode(data, validate=False)
    except binascii.Error:
        pass  # still short of padding
    try:
        return base64.b64decode(data + b"==", validate=False)
    except binascii.Error:
        return data  # one character too many; nothing decodes it


def _without_cut_utf8(data: bytes) -> bytes:
    """Drop a UTF-8 sequence left incomplete at the end, so the guess of charset stays UTF-8."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data[:-back] if back < length else data
    return data


# --- dates ----------------------------------------------------------------------------------

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_COMMON_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (" + "|".join(_MONTHS) + r") "
    r"([1-9][0-9]{3}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})"
)


def common_date(value: str) -> datetime | None:
    """A date in the form nearly all software writes, exactly as ``parsedate_to_datetime`` reads
    it (naive for "-0000"; ValueError when out of range); None for any other form."""
    match = _COMMON_DATE.fullmatch(value)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    when = (int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    if sign == "-":
        if not offset:
            return datetime(*when)  # the zone is unknown
        offset = -offset
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = timezone(timedelta(seconds=offset))  # ValueError past 24 h
    return datetime(*when, tzinfo=zone)


_ZONES: dict[int, timezone] = {}  # under 5,000 valid offsets, and a handful in practice


# --- addresses --------------------------------------------------------------------------------

# One mailbox of the everyday shapes, then a comma or the end: "addr@host", "<addr@host>",
# "Name <addr@host>", '"Doe, John" <addr@host>'. Atoms are what _parseaddr reads as atoms (it
# only knows space as white space here; the value has been through sanitize_line).
_ATOM = r'[^ ()<>@,:;\\"\[\]]++'
_WORD = rf'"[^"\\]*+"|{_ATOM}'
_MAILBOX = re.compile(
    rf"[ ,]*+(?:((?:{_WORD})(?: *+(?:{_WORD}))*+)? *+<({_ATOM}(?:@{_ATOM})?)?>"
    rf"|({_ATOM}@{_ATOM})) *+(?:,|\Z)"
)
_PHRASE_WORD = re.compile(rf'"([^"\\]*+)"|({_ATOM})')
_SEPARATORS = re.compile(r"[ ,]*+\Z")


def mailbox_pairs(value: str) -> list[tuple[str, str]] | None:
    """``(display name, address)`` pairs as ``email.utils.getaddresses`` gives them, or None.

    None means the value is not a plain list of the everyday shapes (groups, comments, quoted
    local parts, route addresses...); the caller then asks ``getaddresses`` itself.
    """
    pairs: list[tuple[str, str]] = []
    position = 0
    while _SEPARATORS.match(value, position) is None:
        match = _MAILBOX.match(value, position)
        if match is None:
            return None
        phrase, route, bare = match.groups()
        if bare is not None:
            pairs.append(("", bare))
        else:
            words = _PHRASE_WORD.findall(phrase) if phrase else []
            pairs.append((" ".join(quoted or atom for quoted, atom in words), route or ""))
        position = match.end()
    return pairs
