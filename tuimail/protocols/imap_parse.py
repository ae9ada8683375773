"""Reading IMAP responses: the generic tokenizer, status texts, UID sets, LIST/STATUS/SEARCH.

Everything here is a pure function of the bytes of one response (as ``ImapWire`` cuts them,
literals included), so it is tested without a server. Parse failures raise
``MalformedResponse``; the client turns it into a ``ProtocolError`` naming the server.
The hot path for header FETCHes lives in ``imap_headers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from tuimail.protocols.imap_records import (
    Exists,
    Expunge,
    FlagRecord,
    FlagsChanged,
    ServerEvent,
    Vanished,
)
from tuimail.protocols.server_text import clean_server_text

# A parsed value: an atom or string (bytes), NIL (None) or a parenthesised list.
Value = bytes | None | list["Value"]

MAX_DEPTH = 64  # real responses nest a dozen levels; a thousand is an attack on the parser
MAX_UIDS = 2_000_000  # UIDs one response may expand to (VANISHED 1:4294967295 would be 4 G)

_TOKEN: Final = re.compile(
    rb" *+(?:"
    rb"(\()"  # 1: open
    rb"|(\))"  # 2: close
    rb'|"([^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+)"'  # 3: quoted string
    rb"|~?\{(\d{1,20})\+?\}\r\n"  # 4: literal (or literal8) of that many bytes
    rb"|(NIL)(?=[ )]|\Z)"  # 5: NIL
    # 6: atom, number, flag, or a fetch item name with its section: BODY[HEADER.FIELDS (X)]<0>
    rb"|([^\x00-\x20()\"{\[\]\x7f]++(?:\[[^\]\r\n]*+\](?:<\d{1,20}>)?)?)"
    rb")"
)
_ESCAPED: Final = re.compile(rb"\\(.)")
_UNTAGGED: Final = re.compile(rb"\* (?:(\d{1,10}) )?([A-Za-z][A-Za-z0-9-]*+)(?: (.*))?\Z", re.S)
_STATUS_TEXT: Final = re.compile(rb"\[([A-Za-z0-9.-]++)(?: ([^\]]*+))?\] ?(.*)\Z", re.S)
_UID_RANGE: Final = re.compile(rb"(\d{1,10})(?::(\d{1,10}))?")
_NUMBER: Final = re.compile(rb"\d{1,20}")


class MalformedResponse(ValueError):
    """A response that does not follow the grammar of RFC 3501."""


def unquote(raw: bytes) -> bytes:
    """The content of a quoted string's body, backslash escapes removed."""
    return _ESCAPED.sub(rb"\1", raw) if b"\\" in raw else raw


def parse_values(data: bytes, pos: int = 0) -> list[Value]:
    """Parse the space-separated values from ``pos`` to the end of a response."""
    match = _TOKEN.match
    end = len(data)
    stack: list[list[Value]] = []
    current: list[Value] = []
    while pos < end:
        token = match(data, pos)
        if token is None:
            if data[pos:].strip(b" ") == b"":
                break
            raise MalformedResponse(f"unexpected {clean_server_text(data[pos : pos + 40])!r}")
        pos = token.end()
        kind = token.lastindex
        if kind == 1:
            if len(stack) >= MAX_DEPTH:
                raise MalformedResponse(f"lists nested more than {MAX_DEPTH} deep")
            stack.append(current)
            child: list[Value] = []
            current.append(child)
            current = child
        elif kind == 2:
            if not stack:
                raise MalformedResponse("a ')' without its '('")
            current = stack.pop()
        elif kind == 3:
            current.append(unquote(token[3]))
        elif kind == 4:
            size = int(token[4])
            if pos + size > end:
                raise MalformedResponse("a literal longer than the response")
            current.append(data[pos : pos + size])
            pos += size
        elif kind == 5:
            current.append(None)
        else:
            current.append(token[6])
    if stack:
        raise MalformedResponse("a '(' without its ')'")
    return current


@dataclass(frozen=True, slots=True)
class StatusText:
    """The text of an OK/NO/BAD/BYE response: its optional [CODE arg] and the human part."""

    code: str | None
    arg: bytes | None
    text: str  # cleaned, one line


def parse_status_text(raw: bytes) -> StatusText:
    """Split resp-text into its response code and its human text."""
    match = _STATUS_TEXT.match(raw)
    if match is None:
        return StatusText(None, None, clean_server_text(raw))
    return StatusText(match[1].decode("ascii").upper(), match[2], clean_server_text(match[3]))


@dataclass(frozen=True, slots=True)
class Untagged:
    """An untagged response: ``* [number] KIND rest``."""

    kind: str  # upper case: EXISTS, FETCH, LIST, OK, BYE, CAPABILITY...
    number: int | None
    rest: bytes


