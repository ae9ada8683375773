"""Composing: replies, forwards, identities, and the bytes finalize() produces."""

from __future__ import annotations

from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuimail.mail.compose import (
    MAX_REFERENCES,
    ComposeError,
    Draft,
    Identity,
    draft_from_bytes,
    draft_to_message,
    finalize,
    format_address,
    forward,
    forward_subject,
    new_message,
    pick_identity,
    quote,
    reply,
    reply_subject,
)

ME = Identity("me@example.org", "Me Myself", "Me\nhttps://example.org")
WORK = Identity("me@work.example", "Me at Work")
POOL = [ME, WORK]


def original(headers: str = "", body: str = "Hello there.\nSecond line.\n") -> bytes:
    base = {
        "From": "Ann Example <ann@example.com>",
        "To": "me@example.org",
        "Subject": "Plans",
        "Date": "Mon, 03 Jun 2024 10:15:00 +0200",
        "Message-ID": "<orig@example.com>",
    }
    for line in filter(None, headers.split("\n")):
        name, _, value = line.partition(": ")
        base[name] = value
    text = "".join(f"{k}: {v}\r\n" for k, v in base.items() if v != "-")
    return (text + "\r\n" + body.replace("\n", "\r\n")).encode()


def parsed(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Plans", "Re: Plans"),
        ("Re: Plans", "Re: Plans"),
        ("RE: Plans", "Re: Plans"),
        ("Re[2]: Plans", "Re: Plans"),
        ("AW: Re: SV: Plans", "Re: Plans"),
        ("re:re:  Plans", "Re: Plans"),
        ("Fwd: Plans", "Re: Fwd: Plans"),
        ("Resume: Plans", "Re: Resume: Plans"),
        ("", "Re: "),
    ],
)
def test_reply_subject_does_not_stack_prefixes(subject: str, expected: str):
    assert reply_subject(subject) == expected


@given(st.text())
def test_reply_subject_is_idempotent(subject: str):
    once = reply_subject(subject)
    assert reply_subject(once) == once


def test_forward_subject_adds_fwd_once():
    assert forward_subject("Plans") == "Fwd: Plans"
    assert forward_subject("Fwd: Plans") == "Fwd: Plans"
    assert forward_subject("FW: Plans") == "FW: Plans"


def test_quote_prefixes_each_line_and_nests_existing_quotes():
    assert quote("a\n\n> b\nc\n") == "> a\n>\n>> b\n> c"


def test_quote_wraps_long_lines_at_72_with_the_marks_on_every_piece_and_keeps_urls_whole():
    url = "https://example.org/" + "x" * 80
    quoted = quote("word " * 30 + url + "\n> " + "old " * 30).split("\n")
    assert all(line.startswith("> ") or line.startswith(">> ") for line in quoted)
    assert all(len(line) <= 72 for line in quoted if url not in line)
    assert f"> {url}" in quoted, "a URL is never cut"
    assert sum(line.startswith(">> ") for line in quoted) == 2


def test_reply_quotes_the_body_under_an_attribution_line():
    draft = reply(original(), POOL, mode="sender")
    assert draft.body == (
        "On Mon, 03 Jun 2024 10:15, Ann Example wrote:\n> Hello there.\n> Second line.\n"
    )


def test_reply_puts_the_prefix_above_the_quote():
    draft = reply(original(), POOL, mode="sender", body_prefix="Thanks!")
    assert draft.body.startswith("Thanks!\n\nOn Mon, 03 Jun 2024")


def test_reply_leaves_the_senders_signature_out_of_the_quote():
    draft = reply(original(body="Hi.\n-- \nAnn\nCEO\n"), POOL, mode="sender")
    assert "> Hi." in draft.body
    assert "CEO" not in draft.body


def test_reply_quotes_an_html_only_message_as_text():
    raw = original("Content-Type: text/html; charset=utf-8", "<p>Hello <b>HTML</b></p>")
    assert "> Hello HTML" in reply(raw, POOL, mode="sender").body


def test_reply_threads_with_in_reply_to_and_references():
    raw = original("References: <root@x> <mid@x>\nIn-Reply-To: <mid@x>")
    draft = reply(raw, POOL, mode="sender")
    assert draft.in_reply_to == "<orig@example.com>"
    assert draft.references == ("<root@x>", "<mid@x>", "<orig@example.com>")
    msg = draft_to_message(replace(draft, to=("ann@example.com",)))
    assert msg["In-Reply-To"] == "<orig@example.com>"
    assert msg["References"] == "<root@x> <mid@x> <orig@example.com>"


def test_reply_without_references_starts_them_from_in_reply_to():
    draft = reply(original("In-Reply-To: <mid@x>"), POOL, mode="sender")
    assert draft.references == ("<mid@x>", "<orig@example.com>")


