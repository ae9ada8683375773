"""Tests for tuimail.mail.fastheaders: the fast reader must agree with the stdlib parser.

Every property here holds the fast reading beside the stdlib's (``policy.default``,
``getaddresses``, ``parsedate_to_datetime``) on inputs drawn to sit on the edges of what the
fast reader accepts; where it does not accept an input it must say so with ``Unsupported``.
"""

from __future__ import annotations

import base64
import binascii
import logging
from email.utils import format_datetime, getaddresses, parsedate_to_datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.mail.strategies import raw_messages
from tuimail.demo.mailbox import generate
from tuimail.mail import parse
from tuimail.mail.envelope import Envelope
from tuimail.mail.fastheaders import (
    Unsupported,
    child_regions,
    common_date,
    content_headers,
    mailbox_pairs,
    read_header_block,
)
from tuimail.mail.parse import parse_message, part_facts

# The fields the fast path must give exactly as the full parser does.
COMPARED = (
    *("message_id", "subject", "from_", "to", "cc", "reply_to", "date", "in_reply_to"),
    *("references", "size", "has_attachments", "preview"),
)
COMPARISON = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def fast_or_none(raw: bytes) -> Envelope | None:
    try:
        return parse._envelope_fast(raw)
    except Unsupported:
        return None


def assert_same_envelope(fast: Envelope, raw: bytes) -> None:
    slow = parse._envelope_slow(raw)
    for name in COMPARED:
        assert getattr(fast, name) == getattr(slow, name), name
    if fast.date is not None and slow.date is not None:
        assert fast.date.utcoffset() == slow.date.utcoffset()


# --- tame but varied messages: the shapes the fast path reads --------------------------------

NAMES = st.sampled_from(
    [
        *("Ann Example", "José Müller", "Doe, John", "O'Neil", "a.b", "", "  ", "Q. Public"),
        *("=?utf-8?b?Wm/DqyDDhW5nc3Ryw7Zt?=", "=?iso-8859-1?q?Gr=FC=DFe?=", "<>", "x\x1b[31my"),
    ]
)
MAILBOXES = st.sampled_from(
    [
        *("ann@example.org", "a.b+c@x.example", "weird!#$%&'*+-/=?^_`{|}~@x", "local", ""),
        *("a@b@c", "a@", "@b", "\u00e9@example.fr", "a..b@x"),
    ]
)


@st.composite
def address(draw: st.DrawFn) -> str:
    name, mailbox = draw(NAMES), draw(MAILBOXES)
    shape = draw(st.sampled_from(["bare", "angle", "named", "quoted", "comment", "group"]))
    if shape == "bare":
        return mailbox
    if shape == "angle":
        return f"<{mailbox}>"
    if shape == "named":
        return f"{name} <{mailbox}>"
    if shape == "quoted":
        return f'"{name}" <{mailbox}>'
    if shape == "comment":
        return f"{mailbox} ({name})"
    return f"Team: {mailbox};"


ADDRESS_LIST = st.lists(address(), max_size=4).flatmap(
    lambda items: st.sampled_from([", ", ",", " , ", ",\r\n "]).map(lambda sep: sep.join(items))
)
DATES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(format_datetime),
    st.sampled_from(
        [
            *("Mon, 1 Jan 2024 10:00:00 -0000", "1 Jan 2024 10:00:00 +0000", "Mon, 32 Jan 2024"),
            *("Mon, 1 Jan 2024 24:00:00 +0100", "Mon, 1 Jan 2024 10:00:60 +0100", "garbage"),
            *("Mon, 1 Jan 2024 10:00:00 +9999", "Mon, 1 Jan 2024 10:00 +0100", "Mon, 1 Jan 99"),
            *("Mon, 01 Jan 0999 10:00:00 +0100", "Mon, 1 Jan 2024 10:00:00 +0100 (CET)"),
        ]
    ),
)
SUBJECTS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=?utf-8?q?caf=C3=A9?=", "Re: =?utf-8?b?w6k=?= x", "a\r\n b", ""]),
)
PARAM_VALUES = st.sampled_from(
    [
        *(
            "utf-8",
            '"utf-8"',
            "UTF-8",
            '"  x  "',
            '"a;b=c"',
            '"<x>"',
            '""',
            "x*y",
            '"=?utf-8?q?x?="',
        ),
        *('"a\\"b"', "iso-8859-1", '"report.pdf"', "=?utf-8?b?w6k=?=", '"\u00e9"', "a'b"),
    ]
)
PARAM_NAMES = st.sampled_from(["charset", "name", "filename", "boundary", "Charset", "x", "name*"])


