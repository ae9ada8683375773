"""Header FETCH responses -> ``HeaderRecord``: ENVELOPE, BODYSTRUCTURE, flags and dates.

This is the hot path of a cold sync (100k messages), so the common response shape is read by
one regular expression per message instead of a token at a time (the generic tokenizer costs
about 100 us per message here, the regex about 10). Anything the regex does not recognise
(another item order, a literal inside the ENVELOPE, nesting deeper than it allows) goes through
the generic tokenizer in ``imap_parse``, and both paths end in the same builders below.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from tuimail.mail.envelope import Address, Envelope
from tuimail.mail.sanitize import sanitize_line
from tuimail.protocols.imap_bodystructure import bodystructure_has_attachment, has_attachment
from tuimail.protocols.imap_fields import (
    date_of,
    decode_text,
    parse_date,
    parse_internal_date,
    to_text,
)
from tuimail.protocols.imap_parse import (
    MalformedResponse,
    Value,
    message_flags,
    message_flags_of,
    pairs,
    parse_untagged,
    parse_values,
    to_int,
    unquote,
)
from tuimail.protocols.imap_records import HeaderRecord

# The header fields we ask for besides ENVELOPE: it lacks References.
HEADER_FIELDS = "REFERENCES"
FETCH_ITEMS = (
    f"UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE "
    f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]"
)

_QUOTED = rb'"[^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+"'
_NSTRING = rb"(?:NIL|" + _QUOTED + rb")"
_ADDRESS = rb"\(" + rb" ".join([_NSTRING] * 4) + rb"\)"
_ADDRESS_LIST = rb"(?:NIL|\((?:" + _ADDRESS + rb" ?)++\))"
# The Date field in the form nearly all mail has ("Thu, 01 Jan 2026 09:00:00 +0000", maybe a
# zone comment) is read into its parts here: a second regex per message cost more than these
# groups. Any other form is captured whole and read by ``parse_date``.
_COMMON_DATE = (
    rb'"(?:[A-Za-z]{3}, )?(?P<day>\d{1,2}) (?P<month>[A-Za-z]{3}) (?P<year>\d{4}) '
    rb"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2}) (?P<zone>[+-]\d{4})"
    rb'(?: \([^()"\\\r\n]*+\))?"'
)
# Sender and Bcc are matched but not captured: nothing reads them, and every group costs a
# copy per message.
_ENVELOPE = (
    rb"\((?:%(d)s|(?P<date>%(n)s)) (?P<subject>%(n)s) (?P<from>%(a)s) %(a)s "
    rb"(?P<reply_to>%(a)s) (?P<to>%(a)s) (?P<cc>%(a)s) %(a)s "
    rb"(?P<in_reply_to>%(n)s) (?P<message_id>%(n)s)\)"
) % {b"n": _NSTRING, b"a": _ADDRESS_LIST, b"d": _COMMON_DATE}


def _nested_lists(depth: int) -> bytes:
    """A pattern for a parenthesised list nested at most ``depth`` deep, without literals."""
    plain = rb'[^()"{\r\n]++|' + _QUOTED
    pattern = rb"\((?:" + plain + rb")*+\)"
    for _ in range(depth - 1):
        pattern = rb"\((?:" + plain + rb"|" + pattern + rb")*+\)"
    return pattern


# Item order is free (each item at most once); the header literal must come last, which is
# where Dovecot puts it (a server that puts it elsewhere takes the generic path, only slower).
# Possessive quantifiers keep matching linear.
_FAST_FETCH: Final = re.compile(
    rb"\* \d{1,10} FETCH \((?:(?:"
    rb"UID (?P<uid>\d{1,10})"
    rb"|FLAGS \((?P<flags>[^()\"{\r\n]*+)\)"
    rb'|INTERNALDATE "(?P<internal_date>[^"\\\r\n]*+)"'
    rb"|RFC822\.SIZE (?P<size>\d{1,15})"
    rb"|MODSEQ \((?P<modseq>\d{1,20})\)"
    rb"|ENVELOPE " + _ENVELOPE + rb"|BODYSTRUCTURE (?P<body>" + _nested_lists(12) + rb")"
    rb") )*+BODY\[HEADER\.FIELDS \([^()\r\n]*+\)\] "
    rb'(?:\{(?P<header_size>\d{1,12})\}\r\n|"(?P<header_quoted>[^"\\\r\n]*+)"|NIL)'
)
_ADDRESS_PARTS: Final = re.compile(
    rb"\((" + _NSTRING + rb") " + _NSTRING + rb" (" + _NSTRING + rb") (" + _NSTRING + rb")\)"
)
# No controls, spaces or bidi overrides inside: a message id may be shown to the user.
_MESSAGE_ID: Final = re.compile("<[^\x00-\x20<>\x7f-\x9f\u202a-\u202e\u2066-\u2069]++>")


def parse_header_fetch(response: bytes) -> HeaderRecord | None:
    """The HeaderRecord in a FETCH response; None for a FETCH without an ENVELOPE."""
    match = _FAST_FETCH.match(response)
    if match is not None:
        record = _from_fast_match(response, match)
        if record is not None:
            return record
    return _from_generic(response)


def _from_fast_match(response: bytes, match: re.Match[bytes]) -> HeaderRecord | None:
    # One groups() call and positional unpacking: named lookups cost a third of the budget.
    (
        uid,
        flags,
        internal_date,
        size,
        modseq,
        day,
        month,
        year,
        hour,
        minute,
        second,
        zone,
        date,
        subject,
        from_,
        reply_to,
        to,
        cc,
        in_reply_to,
        message_id,
        body,
        header_size,
        header_quoted,
    ) = match.groups()
    if uid is None or flags is None or internal_date is None or size is None:
        return None
    if (date is None and day is None) or body is None:
        return None
    end = match.end()
    if header_size is not None:
        stop = end + int(header_size)
        header = response[end:stop]
    else:
        stop, header = end, header_quoted or b""
    if len(response) != stop + 1 or response[stop] != 0x29:  # ")"
        return None  # something follows the header fields: the generic path reads it
    octets = int(size)
    has_attachments = bodystructure_has_attachment(body)
    # Positional arguments, in field order: keywords cost a frozen dataclass twice as much,
    # and these two are built once per message of a 100k-message sync.
    envelope = Envelope(
        _quoted_message_id(message_id),  # message_id
        _quoted_text(subject),  # subject
        _address_list(from_),  # from_
        _address_list(to),  # to
        _address_list(cc),  # cc
        _address_list(reply_to),  # reply_to
        (
            date_of(day, month, year, hour, minute, second, zone)
            if day is not None
            else None
            if date == b"NIL"
            else parse_date(unquote(date[1:-1]))
        ),  # date
        None if in_reply_to == b"NIL" else _in_reply_to(unquote(in_reply_to[1:-1])),
        _references(header) if len(header) > 2 else (),  # references
        octets,  # size
        has_attachments,
    )
    return HeaderRecord(
        int(uid),
        message_flags(flags),
        parse_internal_date(internal_date),
        octets,  # size
        int(modseq) if modseq is not None else None,
        envelope,
        has_attachments,
    )


@lru_cache(maxsize=16384)
def _quoted_text(raw: bytes) -> str:
    # Keyed by the quoted form, so a repeated subject costs one dictionary lookup.
    return "" if raw == b"NIL" else decode_text(unquote(raw[1:-1]))


_PLAIN_MESSAGE_ID: Final = re.compile(rb'"(<[\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e]++>)"')


def _quoted_message_id(raw: bytes) -> str | None:
    # Nearly every Message-ID is plain ASCII in angle brackets; only odd ones need more work.
    if (match := _PLAIN_MESSAGE_ID.fullmatch(raw)) is not None:
        return match[1].decode("ascii")
    return None if raw == b"NIL" else _message_id(unquote(raw[1:-1]))


def _nstring(raw: bytes) -> bytes | None:
    return None if raw == b"NIL" else unquote(raw[1:-1])


@lru_cache(maxsize=8192)
def _address_list(raw: bytes) -> tuple[Address, ...]:
    # Correspondents repeat, so most address lists of a mailbox are decoded only once.
    if raw == b"NIL":
        return ()
    addresses = (
        _address(_nstring(name), _nstring(mailbox), _nstring(host))
        for name, mailbox, host in _ADDRESS_PARTS.findall(raw)
    )
    return tuple(address for address in addresses if address is not None)


def _from_generic(response: bytes) -> HeaderRecord | None:
    untagged = parse_untagged(response)
    if untagged.kind != "FETCH":
        return None
    values = parse_values(untagged.rest)
    if len(values) != 1:
        raise MalformedResponse("a FETCH response without its item list")
    items = pairs(values[0])
    raw_envelope = items.get(b"ENVELOPE")
    if raw_envelope is None:
        return None
    if not isinstance(raw_envelope, list) or len(raw_envelope) != 10:
        raise MalformedResponse("an ENVELOPE without its ten fields")
    for name in (b"UID", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"):
        if name not in items:
            raise MalformedResponse(f"a FETCH response without {name.decode()}")
    header = b""
    for name, value in items.items():
        if name.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
            header = value
    internal_date = items[b"INTERNALDATE"]
    if not isinstance(internal_date, bytes):
        raise MalformedResponse("INTERNALDATE is not a string")
    size = to_int(items[b"RFC822.SIZE"], "RFC822.SIZE")
    date, subject, *_, in_reply_to, message_id = (
        value if isinstance(value, bytes) else None for value in raw_envelope
    )
    envelope = Envelope(
        message_id=_message_id(message_id) if message_id else None,
        subject=decode_text(subject) if subject else "",
        from_=_address_values(raw_envelope[2]),
        to=_address_values(raw_envelope[5]),
        cc=_address_values(raw_envelope[6]),
        reply_to=_address_values(raw_envelope[4]),
        date=parse_date(date) if date else None,
        in_reply_to=_in_reply_to(in_reply_to) if in_reply_to else None,
        references=_references(header) if len(header) > 2 else (),
        size=size,
        # BODY: what a server without extension data may answer in its place.
        has_attachments=has_attachment(items.get(b"BODYSTRUCTURE", items.get(b"BODY"))),
    )
    modseq = items.get(b"MODSEQ")
    return HeaderRecord(
        uid=to_int(items[b"UID"], "UID"),
        flags=message_flags_of(items[b"FLAGS"]),
        internal_date=parse_internal_date(internal_date),
        size=size,
        modseq=to_int(modseq[0], "MODSEQ") if isinstance(modseq, list) and modseq else None,
        envelope=envelope,
        has_attachments=envelope.has_attachments,
    )


def _address_values(value: Value) -> tuple[Address, ...]:
    if not isinstance(value, list):
        return ()
    addresses: list[Address] = []
    for entry in value:
        if isinstance(entry, list) and len(entry) == 4:
            name, _route, mailbox, host = (v if isinstance(v, bytes) else None for v in entry)
            if (address := _address(name, mailbox, host)) is not None:
                addresses.append(address)
    return tuple(addresses)


# Building the Envelope


def _address(name: bytes | None, mailbox: bytes | None, host: bytes | None) -> Address | None:
    if mailbox is None or host is None:
        return None  # the start (host NIL) or end (all NIL) of an RFC 2822 group
    local = to_text(mailbox)
    email = sanitize_line(f"{local}@{to_text(host)}" if host else local)
    return Address(decode_text(name) if name else "", email)


def _message_id(raw: bytes) -> str | None:
    text = to_text(raw)
    if (match := _MESSAGE_ID.search(text)) is not None:
        return match.group()
    # Without angle brackets the text still identifies the message, once made safe.
    return sanitize_line(text).strip() or None


def _in_reply_to(raw: bytes) -> str | None:
    # In-Reply-To text without a message id ("your message of Monday") names no parent.
    match = _MESSAGE_ID.search(to_text(raw))
    return match.group() if match is not None else None


def _references(header: bytes) -> tuple[str, ...]:
    # The literal holds only the References field; unfolding is unnecessary for a regex.
    return tuple(_MESSAGE_ID.findall(to_text(header)))
