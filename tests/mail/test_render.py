"""Tests for tuimail.mail.render: what the reader sees, safe and offline, for any bytes."""

from __future__ import annotations

import socket
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.mail.strategies import assert_line_safe, assert_text_safe, raw_messages
from tuimail.mail import render
from tuimail.mail.render import (
    FALLBACK_NOTE,
    AttachmentInfo,
    BodyLine,
    RenderedMessage,
    attachment_bytes,
    quote_depth,
    render_message,
)


def build(
    plain: str | None = "plain body\n",
    html: str | None = None,
    attachments: tuple[tuple[bytes, str, str, str], ...] = (),
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.get("from_", "Ann <ann@example.com>")
    msg["To"] = headers.get("to", "bob@example.com")
    msg["Subject"] = headers.get("subject", "Hello")
    msg["Date"] = "Mon, 1 Jan 2024 10:00:00 +0100"
    msg["Message-ID"] = "<m1@example.com>"
    if plain is not None:
        msg.set_content(plain)
    if html is not None:
        if plain is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for data, maintype, subtype, filename in attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


MIXED = (
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
    b"--b\r\nContent-Type: text/plain; name=notes.txt\r\n\r\nsecond\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="../../x;y.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n"
)


# --- choosing and laying out the body ---------------------------------------------------------


def test_plain_text_is_preferred_in_multipart_alternative() -> None:
    rendered = render_message(build(plain="the plain one\n", html="<p>the html one</p>"))
    assert rendered.body == "the plain one"
    assert rendered.links == ()


def test_prefer_html_shows_the_html_alternative_with_its_links() -> None:
    raw = build(
        plain="the plain one\n", html='<p>the <a href="https://x.example/">html</a> one</p>'
    )
    plain = render_message(raw)
    assert plain.html_alternative, "the view can offer the other part"
    rendered = render_message(raw, prefer_html=True)
    assert rendered.body == "the html[1] one"
    assert rendered.links == ("https://x.example/",)
    assert not render_message(build(plain="just text\n")).html_alternative


def test_html_is_used_when_the_plain_alternative_is_empty() -> None:
    rendered = render_message(build(plain="  \n", html="<p>only <b>this</b></p>"))
    assert rendered.body == "only this"


def test_html_only_message_is_converted_to_text_with_numbered_links() -> None:
    html = (
        '<p>Read <a href="https://example.com/a">the docs</a> or '
        '<a href="mailto:help@example.com">ask</a>, see <a href="https://example.com/a">again</a>.'
    )
    rendered = render_message(build(plain=None, html=html))
    assert rendered.body == "Read the docs[1] or ask[2], see again[1]."
    assert rendered.links == ("https://example.com/a", "mailto:help@example.com")


def test_script_links_and_anchors_are_not_offered() -> None:
    html = '<a href="javascript:alert(1)">a</a> <a href="#top">b</a> <a href=" data:x">c</a>'
    rendered = render_message(build(plain=None, html=html))
    assert rendered.links == ()
    assert rendered.body == "a b c"


def test_scripts_styles_and_images_leave_no_text() -> None:
    html = (
        "<html><head><style>p {}</style><title>T</title></head><body>"
        '<script>evil()</script><img src="https://tracker.example/p.gif" alt="pixel">Hi'
        "</body></html>"
    )
    assert render_message(build(plain=None, html=html)).body == "Hi"


def test_rendering_html_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("rendering tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = (
        '<link rel="stylesheet" href="https://x.example/s.css"><img src="https://x.example/i.png">'
        '<iframe src="https://x.example/"></iframe><p style="background:url(https://x.example/b)">'
        'text</p><!DOCTYPE html SYSTEM "https://x.example/dtd"><svg><image href="https://x/e"/>'
    )
    rendered = render_message(build(plain=None, html=html))
    assert "text" in rendered.body


def test_links_continue_numbering_across_html_parts() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b'--b\r\nContent-Type: text/html\r\n\r\n<a href="https://one.example">1</a>\r\n'
        b'--b\r\nContent-Type: text/html\r\n\r\n<a href="https://two.example">2</a>\r\n--b--\r\n'
    )
    rendered = render_message(raw)
    assert rendered.links == ("https://one.example", "https://two.example")
    assert rendered.body == "1[1]\n\n2[2]"