@st.composite
def params(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.tuples(PARAM_NAMES, PARAM_VALUES), max_size=3))
    seps = st.sampled_from(["; ", ";", " ; ", ";\r\n "])
    out = "".join(f"{draw(seps)}{name}={value}" for name, value in items)
    return out + draw(st.sampled_from(["", ";", "; "]))


LEAF_TYPES = st.sampled_from(
    [
        *("text/plain", "TEXT/Plain", "text/html", "image/png", "application/pdf"),
        *("message/rfc822", "text", "text/plain (c)", "multipart/mixed", "message/delivery-status"),
    ]
)
ENCODINGS = st.sampled_from(["", "7bit", "8bit", "base64", "quoted-printable", "Base64", "bogus"])
BODIES = st.sampled_from(
    [
        *(b"", b"hello world", b"caf\xc3\xa9 > not quoted\r\n> quoted\r\nend", b"caf\xe9"),
        *(b"<p>Hi &amp; <b>bye</b></p>", b"line\rwith lone CR", b"--b1\r\n", b"x\n\nLF only\n"),
        *(b"aGVsbG8gd29ybGQ=\r\n", b"w6k\r\n", b"=C3=A9t=C3=A9 soft=\r\nbreak", b"\x1b]0;t\x07x"),
    ]
)
EOLS = st.sampled_from(["\r\n", "\n"])


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    eol = draw(EOLS)
    head = ""
    if draw(st.booleans()):
        head += f"Content-Type: {draw(LEAF_TYPES)}{draw(params())}{eol}"
    encoding = draw(ENCODINGS)
    if encoding:
        head += f"Content-Transfer-Encoding: {encoding}{eol}"
    if draw(st.booleans()):
        disposition = draw(st.sampled_from(["attachment", "inline", "Attachment", ""]))
        head += f"Content-Disposition: {disposition}{draw(params())}{eol}"
    body = draw(BODIES)
    if encoding.lower() == "base64" and draw(st.booleans()):
        body = base64.encodebytes(body)
    elif encoding == "quoted-printable" and draw(st.booleans()):
        body = binascii.b2a_qp(body)
    return head.encode("utf-8") + eol.encode() + body


@st.composite
def multipart(draw: st.DrawFn, children: st.SearchStrategy[bytes]) -> bytes:
    subtype = draw(st.sampled_from(["mixed", "alternative", "digest", "related"]))
    boundary = draw(st.sampled_from(["b1", "b", "b1-", "==x==", "<b2>", "a b", "b1 "]))
    quoted = draw(st.sampled_from(['"{}"', "{}"])).format(boundary)
    eol = draw(EOLS)
    out = f"Content-Type: multipart/{subtype}; boundary={quoted}{eol}{eol}"
    out += draw(st.sampled_from(["", f"preamble{eol}", f"--b1x{eol}"]))
    for child in draw(st.lists(children, max_size=3)):
        line = draw(st.sampled_from([f"--{boundary}", f"--{boundary}  ", f"--{boundary}--"]))
        out += line + draw(st.sampled_from([eol, f"{eol}--{boundary}{eol}"]))
        out += child.decode("utf-8", "surrogateescape") + eol
    out += draw(st.sampled_from([f"--{boundary}--{eol}", "", f"--{boundary}--{eol}epilogue"]))
    return out.encode("utf-8", "surrogateescape")


@st.composite
def tame_messages(draw: st.DrawFn) -> bytes:
    eol = draw(EOLS)
    fields = [
        ("Subject", draw(SUBJECTS)),
        ("From", draw(ADDRESS_LIST)),
        ("To", draw(ADDRESS_LIST)),
        ("cc", draw(ADDRESS_LIST)),
        ("Reply-To", draw(ADDRESS_LIST)),
        ("Date", draw(DATES)),
        ("Message-ID", draw(st.sampled_from(["<a@b>", "a@b", "<a b>", " <x@y> (c)", ""]))),
        ("In-Reply-To", "<p@q>"),
        ("References", "<r@s>\r\n <p@q>"),
        ("X-Other", "x"),
    ]
    chosen = draw(st.lists(st.sampled_from(fields), max_size=10))
    head = "".join(
        f"{name}:{draw(st.sampled_from([' ', '', '  ']))}{value}{eol}" for name, value in chosen
    )
    head = head.replace("\r\n", eol)
    prefix = draw(st.sampled_from(["", "From sender@x Mon Jan 1\n", " continued\r\n"]))
    body = draw(st.recursive(leaf(), multipart, max_leaves=5))
    return prefix.encode() + head.encode("utf-8", "surrogateescape") + body