def parse_untagged(response: bytes) -> Untagged:
    """Classify an untagged response by its keyword."""
    match = _UNTAGGED.match(response)
    if match is None:
        raise MalformedResponse(f"unexpected {clean_server_text(response[:60])!r}")
    number = int(match[1]) if match[1] is not None else None
    return Untagged(match[2].decode("ascii").upper(), number, match[3] or b"")


def parse_tagged(response: bytes, tag: bytes) -> tuple[str, StatusText]:
    """Split ``tag OK|NO|BAD text`` into the status and its text."""
    rest = response[len(tag) + 1 :]
    status, _, text = rest.partition(b" ")
    status_name = status.decode("ascii", "replace").upper()
    if status_name not in ("OK", "NO", "BAD"):
        raise MalformedResponse(f"unexpected {clean_server_text(response[:60])!r}")
    return status_name, parse_status_text(text)


def decode_atoms(values: Value) -> frozenset[str]:
    """A list of atoms (flags, capabilities) as a set of strings."""
    if not isinstance(values, list):
        raise MalformedResponse("expected a list of flags")
    return frozenset(
        value.decode("ascii", "replace") for value in values if isinstance(value, bytes)
    )


@lru_cache(maxsize=512)
def message_flags(raw: bytes) -> frozenset[str]:
    """The flags of a message from the inside of ``FLAGS (...)``, without \\Recent.

    \\Recent belongs to one session (and is gone from IMAP4rev2); kept, it would look like a
    flag change every time another session saw the message first. A mailbox has few
    distinct flag combinations, so the sets are cached.
    """
    return frozenset(
        flag.decode("ascii", "replace") for flag in raw.split() if flag.lower() != b"\\recent"
    )


def message_flags_of(value: Value) -> frozenset[str]:
    """Message flags from a parsed ``FLAGS`` list."""
    if not isinstance(value, list) or not all(isinstance(flag, bytes) for flag in value):
        raise MalformedResponse("expected a list of flags")
    return message_flags(b" ".join(flag for flag in value if isinstance(flag, bytes)))


def to_int(value: Value, what: str) -> int:
    """A number from the response, checked."""
    if not isinstance(value, bytes) or _NUMBER.fullmatch(value) is None:
        raise MalformedResponse(f"{what} is not a number")
    return int(value)


def pairs(values: Value) -> dict[bytes, Value]:
    """``(NAME value NAME value ...)`` as a dict keyed by the upper-case name."""
    if not isinstance(values, list) or len(values) % 2:
        raise MalformedResponse("expected a list of name/value pairs")
    items: dict[bytes, Value] = {}
    for index in range(0, len(values), 2):
        name = values[index]
        if not isinstance(name, bytes):
            raise MalformedResponse("expected an item name")
        items[name.upper()] = values[index + 1]
    return items


# UID sets


def format_uid_set(uids: Iterable[int]) -> str:
    """Compress UIDs into an IMAP sequence set: 1, 2, 3, 5, 9, 10 -> "1:3,5,9:10"."""
    return ",".join(_ranges(sorted(set(uids))))


def uid_set_chunks(uids: Iterable[int], max_length: int = 4000) -> list[str]:
    """UID sets of at most ``max_length`` characters that together cover ``uids``.

    Servers limit command lines (Dovecot to 64 KB, others to 8 KB), so a large scattered
    selection is sent as several commands.
    """
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for part in _ranges(sorted(set(uids))):
        if current and length + len(part) + 1 > max_length:
            chunks.append(",".join(current))
            current, length = [], 0
        current.append(part)
        length += len(part) + 1
    if current:
        chunks.append(",".join(current))
    return chunks


def _ranges(ordered: Sequence[int]) -> list[str]:
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        start = end = ordered[index]
        if start < 1:
            raise ValueError(f"UIDs start at 1, got {start}")
        index += 1
        while index < len(ordered) and ordered[index] == end + 1:
            end = ordered[index]
            index += 1
        parts.append(str(start) if start == end else f"{start}:{end}")
    return parts


def parse_uid_set(raw: bytes, limit: int = MAX_UIDS, below: int | None = None) -> list[int]:
    """Expand a sequence set the server sent ("1:3,7") into UIDs, at most ``limit`` of them.

    ``below`` drops UIDs at or above it (UIDNEXT), which bounds a hostile "1:4294967295".
    """
    uids: list[int] = []
    for part in raw.split(b","):
        match = _UID_RANGE.fullmatch(part.strip())
        if match is None:
            raise MalformedResponse(f"bad UID set {clean_server_text(raw[:60])!r}")
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        low, high = min(first, last), max(first, last)
        if below is not None:
            high = min(high, below - 1)
        if high < low:
            continue
        if len(uids) + high - low + 1 > limit:
            raise MalformedResponse(f"a UID set of more than {limit} UIDs")
        uids.extend(range(low, high + 1))
    return uids