def test_inline_text_parts_of_a_mixed_message_are_shown_in_order() -> None:
    assert render_message(MIXED).body == "first\n\nsecond"


def test_unknown_charset_decodes_without_failing() -> None:
    raw = b"Content-Type: text/plain; charset=x-martian\r\n\r\ncaf\xc3\xa9"
    assert render_message(raw).body == "café"


def test_invalid_bytes_decode_to_replacement_characters() -> None:
    raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\nok \xff"
    assert render_message(raw).body == "ok \ufffd"


def test_broken_multipart_boundary_still_shows_the_text() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nstill readable\r\n--wrong--\r\n"
    )
    assert "still readable" in render_message(raw).body


def test_multipart_without_a_boundary_shows_its_raw_body() -> None:
    raw = b"Content-Type: multipart/mixed\r\n\r\nsome text"
    assert render_message(raw).body == "some text"


def test_empty_body_renders_as_empty_text() -> None:
    rendered = render_message(b"Subject: nothing\r\n\r\n")
    assert rendered.body == ""
    assert rendered.body_lines == ()


# --- quoting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "depth"),
    [("new text", 0), ("> quoted", 1), (">> deeper", 2), ("> > spaced", 2), (">", 1), (" > no", 0)],
)
def test_quote_depth_counts_leading_quote_marks(line: str, depth: int) -> None:
    assert quote_depth(line) == depth


def test_body_lines_carry_their_quote_depth() -> None:
    rendered = render_message(build(plain="Hi\n> you said\n>> I said\nOK\n"))
    assert rendered.body_lines == (
        BodyLine("Hi", 0),
        BodyLine("> you said", 1),
        BodyLine(">> I said", 2),
        BodyLine("OK", 0),
    )


# --- headers ----------------------------------------------------------------------------------


def test_default_headers_are_from_to_date_and_subject_when_present() -> None:
    rendered = render_message(build(subject="=?utf-8?Q?Gr=C3=BC=C3=9Fe?="))
    assert [name for name, _ in rendered.headers] == ["From", "To", "Date", "Subject"]
    assert dict(rendered.headers)["Subject"] == "Grüße"


def test_all_headers_lists_every_header_in_order() -> None:
    rendered = render_message(
        b"X-First: 1\r\nReceived: by x\r\nX-Last: 2\r\n\r\nbody", all_headers=True
    )
    assert rendered.headers == (("X-First", "1"), ("Received", "by x"), ("X-Last", "2"))
    assert render_message(b"X-First: 1\r\n\r\nbody", all_headers=False).headers == ()


def test_escape_sequences_in_headers_and_body_are_removed() -> None:
    raw = (
        b"Subject: =?utf-8?B?G104OztodHRwczovL2V2aWwvB2NsaWNrG104OzsH?= now\r\n"
        b"From: \x1b[31mEvil\x1b[0m <evil@example.com>\r\n\r\n"
        b"body \x1b]0;title\x07with\xc2\x9b2J\x00 junk\r\nline two\rthree"
    )
    rendered = render_message(raw)
    assert dict(rendered.headers)["Subject"] == "click now"
    assert dict(rendered.headers)["From"] == "Evil <evil@example.com>"
    assert rendered.body == "body with junk\nline two\nthree"


# --- attachments ------------------------------------------------------------------------------


def test_attachments_are_listed_with_safe_names_types_and_sizes() -> None:
    raw = build(
        attachments=(
            (b"%PDF-1.4", "application", "pdf", "../../report.pdf"),
            (b"\x89PNG", "image", "png", "CON.png"),
        )
    )
    assert render_message(raw).attachments == (
        AttachmentInfo(0, "report.pdf", "application/pdf", 8),
        AttachmentInfo(1, "_CON.png", "image/png", 4),
    )