# --- the envelope as a whole ------------------------------------------------------------------


@COMPARISON
@given(raw=tame_messages())
def test_fast_envelope_matches_the_full_parser_on_varied_messages(raw: bytes) -> None:
    fast = fast_or_none(raw)
    if fast is not None:
        assert_same_envelope(fast, raw)


@COMPARISON
@given(raw=raw_messages())
def test_fast_envelope_matches_the_full_parser_on_hostile_messages(raw: bytes) -> None:
    fast = fast_or_none(raw)
    if fast is not None:
        assert_same_envelope(fast, raw)


def test_the_demo_corpus_takes_the_fast_path_and_matches_the_full_parser() -> None:
    for message in generate(600, seed=5):
        fast = parse._envelope_fast(message.raw)
        assert_same_envelope(fast, message.raw)


def test_the_fast_path_hands_unusual_shapes_to_the_full_parser(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = b"Subject: x\r\nContent-Type: text/plain; name*=utf-8''%C3%A9\r\n\r\nbody"
    with pytest.raises(Unsupported):
        parse._envelope_fast(raw)
    with caplog.at_level(logging.DEBUG, logger="tuimail.mail.parse"):
        envelope = parse.envelope_from_bytes(raw)
    assert envelope.subject == "x"
    assert envelope.preview == "body"
    assert "full parser" in caplog.text


def test_a_bug_in_the_fast_path_falls_back_to_the_full_parser_and_logs_the_trace(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_raw: bytes) -> Envelope:
        raise RuntimeError("bug")

    monkeypatch.setattr(parse, "_envelope_fast", broken)
    with caplog.at_level(logging.ERROR):
        envelope = parse.envelope_from_bytes(b"Subject: kept\r\n\r\nbody")
    assert envelope.subject == "kept"
    assert envelope.preview == "body"
    assert caplog.records[0].exc_info is not None


def test_known_divergence_an_attached_message_the_stdlib_gives_up_on_does_not_hide_the_rest() -> (
    None
):
    # feedparser hits the recursion limit inside the attached message and parse_message keeps
    # only the headers, so the full parser sees no parts at all; the fast path never looks
    # inside attached messages and still finds the text and the attachment.
    inner = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n)
        for n in range(1200)
    )
    raw = (
        b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
        b"--outer\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        b"--outer\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
        + inner
        + b"\r\n--outer--\r\n"
    )
    fast, slow = parse._envelope_fast(raw), parse._envelope_slow(raw)
    assert (fast.preview, fast.has_attachments) == ("hello", True)
    assert (slow.preview, slow.has_attachments) == ("", False)


# --- header blocks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "subject", "body_start"),
    [
        (b"Subject: a\r\n\r\nbody", "a", 14),
        (b"Subject: a\n\nbody", "a", 12),
        (b"Subject: a\r\nno colon here\r\n\r\nbody", "a", 12),  # the body starts early
        (b"From x@y Mon Jan 1\nSubject: a\n\n", "a", 31),  # a leading unix-from line
        (b" folded first\r\nSubject: a\r\n\r\n", "a", 29),  # an orphan continuation
        (b"SUBJECT:a\r\n  b\r\n\r\n", "a\r\n  b", 18),
        (b"Subject : a\r\n\r\n", None, 0),  # a blank in a name: not a header line
        (b"\r\nSubject: a", None, 2),
        (b"Subject: a", "a", 10),
    ],
)
def test_header_blocks_end_where_feedparser_ends_them(
    raw: bytes, subject: str | None, body_start: int
) -> None:
    block = read_header_block(raw)
    assert block.first(b"subject") == subject
    assert block.body_start == body_start
    stdlib = parse.raw_header_values(parse_message(raw), "subject")
    assert stdlib[:1] == ([] if subject is None else [subject])