# Responses of particular commands


def parse_list(rest: bytes) -> tuple[frozenset[str], str | None, str]:
    """``(flags) delimiter name`` of a LIST or LSUB response; the name as sent (surrogateescape)."""
    values = parse_values(rest)
    if len(values) < 3:
        raise MalformedResponse("a LIST response without a folder name")
    flags, delimiter, name = values[0], values[1], values[2]
    if delimiter is not None and not isinstance(delimiter, bytes):
        raise MalformedResponse("a LIST response with a bad delimiter")
    if not isinstance(name, bytes):
        raise MalformedResponse("a LIST response with a bad folder name")
    separator = delimiter.decode("utf-8", "replace") if delimiter is not None else None
    return decode_atoms(flags), separator, name.decode("utf-8", "surrogateescape")


def parse_status(rest: bytes) -> dict[str, int]:
    """The counters of ``* STATUS name (MESSAGES 3 UNSEEN 1 ...)``."""
    values = parse_values(rest)
    if len(values) != 2:
        raise MalformedResponse("a STATUS response without counters")
    return {
        name.decode("ascii", "replace"): to_int(value, name.decode("ascii", "replace"))
        for name, value in pairs(values[1]).items()
    }


def parse_search(rest: bytes) -> list[int]:
    """The numbers of ``* SEARCH 4 7 9`` (a trailing CONDSTORE ``(MODSEQ n)`` is ignored)."""
    head = rest.partition(b"(")[0]
    numbers = head.split()
    for number in numbers:
        if _NUMBER.fullmatch(number) is None:
            raise MalformedResponse(f"bad SEARCH result {clean_server_text(number)!r}")
    return [int(number) for number in numbers]


def parse_esearch_all(rest: bytes) -> list[int]:
    """The UIDs of ``* ESEARCH (TAG "A5") UID ALL 1:3,7`` (RFC 4731); [] when none matched."""
    values = parse_values(rest)
    if values and isinstance(values[0], list):
        values = values[1:]  # the (TAG "...") correlator: our commands run one at a time
    if values and isinstance(values[0], bytes) and values[0].upper() == b"UID":
        values = values[1:]
    items = pairs(values)
    found = items.get(b"ALL")
    if found is None:
        return []
    if not isinstance(found, bytes):
        raise MalformedResponse("an ESEARCH ALL without a UID set")
    return parse_uid_set(found)


def parse_flag_fetch(rest: bytes) -> FlagRecord | None:
    """UID, FLAGS and MODSEQ of a FETCH response; None when it carries no UID or FLAGS."""
    values = parse_values(rest)
    if len(values) != 1:
        raise MalformedResponse("a FETCH response without its item list")
    items = pairs(values[0])
    uid, flags = items.get(b"UID"), items.get(b"FLAGS")
    if uid is None or flags is None:
        return None
    return FlagRecord(to_int(uid, "UID"), message_flags_of(flags), _modseq(items))


def _modseq(items: dict[bytes, Value]) -> int | None:
    value = items.get(b"MODSEQ")
    if isinstance(value, list) and len(value) == 1:
        return to_int(value[0], "MODSEQ")
    return None


def parse_event(untagged: Untagged, below: int | None = None) -> ServerEvent | None:
    """The change an untagged response reports about the selected folder, if it is one."""
    if untagged.kind == "EXISTS" and untagged.number is not None:
        return Exists(untagged.number)
    if untagged.kind == "EXPUNGE" and untagged.number is not None:
        return Expunge(untagged.number)
    if untagged.kind == "VANISHED":
        rest, earlier = untagged.rest, False
        if rest.upper().startswith(b"(EARLIER) "):
            rest, earlier = rest[10:], True
        return Vanished(tuple(parse_uid_set(rest, below=below)), earlier)
    if untagged.kind == "FETCH" and untagged.number is not None:
        values = parse_values(untagged.rest)
        if len(values) != 1:
            raise MalformedResponse("a FETCH response without its item list")
        items = pairs(values[0])
        if b"FLAGS" not in items:
            return None
        uid = items.get(b"UID")
        return FlagsChanged(
            untagged.number,
            to_int(uid, "UID") if uid is not None else None,
            message_flags_of(items[b"FLAGS"]),
            _modseq(items),
        )
    return None