def test_named_inline_text_part_is_shown_and_listed() -> None:
    attachments = render_message(MIXED).attachments
    assert [a.filename for a in attachments] == ["notes.txt", "x_y.bin"]
    assert attachments[1].size == 3


def test_unnamed_attachment_gets_a_numbered_name_with_an_extension() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b--\r\n"
    )
    assert render_message(raw).attachments[0].filename == "attachment-1.png"


def test_attachment_bytes_returns_the_decoded_payload_and_the_same_name() -> None:
    assert attachment_bytes(MIXED, 1) == ("x_y.bin", b"\x00\x01\x02")


def test_attachment_bytes_of_a_missing_index_raises_index_error() -> None:
    with pytest.raises(IndexError):
        attachment_bytes(MIXED, 5)
    with pytest.raises(IndexError):
        attachment_bytes(MIXED, -1)


def test_attached_message_is_saved_as_a_whole_message() -> None:
    inner = b"Subject: inner\r\n\r\ninner body\r\n"
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--b--\r\n"
    )
    rendered = render_message(raw)
    assert rendered.body == "see attached"
    assert rendered.attachments[0].filename == "attachment-1.eml"
    name, data = attachment_bytes(raw, 0)
    assert name == "attachment-1.eml"
    assert b"Subject: inner" in data and b"inner body" in data


# --- never raising ----------------------------------------------------------------------------


def test_internal_failure_shows_the_raw_text_under_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> RenderedMessage:
        raise RuntimeError("bug")

    monkeypatch.setattr(render, "_render", broken)
    rendered = render_message(b"Subject: x\r\n\r\nraw \x1b[31mtext")
    assert rendered.note == FALLBACK_NOTE
    assert rendered.body.startswith(f"[{FALLBACK_NOTE}]")
    assert rendered.body.endswith("Subject: x\n\nraw text")


def test_deeply_nested_message_renders_without_raising() -> None:
    raw = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(1100)
    )
    rendered = render_message(b"Subject: deep\r\n" + raw + b"Content-Type: text/plain\r\n\r\nx")
    assert dict(rendered.headers)["Subject"] == "deep"
    assert_text_safe(rendered.body)


def test_very_long_single_line_is_kept_whole() -> None:
    line = "x" * 200_000
    rendered = render_message(b"\r\n" + line.encode())
    assert rendered.body == line
    assert len(rendered.body_lines) == 1


def assert_rendered_safe(rendered: RenderedMessage) -> None:
    for name, value in rendered.headers:
        assert_line_safe(name)
        assert_line_safe(value)
    assert_text_safe(rendered.body)
    assert "\r" not in rendered.body
    for line in rendered.body_lines:
        assert_text_safe(line.text)
        assert "\n" not in line.text
    for link in rendered.links:
        assert_line_safe(link)
    for index, attachment in enumerate(rendered.attachments):
        assert attachment.index == index
        assert_line_safe(attachment.filename)
        assert_line_safe(attachment.content_type)
        assert attachment.filename and not attachment.filename.startswith((".", "-"))
        assert "/" not in attachment.filename
    assert_line_safe(rendered.note)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw_messages())
def test_render_of_any_bytes_never_raises_and_is_safe(raw: bytes) -> None:
    rendered = render_message(raw)
    assert rendered.note == ""  # malformed input is shown, not treated as an internal failure
    assert_rendered_safe(rendered)
    assert_rendered_safe(render_message(raw, all_headers=True))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(raw_messages())
def test_every_listed_attachment_can_be_saved(raw: bytes) -> None:
    for attachment in render_message(raw).attachments:
        name, data = attachment_bytes(raw, attachment.index)
        assert name == attachment.filename
        assert len(data) == attachment.size
