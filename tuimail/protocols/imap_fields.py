"""Header field values from the wire: raw bytes to text, RFC 2047 encoded words, dates.

Pure functions, cached where a mailbox repeats itself (names, subjects, INTERNALDATEs), as
they run once per message of a 100k-message sync.
"""

from __future__ import annotations

import binascii
import codecs
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Final

from tuimail.mail.sanitize import sanitize_line
from tuimail.protocols.imap_parse import MalformedResponse


def to_text(raw: bytes) -> str:
    """Bytes from a header as text: UTF-8, else Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Raw 8-bit headers that are not UTF-8 are, in practice, Windows-1252.
        return raw.decode("cp1252", "replace")


_ENCODED_WORD: Final = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*)\?=")


@lru_cache(maxsize=16384)
def decode_text(raw: bytes) -> str:
    """Header text from the wire: RFC 2047 encoded words decoded, then sanitised for display."""
    text = to_text(raw)
    if "=?" in text:
        text = _decode_words(text)
    return sanitize_line(text)


def _decode_words(text: str) -> str:
    if (whole := _ENCODED_WORD.fullmatch(text)) is not None:
        # One encoded word and nothing else, the usual shape of an encoded subject or name.
        payload = _word_payload(whole[2], whole[3])
        if payload is not None:
            return _decode_charset(whole[1].lower(), payload)
    out: list[str] = []
    pending: tuple[str, bytearray] | None = None  # adjacent words in one charset, joined
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        # RFC 2047 6.2: whitespace between two encoded words is not part of the text.
        if between and (pending is None or between.strip(" \t\r\n")):
            if pending is not None:
                out.append(_decode_charset(*pending))
                pending = None
            out.append(between)
        payload = _word_payload(match[2], match[3])
        if payload is None:
            if pending is not None:
                out.append(_decode_charset(*pending))
                pending = None
            out.append(match.group())
        else:
            charset = match[1].lower()
            if pending is not None and pending[0] == charset:
                # Multi-byte characters may be split across words, so decode the bytes joined.
                pending[1].extend(payload)
            else:
                if pending is not None:
                    out.append(_decode_charset(*pending))
                pending = (charset, bytearray(payload))
        pos = match.end()
    if pending is not None:
        out.append(_decode_charset(*pending))
    out.append(text[pos:])
    return "".join(out)


def _word_payload(encoding: str, payload: str) -> bytes | None:
    try:
        data = payload.encode("ascii")
        if encoding in "Bb":
            # binascii itself: base64.b64decode(validate=True) is this call behind a wrapper.
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
        return binascii.a2b_qp(data, header=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None  # shown as written: better than guessing at broken data


@lru_cache(maxsize=64)
def _codec(charset: str) -> str:
    """The codec for a MIME charset name; UTF-8 for unknown-8bit and invented names, the
    best guess today. Cached: a mailbox uses a handful of charsets in thousands of words."""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


def _decode_charset(charset: str, data: bytes | bytearray) -> str:
    try:
        return data.decode(_codec(charset), "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


_MONTH_NAMES = b"jan feb mar apr may jun jul aug sep oct nov dec".split()
# Every spelling seen in practice ("Jan", "jan", "JAN") is one lookup; others are lowered first.
_MONTHS = {
    spelling: number
    for number, name in enumerate(_MONTH_NAMES, start=1)
    for spelling in (name, name.title(), name.upper())
}
_INTERNAL_DATE: Final = re.compile(
    rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\Z"
)
_HEADER_DATE: Final = re.compile(
    rb"\s*+(?:[A-Za-z]{3},\s*+)?(\d{1,2})\s++([A-Za-z]{3})\s++(\d{4})\s++"
    rb"(\d{1,2}):(\d{2})(?::(\d{2}))?\s++([+-]\d{4})(?:\s*+\([^()]*\))?\s*+\Z"
)


@lru_cache(maxsize=64)
def _zone(zone: bytes) -> timezone:
    """``+hhmm`` or ``-hhmm`` as a timezone (ValueError past 24 hours, as datetime says)."""
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return timezone(-offset if zone[:1] == b"-" else offset)


# Month names to their ISO digits, for date_of.
_ISO_MONTHS = {spelling: b"%02d" % number for spelling, number in _MONTHS.items()}


def date_of(
    day: bytes, month: bytes, year: bytes, hour: bytes, minute: bytes, second: bytes, zone: bytes
) -> datetime | None:
    """A Date header already split into its parts (a four-digit year, two-digit time fields,
    ``+hhmm``), or None when they make no date.

    Read as one ISO 8601 string by ``datetime.fromisoformat``, which checks every range: half
    the cost of six ``int()`` calls and the constructor, once per message of a sync.
    """
    digits = _ISO_MONTHS.get(month) or _ISO_MONTHS.get(month.lower())
    if digits is None:
        return None
    text = b"%s-%s-%s%sT%s:%s:%s%s" % (
        year,
        digits,
        b"0" if len(day) == 1 else b"",
        day,
        hour,
        minute,
        second,
        zone,
    )
    try:
        return datetime.fromisoformat(text.decode("ascii"))
    except ValueError:
        return None


def _datetime(match: re.Match[bytes]) -> datetime:
    # Once per message of a 100k-message sync: one groups() call, one month lookup.
    day, month, year, hour, minute, second, zone = match.groups()
    number = _MONTHS.get(month) or _MONTHS.get(month.lower())
    if number is None:
        raise ValueError(f"unknown month {month!r}")
    return datetime(
        int(year),
        number,
        int(day),
        int(hour),
        int(minute),
        int(second) if second else 0,
        tzinfo=_zone(zone),
    )


@lru_cache(maxsize=1024)
def parse_internal_date(raw: bytes) -> datetime:
    """INTERNALDATE ("17-Jul-1996 02:44:25 -0700") as an aware datetime."""
    match = _INTERNAL_DATE.match(raw)
    try:
        if match is None:
            raise ValueError("no match")
        return _datetime(match)
    except ValueError as error:
        raise MalformedResponse(f"bad INTERNALDATE {raw[:40]!r}") from error


def parse_date(raw: bytes) -> datetime | None:
    """A Date header as an aware datetime, or None when it cannot be read."""
    match = _HEADER_DATE.match(raw)
    if match is not None:
        try:
            return _datetime(match)
        except ValueError:
            return None
    # Rarer spellings (two-digit years, "GMT", "EST") go to the stdlib, which knows them.
    try:
        parsed = parsedate_to_datetime(to_text(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