def test_reply_keeps_the_root_and_newest_of_a_long_reference_chain():
    chain = " ".join(f"<r{i}@x>" for i in range(50))
    draft = reply(original(f"References: {chain}"), POOL, mode="sender")
    assert len(draft.references) == MAX_REFERENCES
    assert draft.references[0] == "<r0@x>"
    assert draft.references[-2:] == ("<r49@x>", "<orig@example.com>")


def test_reply_goes_to_reply_to_when_there_is_one():
    draft = reply(original("Reply-To: Ann Private <ann@home.example>"), POOL, mode="sender")
    assert draft.to == ("Ann Private <ann@home.example>",)
    assert draft.cc == ()


def test_reply_all_deduplicates_and_leaves_out_my_own_addresses():
    raw = original(
        "To: Me <ME@example.org>, Bob <bob@example.com>, ann@example.com\n"
        "Cc: me@work.example, BOB@example.com, Carol <carol@example.com>"
    )
    draft = reply(raw, POOL, mode="all")
    assert draft.to == ("Ann Example <ann@example.com>",)
    assert draft.cc == ("Bob <bob@example.com>", "Carol <carol@example.com>")


def test_reply_all_honours_mail_followup_to():
    raw = original(
        "To: list@lists.example\nCc: bob@example.com\n"
        "Mail-Followup-To: list@lists.example, ann@example.com"
    )
    draft = reply(raw, POOL, mode="all")
    assert draft.to == ("list@lists.example", "ann@example.com")
    assert draft.cc == ()


def test_reply_to_my_own_sent_message_goes_to_its_recipients():
    raw = original("From: Me <me@example.org>\nTo: Bob <bob@example.com>")
    assert reply(raw, POOL, mode="sender").to == ("Bob <bob@example.com>",)


def test_list_reply_goes_to_the_list_post_address():
    raw = original("List-Post: <mailto:dev@lists.example?subject=help>\nCc: bob@example.com")
    draft = reply(raw, POOL, mode="list")
    assert draft.to == ("dev@lists.example",)
    assert draft.cc == ()


def test_list_reply_prefers_mail_followup_to():
    raw = original("List-Post: <mailto:dev@lists.example>\nMail-Followup-To: dev@lists.example")
    assert reply(raw, POOL, mode="list").to == ("dev@lists.example",)


@pytest.mark.parametrize(
    ("header", "message"), [("", "no List-Post"), ("List-Post: NO", "does not accept posts")]
)
def test_list_reply_without_a_list_address_is_an_error(header: str, message: str):
    with pytest.raises(ComposeError, match=message):
        reply(original(header), POOL, mode="list")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("To: me@work.example", WORK),
        ("To: someone@else.example\nCc: Me <Me@Work.Example>", WORK),
        ("To: list@lists.example\nDelivered-To: me@work.example", WORK),
        ("To: list@lists.example", ME),
    ],
)
def test_pick_identity_finds_the_address_the_message_was_sent_to(headers: str, expected: Identity):
    assert pick_identity(original(headers), POOL) == expected


def test_reply_is_sent_from_the_identity_it_was_addressed_to():
    assert reply(original("To: me@work.example"), POOL, mode="sender").from_identity == WORK


def test_forward_inline_carries_the_original_headers_text_and_attachments():
    msg = new_message(ME, ["ann@example.com"], [], [], "Report", "See attached.\n")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="q3.pdf")
    raw, _, _ = finalize(msg, ME)
    draft = forward(raw, WORK, inline=True)
    assert draft.subject == "Fwd: Report"
    assert "---------- Forwarded message ----------\nFrom: Me Myself <me@example.org>" in draft.body
    assert "Subject: Report" in draft.body
    assert "See attached." in draft.body
    assert draft.attachments == (("q3.pdf", b"%PDF-1.4", "application/pdf"),)
    assert draft.from_identity == WORK


def test_forward_as_attachment_attaches_the_original_unchanged():
    raw = original()
    draft = replace(forward(raw, ME, inline=False), to=("bob@example.com",))
    sent, _, _ = finalize(draft_to_message(draft), ME)
    attached = next(p for p in parsed(sent).walk() if p.get_content_type() == "message/rfc822")
    assert attached.get_filename() == "Plans.eml"
    assert attached["Content-Transfer-Encoding"] == "7bit"
    assert raw in sent.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert sent.isascii()


def test_finalize_keeps_bcc_out_of_the_bytes_but_in_the_envelope():
    msg = new_message(
        ME, ["ann@example.com"], ["bob@example.com"], ["Secret <sec@example.net>"], "Hi", "Hi.\n"
    )
    raw, sender, recipients = finalize(msg, ME)
    assert sender == "me@example.org"
    assert recipients == ("ann@example.com", "bob@example.com", "sec@example.net")
    # Check header names, not substrings: a random Message-ID may contain "bcc" in hex.
    header_block = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert not any(line.startswith(b"bcc:") for line in header_block.split(b"\r\n"))
    assert b"sec@example.net" not in raw
    assert b"secret" not in raw.lower()
    assert msg["Bcc"] is not None, "finalize must not change the caller's message"


