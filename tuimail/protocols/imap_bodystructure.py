"""BODYSTRUCTURE -> whether a message has an attachment, by the rule ``mail.parse`` uses.

Servers send the structure in several shapes (RFC 3501 7.4.2): extension data (and with it the
disposition) may be absent, as in BODY; a file may be named only by the Content-Type ``name``
parameter, with no disposition at all (Dovecot and Courier pass on what the sender wrote);
pymap sends the disposition as the header's text (``"attachment; filename=..."``) instead of a
list. Each leaf's type, disposition and file name are read from their places in the grammar and
judged by ``mail.attachment_rule``, the rule the message's bytes are judged by when they arrive.
An attached message counts as one leaf, as in ``mail.parse``: its own parts are not looked into.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from functools import partial
from itertools import takewhile
from typing import Final
from urllib.parse import unquote_to_bytes

from tuimail.mail.attachment_rule import counts_as_attachment
from tuimail.protocols.imap_fields import decode_text, to_text
from tuimail.protocols.imap_parse import (
    MAX_DEPTH,
    MalformedResponse,
    Value,
    parse_values,
    unquote,
)

# A leaf's fields before its extension data (md5, then the disposition): type, subtype,
# parameters, id, description, encoding, size; text adds its lines; message/rfc822 adds the
# envelope, the attached message's structure and its lines.
_BASIC_FIELDS = 7
_TEXT_FIELDS = 8
_MESSAGE_FIELDS = 10
_RFC2231_PREFIX: Final = re.compile(r"\A[^']*'[^']*'")

_QUOTED: Final = rb'"[^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+"'
_QUOTED_BODY: Final = re.compile(rb'"([^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+)"')
_LEAF_START: Final = re.compile(rb"\(%(q)s %(q)s (?:\(|NIL)" % {b"q": _QUOTED})
# Type, subtype, parameters, id, description, encoding, size and text's lines; then it ends, or
# md5 follows and it ends, or the disposition (NIL, pymap's string, or a list of its type and
# parameters) follows and language and location may. A disposition of another shape fails.
_LEAF: Final = re.compile(
    rb"\((%(q)s) (%(q)s) (%(p)s) %(n)s %(n)s %(n)s \d++(?: \d++)?+"
    rb"(?:\)| %(n)s(?:\)| (?:(NIL|%(q)s)|\((%(q)s) (%(p)s)\))[ )]))"
    % {
        b"q": _QUOTED,
        b"n": rb"(?:NIL|%s)" % _QUOTED,
        b"p": rb"(?:NIL|\((?:%s ?)++\))" % _QUOTED,
    }
)


def bodystructure_has_attachment(raw: bytes) -> bool:
    """Whether the raw text of a BODYSTRUCTURE (or BODY) list holds an attachment.

    A structure that does not parse has none: the body, once fetched, decides then.
    """
    lowered = raw.lower()
    if b"name" not in lowered and b"attachment" not in lowered:
        return False  # nothing can be named or marked: most messages stop here
    if b"{" not in raw and b'("message" ' not in lowered:
        # Without literals and attached messages (whose envelopes look like other lists), a
        # list opening with the string "attachment" and a list or NIL can only be a
        # disposition, and any list opening with two strings and parameters is a leaf.
        if b'("attachment" (' in lowered or b'("attachment" nil)' in lowered:
            return True
        verdict = _leaves_verdict(raw)
        if verdict is not None:
            return verdict
    try:
        values = parse_values(raw)
    except MalformedResponse:
        return False
    return len(values) == 1 and has_attachment(values[0])


def _leaves_verdict(raw: bytes) -> bool | None:
    """The verdict read leaf by leaf with regular expressions, None for a shape they do not read.

    The header sync's hot path: tokenizing a whole structure costs more than the rest of the
    FETCH response.
    """
    for start in _LEAF_START.finditer(raw):
        leaf = _LEAF.match(raw, start.start())
        if leaf is None:
            return None
        kind = f"{_lower(unquote(leaf[1][1:-1]))}/{_lower(unquote(leaf[2][1:-1]))}"
        if leaf[5] is not None:  # the disposition's list: its type and parameters
            dsp: Value = [unquote(leaf[5][1:-1]), _quoted_values(leaf[6])]
        elif leaf[4] is not None and leaf[4] != b"NIL":
            dsp = unquote(leaf[4][1:-1])
        else:
            dsp = None
        if _is_attachment(kind, partial(_quoted_values, leaf[3]), dsp):
            return True
    return False


def _quoted_values(raw: bytes) -> list[Value]:
    return [unquote(value) for value in _QUOTED_BODY.findall(raw)]


def has_attachment(structure: Value) -> bool:
    """Whether a parsed BODYSTRUCTURE (or BODY) has a leaf that counts as an attachment."""
    stack: list[tuple[Value, int]] = [(structure, 0)]
    while stack:
        part, depth = stack.pop()
        if not isinstance(part, list) or not part or depth > MAX_DEPTH:
            continue
        if isinstance(part[0], list):
            # A multipart: its parts, then its subtype and its own extension data.
            stack.extend((child, depth + 1) for child in takewhile(_is_list, part))
        elif _leaf_is_attachment(part):
            return True
    return False


def _is_list(value: Value) -> bool:
    return isinstance(value, list)


def _leaf_is_attachment(leaf: list[Value]) -> bool:
    kind = f"{_lower(leaf[0])}/{_lower(leaf[1] if len(leaf) > 1 else None)}"
    if kind.startswith("text/"):
        fields = _TEXT_FIELDS
    elif kind.startswith("message/") and all(_is_list(v) for v in leaf[7:9]) and len(leaf) > 9:
        fields = _MESSAGE_FIELDS
    else:
        fields = _BASIC_FIELDS
    dsp = leaf[fields + 1] if len(leaf) > fields + 1 else None
    return _is_attachment(kind, lambda: leaf[2] if len(leaf) > 2 else None, dsp)


def _is_attachment(kind: str, params: Callable[[], Value], dsp: Value) -> bool:
    """The rule for one leaf; ``params`` (its Content-Type parameters) is read only if needed."""
    disposition = _lower(dsp[0]) if isinstance(dsp, list) and dsp else None
    if counts_as_attachment(kind, disposition, None):
        return True  # the common answer, with no name to read
    if not isinstance(dsp, list):
        disposition, filename = _text_disposition(dsp)
    else:
        filename = _parameter(dsp[1], "filename") if len(dsp) > 1 else None
    if filename is None:
        filename = _parameter(params(), "name")  # as get_filename() falls back to it
    return counts_as_attachment(kind, disposition, filename)


def _text_disposition(field: Value) -> tuple[str | None, str | None]:
    """The type and file name of pymap's form of body-fld-dsp: the header field's own text."""
    if not isinstance(field, bytes):
        return None, None
    header = Message()
    header["Content-Disposition"] = to_text(field)
    return header.get_content_disposition(), header.get_filename()


def _parameter(params: Value, name: str) -> str | None:
    """A parameter's decoded value (RFC 2047 or RFC 2231 continuations), None when absent."""
    if not isinstance(params, list):
        return None
    pieces: list[tuple[int, str]] = []
    for key, value in zip(params[::2], params[1::2], strict=False):
        if not isinstance(key, bytes) or not isinstance(value, bytes):
            continue
        key_text = to_text(key).lower()
        if key_text == name:
            return decode_text(value).strip()
        if key_text.startswith(name + "*"):
            section = _section(key_text[len(name) + 1 :])
            pieces.append((section, _rfc2231_piece(key_text, section, value)))
    if not pieces:
        return None
    return "".join(piece for _, piece in sorted(pieces)).strip()


def _section(suffix: str) -> int:
    digits = suffix.rstrip("*")
    return int(digits) if digits.isdigit() else 0


def _rfc2231_piece(key: str, section: int, value: bytes) -> str:
    text = to_text(value)
    if not key.endswith("*"):
        return text
    if section == 0:
        text = _RFC2231_PREFIX.sub("", text, count=1)  # charset'language' come first
    return unquote_to_bytes(text).decode("utf-8", "replace")


def _lower(value: Value) -> str:
    return to_text(value).lower() if isinstance(value, bytes) else ""