@pytest.mark.parametrize(
    "raw",
    [b"Subject: a\rb\r\n\r\n", b"Subject: a\r\nFrom x@y\r\n\r\n", b"A: b\r\nFrom x\r\nB: c\r\n"],
)
def test_lone_carriage_returns_and_inner_unix_from_lines_are_left_to_feedparser(raw: bytes) -> None:
    with pytest.raises(Unsupported):
        read_header_block(raw)


# --- MIME parameters --------------------------------------------------------------------------


@COMPARISON
@given(raw=leaf())
def test_content_headers_read_parts_as_policy_default_does(raw: bytes) -> None:
    try:
        content = content_headers(read_header_block(raw))
    except Unsupported:
        return
    facts = part_facts(parse_message(raw))
    assert content.content_type == facts.content_type
    assert content.disposition == facts.disposition
    assert content.charset == facts.charset
    if content.filename is None or "=?" not in content.filename:  # else the full parser decides
        got = content.filename and parse.decode_header_value(content.filename)
        assert (got or None) == facts.filename


@pytest.mark.parametrize(
    ("value", "boundary"),
    [('"==x=="', "==x=="), ("b1", "b1"), ('"<b2>"', "b2"), ('"b1 "', "b1"), ('""', "")],
)
def test_boundaries_are_unquoted_as_get_boundary_does(value: str, boundary: str) -> None:
    raw = f"Content-Type: multipart/mixed; boundary={value}\r\n\r\n".encode()
    assert content_headers(read_header_block(raw)).boundary == boundary
    assert parse_message(raw).get_boundary() == boundary


# --- boundaries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "regions"),
    [
        (b"pre\r\n--b\r\nA\r\n--b\r\nB\r\n--b--\r\nepi", [(10, 13), (18, 21)]),
        (b"--b\r\n--b\r\nA\r\n--b--", [(10, 13)]),  # adjacent boundary lines open one part
        (b"--b\r\n--b--\r\nA\r\n--b--", [(12, 15)]),  # even a closing one
        (b"--b--\r\n--b\r\nA", []),  # closed before it opened: no parts
        (b"no boundary at all", []),
        (b"--b\r\nA\r\n--b", [(5, 8), (11, 11)]),  # no closing line
        (b"--b \t\r\nA\r\nx--b\r\n--bb\r\n--b--", [(7, 22)]),
        (b"--b\rA\r--b--", [(4, 6)]),  # lone CRs end lines too
    ],
)
def test_parts_lie_between_boundary_lines_as_feedparser_finds_them(
    body: bytes, regions: list[tuple[int, int]]
) -> None:
    assert child_regions(body, 0, len(body), "b") == regions


# --- addresses and dates ----------------------------------------------------------------------


@given(value=ADDRESS_LIST.map(parse.sanitize_line))
@example(value='"Doe, John" <john@example.com>, ann@example.com')
@example(value="a@b , , <c@d>,")
def test_mailbox_pairs_are_what_getaddresses_gives(value: str) -> None:
    pairs = mailbox_pairs(value)
    if pairs is not None:  # empty pairs are dropped afterwards, whoever made them
        expected = getaddresses([value])
        assert [p for p in pairs if p != ("", "")] == [p for p in expected if p != ("", "")]


def test_everyday_address_lists_are_read_without_getaddresses() -> None:
    value = '"Doe, John" <john@example.com>, Ann Example <ann@x>, bob@y, <c@z>'
    assert mailbox_pairs(value) == [
        ("Doe, John", "john@example.com"),
        ("Ann Example", "ann@x"),
        ("", "bob@y"),
        ("", "c@z"),
    ]
    assert mailbox_pairs("Team: a@b, c@d;") is None


@given(value=DATES)
def test_common_dates_are_read_as_parsedate_to_datetime_reads_them(value: str) -> None:
    try:
        expected = parsedate_to_datetime(value)
    except ValueError:
        expected = None
    try:
        got = common_date(value)
    except ValueError:
        assert expected is None
        return
    if got is not None:
        assert got == expected
        assert got.tzinfo == expected.tzinfo  # type: ignore[union-attr]


# --- huge messages ----------------------------------------------------------------------------


def test_only_a_capped_prefix_of_a_huge_text_part_is_decoded_for_the_preview() -> None:
    body = ("é" * 3_000_000).encode() + b"\xff"  # invalid UTF-8 only past the cap
    raw = b"Content-Type: text/plain\r\n\r\n" + body
    envelope = parse.envelope_from_bytes(raw)
    assert envelope.preview == "é" * 200  # the full parser would fall back to Windows-1252