def test_finalize_deduplicates_envelope_recipients():
    msg = new_message(ME, ["ann@example.com"], ["ANN@example.com"], ["ann@example.com"], "s", "b")
    assert finalize(msg, ME)[2] == ("ann@example.com",)


def test_finalize_sets_date_message_id_and_mime_version():
    msg = draft_to_message(Draft(ME, to=("ann@example.com",), subject="s", body="b"))
    headers = parsed(finalize(msg, ME)[0])
    assert headers["Date"].datetime is not None
    assert headers["Message-ID"].endswith("@example.org>")
    assert headers["MIME-Version"] == "1.0"


def test_new_message_puts_the_message_id_in_the_given_domain():
    msg = new_message(ME, ["a@b.example"], [], [], "s", "b", domain="mail.example.net")
    assert msg["Message-ID"].endswith("@mail.example.net>")
    assert finalize(msg, ME)[0].count(b"Message-ID:") == 1


def test_non_ascii_names_and_subjects_are_rfc2047_encoded_and_bodies_utf8():
    jorg = Identity("j@example.org", "Jörg Müller")
    msg = new_message(jorg, ["Zoë Ωmega <z@example.com>"], [], [], "Grüße — 你好", "Schöne Grüße\n")
    raw, _, _ = finalize(msg, jorg)
    assert raw.isascii()
    assert b"=?utf-8?" in raw
    back = parsed(raw)
    assert str(back["Subject"]) == "Grüße — 你好"
    assert back["From"].addresses[0].display_name == "Jörg Müller"
    assert back["To"].addresses[0].display_name == "Zoë Ωmega"
    body = back.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == "Schöne Grüße\n"


def test_attachments_get_their_type_from_the_file_name(tmp_path: Path):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "Bericht ü.pdf").write_bytes(b"%PDF")
    (tmp_path / "data.unknownext").write_bytes(b"\x00")
    files = [tmp_path / "photo.png", tmp_path / "Bericht ü.pdf", tmp_path / "data.unknownext"]
    msg = new_message(ME, ["a@b.example"], [], [], "files", "see", files)
    parts = [p for p in parsed(finalize(msg, ME)[0]).iter_attachments()]
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("photo.png", "image/png"),
        ("Bericht ü.pdf", "application/pdf"),
        ("data.unknownext", "application/octet-stream"),
    ]
    assert parts[0].get_content() == b"\x89PNG\r\n"


def test_the_signature_is_appended_once_below_the_separator():
    msg = new_message(ME, ["a@b.example"], [], [], "s", "Body text\n")
    raw, _, _ = finalize(msg, ME)
    again, _, _ = finalize(parsed(raw), ME)
    for generated in (raw, again):
        body = parsed(generated).get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content().replace("\r\n", "\n")
        assert text == "Body text\n\n-- \nMe\nhttps://example.org\n"


@given(st.text(max_size=200))
def test_no_subject_can_add_a_header(subject: str):
    msg = new_message(WORK, ["a@b.example"], [], ["hidden@b.example"], subject, "b")
    raw, _, _ = finalize(msg, WORK)
    assert b"hidden" not in raw
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":")[0] for line in header_block.split(b"\r\n") if line[:1] not in b" \t"]
    assert names.count(b"Subject") == 1
    assert set(names) <= {
        b"From",
        b"To",
        b"Subject",
        b"Content-Type",
        b"Content-Transfer-Encoding",
        b"MIME-Version",
        b"Message-ID",
        b"Date",
    }


def test_finalize_refuses_a_message_without_recipients():
    with pytest.raises(ComposeError, match="no recipients"):
        finalize(new_message(ME, [], [], [], "s", "b"), ME)


def test_finalize_refuses_something_that_is_not_an_address():
    with pytest.raises(ComposeError, match="'Ann' is not an email address"):
        finalize(new_message(ME, ["Ann, Example <ann@example.com>"], [], [], "s", "b"), ME)


def test_format_address_quotes_names_with_specials():
    assert format_address("Ann, Example", "a@b.c") == '"Ann, Example" <a@b.c>'
    assert format_address("", "a@b.c") == "a@b.c"


def test_a_draft_survives_a_round_trip_through_bytes():
    draft = Draft(
        ME,
        to=("Ann Example <ann@example.com>",),
        cc=("bob@example.com",),
        bcc=("sec@example.net",),
        subject="Grüße",
        body="Line one\nLine two\n",
        in_reply_to="<orig@example.com>",
        references=("<root@x>", "<orig@example.com>"),
        attachments=(("notes.bin", b"\x00\x01", "application/octet-stream"),),
    )
    saved = draft_to_message(draft).as_bytes()
    assert draft_from_bytes(saved, POOL) == draft
