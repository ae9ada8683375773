"""Hypothesis strategies for hostile mail, and the checks that output is safe for a terminal."""

from __future__ import annotations

import base64
import binascii
import re

from hypothesis import strategies as st

# What may never reach the screen. Bodies may keep \n and \t; single-line fields neither.
UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
UNSAFE_IN_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def assert_line_safe(value: str) -> None:
    match = UNSAFE_IN_LINE.search(value)
    assert match is None, f"unsafe {match.group()!r} in single-line {value[:200]!r}"


def assert_text_safe(value: str) -> None:
    match = UNSAFE_IN_TEXT.search(value)
    assert match is None, f"unsafe {match.group()!r} in text {value[:200]!r}"


# Fragments that try to drive a terminal, in every encoding we know of.
ATTACKS = [
    "\x1b[31m",
    "\x1b[2J\x1b[H",
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "\x1b]0;pwned\x07",
    "\x1b]52;c;ZWNobyBoaQ==\x07",  # clipboard write
    "\x1bP+q544e\x1b\\",  # DCS request
    "\x1b_apc\x1b\\",
    "\x1b^pm\x9c",
    "\x1bXsos\x1b\\",
    "\x9b31m",
    "\x9d0;title\x9c",
    "\x1bc",
    "\x1b(0",
    "\x1b",
    "\x1b[",
    "\x1b]",
    "\x00",
    "\x07",
    "\x08",
    "\r",
    "\x7f",
    "\x85",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
]

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x1b", "\x9b", "\x9d", "\x07", "\r", "\n", "\t", "\u202e", "["]),
    ),
    max_size=60,
)
HOSTILE_TEXT = st.lists(st.one_of(TEXT, st.sampled_from(ATTACKS)), max_size=8).map("".join)

CHARSETS = st.sampled_from(
    [
        *("utf-8", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis", "gb2312", "utf-7"),
        *("us-ascii", "x-unknown", "unknown-8bit", "utf-8*en", "rot13", "base64", "idna"),
        *("", "\x1b[31m"),
    ]
)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    """An RFC 2047 word, sometimes malformed, whose payload may hide escape sequences."""
    charset = draw(CHARSETS)
    text = draw(HOSTILE_TEXT)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        payload = base64.b64encode(data).decode("ascii")
        if draw(st.booleans()):
            payload = payload.rstrip("=")[: draw(st.integers(0, len(payload)))]
        return f"=?{charset}?B?{payload}?="
    quoted = binascii.b2a_qp(data, header=True).decode("ascii").replace("\n", "")
    return f"=?{charset}?Q?{quoted}?="


HEADER_VALUE = st.lists(
    st.one_of(encoded_word(), HOSTILE_TEXT, st.sampled_from([" ", "\r\n ", "\t", ", ", "<a@b>"])),
    max_size=6,
).map("".join)


def _header_bytes(name: str, value: str) -> bytes:
    return f"{name}: ".encode() + value.encode("utf-8", "surrogatepass") + b"\r\n"


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    names = ["Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID"]
    names += ["In-Reply-To", "References", "X-Anything"]
    chosen = draw(st.lists(st.sampled_from(names), max_size=8))
    out = b""
    for name in chosen:
        if name == "Date":
            value = draw(
                st.one_of(
                    st.sampled_from(["Mon, 1 Jan 2024 10:00:00 +0100", "garbage", "", "-0000"]),
                    HOSTILE_TEXT,
                )
            )
        else:
            value = draw(HEADER_VALUE)
        out += _header_bytes(name, value)
    return out


BODY_BYTES = st.one_of(
    st.binary(max_size=300),
    HOSTILE_TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"\x00" * 50, b"a" * 20_000, b"> quoted\n>> deeper\n", b"\xff\xfe\x00"]),
    st.sampled_from([b"<p>hi <a href='https://x.example/'>x</a><img src='http://t.example/p'>"]),
    st.sampled_from([b"<a href='javascript:alert(1)'>j</a><script>x</script><<<<"]),
)
LEAF_TYPES = st.sampled_from(
    [
        *("text/plain", "text/html", "image/png", "application/pdf", "message/rfc822"),
        *("text/x-weird", "text", "", "multipart/mixed", "\x1b[31m/x"),
    ]
)
ENCODINGS = st.sampled_from(["", "base64", "quoted-printable", "8bit", "x-uuencode", "bogus"])
FILENAMES = st.one_of(
    st.none(),
    st.sampled_from(["../../.bashrc", "/etc/passwd", "a;rm -rf ~", "CON", "x" * 500, ".."]),
    HOSTILE_TEXT,
    encoded_word(),
)


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    content_type = draw(LEAF_TYPES)
    charset = draw(st.one_of(st.none(), CHARSETS))
    encoding = draw(ENCODINGS)
    filename = draw(FILENAMES)
    disposition = draw(st.sampled_from([None, "inline", "attachment"]))
    body = draw(BODY_BYTES)
    if encoding == "base64" and draw(st.booleans()):
        body = base64.encodebytes(body)
    elif encoding == "quoted-printable" and draw(st.booleans()):
        body = binascii.b2a_qp(body)
    head = f"Content-Type: {content_type}"
    if charset is not None:
        head += f'; charset="{charset}"'
    if filename is not None and not disposition:
        head += f'; name="{filename}"'
    out = head.encode("utf-8", "surrogatepass") + b"\r\n"
    if encoding:
        out += f"Content-Transfer-Encoding: {encoding}\r\n".encode()
    if disposition:
        value = disposition + (f'; filename="{filename}"' if filename is not None else "")
        out += _header_bytes("Content-Disposition", value)
    return out + b"\r\n" + body


@st.composite
def multipart(draw: st.DrawFn, children: st.SearchStrategy[bytes]) -> bytes:
    """A multipart around drawn children; its boundary may be empty, odd, unclosed or wrong."""
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "signed", "digest"]))
    boundary = draw(st.sampled_from(["b1", "==x==", "", "a b", "\x1b[m"]))
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'
    body = b"preamble\r\n"
    for child in draw(st.lists(children, max_size=4)):
        body += f"--{boundary}\r\n".encode() + child + b"\r\n"
    style = draw(st.sampled_from(["closed", "unclosed", "wrong"]))
    if style == "closed":
        body += f"--{boundary}--\r\n".encode()
    elif style == "wrong":
        body += b"--not-the-boundary--\r\n"
    return head.encode("utf-8", "surrogatepass") + body


MIME_PART = st.recursive(leaf(), multipart, max_leaves=8)


@st.composite
def mutated(draw: st.DrawFn, message: bytes) -> bytes:
    """Byte-level damage: cut, splice, duplicate and overwrite pieces of a message."""
    data = bytearray(message)
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 200)))
        action = draw(st.sampled_from(["cut", "insert", "duplicate", "overwrite"]))
        if action == "cut":
            del data[start:end]
        elif action == "insert":
            data[start:start] = draw(st.binary(min_size=1, max_size=40))
        elif action == "duplicate":
            data[start:start] = data[start:end]
        else:
            data[start:end] = draw(st.binary(max_size=end - start))
    return bytes(data)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    """Whole messages: hostile headers over a MIME tree, sometimes damaged afterwards."""
    message = draw(headers()) + b"MIME-Version: 1.0\r\n" + draw(MIME_PART)
    if draw(st.booleans()):
        message = draw(mutated(message))
    return message
