"""Tests for tuimail.mail.parse: best-effort values from any bytes, never an exception."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.mail.strategies import (
    HEADER_VALUE,
    HOSTILE_TEXT,
    assert_line_safe,
    raw_messages,
)
from tuimail.mail import parse
from tuimail.mail.envelope import Address, Envelope
from tuimail.mail.htmltext import html_snippet
from tuimail.mail.parse import (
    decode_bytes,
    decode_header_value,
    envelope_from_bytes,
    header_text,
    parse_message,
)
from tuimail.mail.sanitize import sanitize_text


def message(*headers: str, body: str = "hello\n", content_type: str = "text/plain") -> bytes:
    head = "".join(f"{header}\r\n" for header in headers)
    return f"{head}Content-Type: {content_type}\r\n\r\n{body}".encode()


# --- header decoding --------------------------------------------------------------------------


def test_base64_encoded_word_is_decoded() -> None:
    assert decode_header_value("=?utf-8?B?SsO2cmc=?=") == "Jörg"


def test_quoted_printable_word_turns_underscores_into_spaces() -> None:
    assert decode_header_value("=?iso-8859-1?Q?Gr=FC=DFe_aus_Z=FCrich?=") == "Grüße aus Zürich"


def test_whitespace_between_adjacent_encoded_words_is_dropped() -> None:
    assert decode_header_value("=?utf-8?Q?a?= \r\n =?utf-8?Q?b?=") == "ab"


def test_text_between_encoded_words_is_kept() -> None:
    assert decode_header_value("Re: =?utf-8?Q?caf=C3=A9?= and more") == "Re: café and more"


def test_multibyte_character_split_across_two_words_is_mended() -> None:
    # "ö" is C3 B6; a careless sender put one byte in each word.
    assert decode_header_value("=?utf-8?Q?J=C3?= =?utf-8?Q?=B6rg?=") == "Jörg"


def test_encoded_word_with_unknown_charset_falls_back_to_utf8() -> None:
    assert decode_header_value("=?x-no-such-charset?Q?caf=C3=A9?=") == "café"


def test_encoded_word_with_language_tag_is_decoded() -> None:
    assert decode_header_value("=?utf-8*en?Q?hello?=") == "hello"


def test_base64_word_with_missing_padding_is_decoded() -> None:
    assert decode_header_value("=?utf-8?B?SsO2cmc?=") == "Jörg"


def test_base64_word_with_garbage_still_gives_text() -> None:
    assert isinstance(decode_header_value("=?utf-8?B?!!!*?="), str)


def test_malformed_encoded_word_is_left_as_text() -> None:
    assert decode_header_value("=?utf-8?X?abc?= =?broken") == "=?utf-8?X?abc?= =?broken"


def test_encoded_word_hiding_an_escape_sequence_is_sanitised() -> None:
    # base64 of "\x1b]8;;https://evil/\x07click\x1b]8;;\x07"
    word = "=?utf-8?B?G104OztodHRwczovL2V2aWwvB2NsaWNrG104OzsH?="
    assert decode_header_value(f"Invoice {word}") == "Invoice click"


def test_encoded_word_hiding_a_bidi_override_is_sanitised() -> None:
    assert decode_header_value("=?utf-8?Q?a=E2=80=AEb?=") == "ab"


def test_folded_header_is_unfolded() -> None:
    assert decode_header_value("a long\r\n subject") == "a long subject"


def test_raw_utf8_header_is_decoded() -> None:
    msg = parse_message("Subject: Grüße\r\n\r\nbody".encode())
    assert header_text(msg, "subject") == "Grüße"


def test_raw_latin1_header_falls_back_to_windows_1252() -> None:
    msg = parse_message(b"Subject: Gr\xfc\xdfe \x93quoted\x94\r\n\r\nbody")
    assert header_text(msg, "subject") == "Grüße “quoted”"


def test_header_text_of_a_missing_header_is_empty() -> None:
    assert header_text(parse_message(b"\r\nbody"), "subject") == ""


def test_header_names_match_case_insensitively() -> None:
    assert header_text(parse_message(b"SUBJECT: x\r\n\r\n"), "Subject") == "x"


def test_decode_bytes_uses_windows_1252_for_latin1_labels() -> None:
    assert decode_bytes(b"\x80", "iso-8859-1") == "€"


def test_decode_bytes_never_raises_on_a_non_text_codec_label() -> None:
    assert decode_bytes(b"hello", "rot13") == "hello"
    assert decode_bytes(b"hello", "zlib") == "hello"


@given(HEADER_VALUE)
def test_decoded_header_values_are_always_safe_single_lines(value: str) -> None:
    assert_line_safe(decode_header_value(value))


# --- envelopes --------------------------------------------------------------------------------


def test_envelope_decodes_subject_and_display_names() -> None:
    raw = message(
        "Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=",
        "From: =?utf-8?B?SsO2cmc=?= <jorg@example.com>",
        'To: "Doe, John" <john@example.com>, ann@example.com',
        "Cc: Team: a@example.com, b@example.com;",
        "Reply-To: <lists@example.com>",
    )
    envelope = envelope_from_bytes(raw)
    assert envelope.subject == "Grüße"
    assert envelope.from_ == (Address("Jörg", "jorg@example.com"),)
    assert envelope.to == (Address("Doe, John", "john@example.com"), Address("", "ann@example.com"))
    assert [a.email for a in envelope.cc] == ["a@example.com", "b@example.com"]
    assert envelope.reply_to == (Address("", "lists@example.com"),)


def test_display_name_with_escape_sequence_is_sanitised() -> None:
    raw = message("From: =?utf-8?B?G1szMW1FdmlsG1swbQ==?= <evil@example.com>")
    assert envelope_from_bytes(raw).from_ == (Address("Evil", "evil@example.com"),)


def test_message_ids_are_normalised_to_bracketed_tokens() -> None:
    raw = message(
        "Message-ID:  <abc@example.com> (comment)",
        "In-Reply-To: <parent@example.com> (message from Ann)",
        "References: <root@example.com>\r\n <parent@example.com>",
    )
    envelope = envelope_from_bytes(raw)
    assert envelope.message_id == "<abc@example.com>"
    assert envelope.in_reply_to == "<parent@example.com>"
    assert envelope.references == ("<root@example.com>", "<parent@example.com>")


def test_bare_message_id_without_brackets_is_accepted() -> None:
    assert envelope_from_bytes(message("Message-ID: abc@example.com")).message_id == (
        "<abc@example.com>"
    )


def test_duplicate_references_are_kept_once_and_capped_at_the_newest_100() -> None:
    ids = " ".join(f"<r{i}@x>" for i in range(150))
    envelope = envelope_from_bytes(message(f"References: <r0@x> {ids}"))
    assert len(envelope.references) == 100
    assert envelope.references[-1] == "<r149@x>"
    assert len(set(envelope.references)) == 100


def test_missing_headers_give_empty_values() -> None:
    envelope = envelope_from_bytes(b"\r\njust a body")
    assert envelope == Envelope(message_id=None, subject="", size=13, preview="just a body")


def test_date_is_timezone_aware() -> None:
    envelope = envelope_from_bytes(message("Date: Mon, 1 Jan 2024 10:00:00 +0100"))
    assert envelope.date == datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))


def test_date_with_unknown_zone_is_read_as_utc() -> None:
    envelope = envelope_from_bytes(message("Date: Mon, 1 Jan 2024 10:00:00 -0000"))
    assert envelope.date == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "", "Mon, 99 Foo 2024 99:99:99", "32 Jan 99999"])
def test_unparseable_date_is_none(value: str) -> None:
    assert envelope_from_bytes(message(f"Date: {value}")).date is None


def test_size_is_the_length_of_the_raw_bytes() -> None:
    raw = message("Subject: x")
    assert envelope_from_bytes(raw).size == len(raw)


def test_attachment_disposition_sets_has_attachments() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\n"
        b"log\r\n--b--\r\n"
    )
    assert envelope_from_bytes(raw).has_attachments


def test_named_non_text_part_sets_has_attachments() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b'--b\r\nContent-Type: image/png; name="cat.png"\r\n\r\nPNG\r\n--b--\r\n'
    )
    assert envelope_from_bytes(raw).has_attachments


def test_plain_message_and_unnamed_inline_image_have_no_attachments() -> None:
    raw = (
        b"Content-Type: multipart/related; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<img src=cid:x>\r\n"
        b"--b\r\nContent-Type: image/png\r\nContent-ID: <x>\r\n\r\nPNG\r\n--b--\r\n"
    )
    assert not envelope_from_bytes(raw).has_attachments
    assert not envelope_from_bytes(message("Subject: x")).has_attachments


def test_preview_collapses_whitespace_and_skips_quoted_lines() -> None:
    body = "Hi Ann,\n\n   the   report\tis attached.\n> old text\n>> older\nBye\n"
    assert envelope_from_bytes(message(body=body)).preview == "Hi Ann, the report is attached. Bye"


def test_preview_is_at_most_200_characters() -> None:
    preview = envelope_from_bytes(message(body="word " * 1000)).preview
    assert len(preview) == 200
    assert preview.startswith("word word")


def test_preview_of_an_html_only_message_is_its_visible_text() -> None:
    html = "<html><head><style>p {color: red}</style><title>T</title></head>"
    html += "<body><p>Hello &amp; <b>welcome</b></p><script>evil()</script></body></html>"
    preview = envelope_from_bytes(message(body=html, content_type="text/html")).preview
    assert preview == "Hello & welcome"


def whole_html_preview(html: str) -> str:
    """What the preview of ``html`` is when html_snippet reads all of it."""
    return parse._words(html_snippet(html[: parse._PREVIEW_SOURCE_LENGTH]))


def test_preview_of_a_big_newsletter_reads_only_its_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html = "<html><head><style>" + ".c { color: red }\n" * 1000 + "</style></head><body>"
    row = "<table><tr><td><a href='https://example.com/t?id=1'>Read more</a> news &amp; views"
    html += (row + "</td></tr></table>\n") * 2000 + "</body></html>"
    whole = whole_html_preview(html)
    read: list[int] = []
    visible = parse.visible_text
    monkeypatch.setattr(parse, "visible_text", lambda text: read.append(len(text)) or visible(text))
    preview = parse._preview_of(html, True)
    assert preview == whole and len(preview) == parse.PREVIEW_LENGTH
    assert preview.startswith("Read more news & views Read more")
    # The 18 KB <head> does not fit the first try; the second reads 32 KB of the 220 KB.
    assert len(read) == 1 and 30_000 < read[0] <= 32 * 1024


# HTML-ish text: tags, entities, words, quoted lines and the sections html_snippet hides.
_HTML_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<br>",
        "<a href='x>y'>",
        "</a>",
        "&amp;",
        "&lt;",
        "&gt;",
        " ",
        "\n",
        "\n> quoted ",
        "word",
        "Wörter",
        ">",
        "<",
        "<head>",
        "</head>",
        "<header>",
        "</header>",
        "<style>",
        "</style>",
        "<script>",
        "</script>",
        "<title>",
        "</title>",
        "<!--",
        "-->",
        "<td class=a>",
        "\t",
    ]
)


# Long runs of one piece put the cuts (every 8 KB, then 32 KB, ...) inside what it repeats.
_HTML_FILLERS = st.sampled_from(
    [
        "word ",
        "<p>text</p>",
        ".c { color: red }\n",
        "\n> quoted",
        "a>b ",
        "&amp; ",
        '<td class="' + "a" * 300 + '">x ',
        "<!-- c -->y ",
    ]
)


@example(["<head>"], "<p>word</p>", 3000, ["</head>", "body"])  # a cut inside the <head>
@example([], '<td class="' + "a" * 300 + '">x ', 100, [])  # cuts inside long tags
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_HTML_PIECES, max_size=30),
    _HTML_FILLERS,
    st.integers(min_value=0, max_value=30_000),
    st.lists(_HTML_PIECES, max_size=30),
)
def test_an_html_preview_from_a_prefix_is_the_preview_of_the_whole(
    before: list[str], filler: str, times: int, after: list[str]
) -> None:
    html = "".join(before) + filler * times + "".join(after)
    assert parse._preview_of(html, True) == whole_html_preview(html)


def test_preview_is_sanitised() -> None:
    preview = envelope_from_bytes(message(body="a\x1b[2Jb\x00c\u202ed")).preview
    assert preview == "abcd"


PREVIEW_TEXT = st.lists(
    st.one_of(HOSTILE_TEXT, st.sampled_from(["\n", "\r\n", " > ", ">", "\t>x", "word " * 30])),
    max_size=12,
).map("".join)


@given(PREVIEW_TEXT)
def test_preview_stops_early_but_gives_what_dropping_quoted_lines_whole_gives(text: str) -> None:
    quoted_lines_blanked = re.sub(r"^[ \t]*>.*$", " ", sanitize_text(text), flags=re.MULTILINE)
    expected = " ".join(quoted_lines_blanked.split())[:200]
    assert parse._preview_of(text, False) == expected


def without_quoted_lines(text: str) -> str:
    """The preview by its definition: every word of the lines that are not quotes, in order."""
    quoted_lines_blanked = re.sub(r"^[ \t]*>.*$", " ", sanitize_text(text), flags=re.MULTILINE)
    return " ".join(quoted_lines_blanked.split())[:200]


# Long stretches, so that the first ">" and the cap on what is read at once fall anywhere.
_LONG_PREVIEW_TEXT = st.lists(
    st.one_of(
        PREVIEW_TEXT,
        st.tuples(st.sampled_from(["w ", "word\n", "\n\n", " >", "\n>"]), st.integers(0, 5000)).map(
            lambda piece: piece[0] * piece[1]
        ),
    ),
    max_size=6,
).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_LONG_PREVIEW_TEXT)
def test_preview_read_at_once_is_the_preview_line_by_line(text: str) -> None:
    assert parse._preview_of(text, False) == without_quoted_lines(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_HTML_PIECES, _HTML_FILLERS), max_size=60).map("".join))
def test_html_words_are_the_words_of_the_snippet(html: str) -> None:
    assert parse._html_words(html) == without_quoted_lines(html_snippet(html))


def test_a_reply_whose_new_text_fills_the_preview_is_not_read_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def line_by_line(text: str) -> str:
        raise AssertionError("read line by line")

    monkeypatch.setattr(parse, "_words_by_line", line_by_line)
    reply = "thanks for the report " * 20 + "\n\nOn Monday Ann wrote:\n> the old text\n" * 50
    assert parse._preview_of(reply, False) == " ".join(reply.split())[:200]
    html = (
        "<p>" + "thanks for the report " * 20 + "</p>\n<blockquote>&gt; the old text</blockquote>"
    )
    assert parse._preview_of(html, True) == " ".join(("thanks for the report " * 20).split())[:200]


# --- broken input -----------------------------------------------------------------------------


def test_nul_bytes_are_tolerated() -> None:
    envelope = envelope_from_bytes(b"Subject: a\x00b\r\n\r\nbody\x00with nul")
    assert envelope.subject == "ab"
    assert envelope.preview == "bodywith nul"


def test_empty_input_gives_an_empty_envelope() -> None:
    assert envelope_from_bytes(b"") == Envelope(message_id=None, subject="")


@pytest.mark.parametrize("body", [b"caf\xc3\xa9", b"caf\xe9"])
def test_unknown_body_charset_is_read_as_utf8_or_else_windows_1252(body: bytes) -> None:
    raw = b"Content-Type: text/plain; charset=x-martian\r\n\r\n" + body
    assert envelope_from_bytes(raw).preview == "café"


def test_invalid_bytes_in_a_known_charset_become_replacement_characters() -> None:
    raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\nok \xff\xfe"
    assert envelope_from_bytes(raw).preview == "ok \ufffd\ufffd"


def nested(depth: int) -> bytes:
    raw = b""
    for level in range(depth):
        raw += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    raw += b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    for level in reversed(range(depth)):
        raw += b"--b%d--\r\n" % level
    return b"Subject: nested\r\n" + raw


def test_nesting_deeper_than_the_recursion_limit_keeps_the_headers() -> None:
    raw = nested(1200)
    assert header_text(parse_message(raw), "subject") == "nested"
    assert envelope_from_bytes(raw).subject == "nested"


def test_envelope_ignores_text_nested_beyond_the_depth_limit() -> None:
    assert envelope_from_bytes(nested(60)).preview == ""
    assert envelope_from_bytes(nested(10)).preview == "deep"


def test_internal_failure_keeps_the_subject_and_logs_the_trace(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> Envelope:
        raise RuntimeError("bug")

    def unsupported(_raw: bytes) -> Envelope:
        raise parse.Unsupported("sent to the full parser")

    monkeypatch.setattr(parse, "_envelope_fast", unsupported)
    monkeypatch.setattr(parse, "_envelope", broken)
    with caplog.at_level(logging.ERROR):
        envelope = envelope_from_bytes(b"Subject: kept\r\n\r\nbody")
    assert envelope == Envelope(message_id=None, subject="kept", size=21)
    assert caplog.records[0].exc_info is not None


def assert_envelope_safe(envelope: Envelope) -> None:
    for value in (envelope.subject, envelope.preview, envelope.message_id or ""):
        assert_line_safe(value)
    for value in (envelope.in_reply_to or "", *envelope.references):
        assert_line_safe(value)
    for address in (*envelope.from_, *envelope.to, *envelope.cc, *envelope.reply_to):
        assert_line_safe(address.name)
        assert_line_safe(address.email)
    assert envelope.date is None or envelope.date.tzinfo is not None


@settings(
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(raw=raw_messages())
def test_envelope_from_any_bytes_never_raises_and_is_safe(
    raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        envelope = envelope_from_bytes(raw)
    assert not caplog.records, "malformed input must not reach the bug fallback"
    assert envelope.size == len(raw)
    assert len(envelope.preview) <= 200
    assert_envelope_safe(envelope)
