"""Reading IMAP responses without a server: tokenizer, UID sets, folder replies, headers."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuimail.mail.envelope import Address
from tuimail.protocols import imap_headers
from tuimail.protocols.imap_fields import date_of, decode_text, parse_date, parse_internal_date
from tuimail.protocols.imap_headers import parse_header_fetch
from tuimail.protocols.imap_mailbox import folder_info, parse_select, parse_uid_mapping
from tuimail.protocols.imap_parse import (
    MalformedResponse,
    format_uid_set,
    parse_esearch_all,
    parse_event,
    parse_list,
    parse_search,
    parse_status,
    parse_status_text,
    parse_uid_set,
    parse_untagged,
    parse_values,
    uid_set_chunks,
)
from tuimail.protocols.imap_records import Exists, Expunge, FlagsChanged, Vanished

# The tokenizer


def test_values_cover_atoms_strings_nil_lists_and_literals() -> None:
    data = b'(A "q \\"x\\" \\\\" NIL (1 2) {5}\r\nab\r\nc BODY[HEADER.FIELDS (X Y)]<0> \\Seen)'
    assert parse_values(data) == [
        [
            b"A",
            b'q "x" \\',
            None,
            [b"1", b"2"],
            b"ab\r\nc",
            b"BODY[HEADER.FIELDS (X Y)]<0>",
            b"\\Seen",
        ]
    ]


def test_quoted_nil_is_a_string_not_nil() -> None:
    assert parse_values(b'("NIL" NIL)') == [[b"NIL", None]]


@pytest.mark.parametrize(
    "data",
    [b"(a b", b"a) b", b'("unterminated)', b"{10}\r\nshort", b"(" * 100 + b")" * 100, b"a \x00"],
)
def test_malformed_input_raises_malformed_response(data: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_values(data)


@given(st.binary(max_size=200))
def test_the_tokenizer_never_fails_other_than_with_malformed_response(data: bytes) -> None:
    with contextlib.suppress(MalformedResponse):
        parse_values(data)


# UID sets


def test_uid_sets_compress_into_ranges() -> None:
    assert format_uid_set([9, 1, 2, 3, 5, 10, 12, 11, 2]) == "1:3,5,9:12"
    assert format_uid_set([]) == ""


def test_long_uid_sets_are_split_into_commands_of_bounded_length() -> None:
    uids = list(range(1, 20000, 2))
    chunks = uid_set_chunks(uids, max_length=100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert [uid for chunk in chunks for uid in parse_uid_set(chunk.encode())] == uids


@given(st.sets(st.integers(min_value=1, max_value=5000), max_size=300))
def test_uid_sets_round_trip(uids: set[int]) -> None:
    assert parse_uid_set(format_uid_set(uids).encode()) == sorted(uids) if uids else True


def test_a_hostile_uid_range_is_bounded() -> None:
    with pytest.raises(MalformedResponse):
        parse_uid_set(b"1:4294967295", limit=1000)
    assert parse_uid_set(b"1:4294967295", below=5) == [1, 2, 3, 4]


# Status texts and untagged responses


def test_status_text_splits_code_argument_and_text() -> None:
    text = parse_status_text(b"[APPENDUID 38505 3955] APPEND completed")
    assert (text.code, text.arg, text.text) == ("APPENDUID", b"38505 3955", "APPEND completed")
    plain = parse_status_text(b"just \x1b[31mred\x1b[0m text")
    assert plain.code is None and "\x1b" not in plain.text


def test_untagged_responses_are_classified() -> None:
    assert parse_untagged(b"* 23 EXISTS") == parse_untagged(b"* 23 exists")
    fetch = parse_untagged(b"* 12 FETCH (FLAGS (\\Seen))")
    assert (fetch.kind, fetch.number, fetch.rest) == ("FETCH", 12, b"(FLAGS (\\Seen))")


def test_events_from_untagged_responses() -> None:
    assert parse_event(parse_untagged(b"* 5 EXISTS")) == Exists(5)
    assert parse_event(parse_untagged(b"* 3 EXPUNGE")) == Expunge(3)
    assert parse_event(parse_untagged(b"* VANISHED (EARLIER) 1:3,7")) == Vanished(
        (1, 2, 3, 7), True
    )
    assert parse_event(parse_untagged(b"* 4 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (12))")) == (
        FlagsChanged(4, 9, frozenset({"\\Seen"}), 12)
    )
    assert parse_event(parse_untagged(b"* 4 RECENT")) is None


def test_list_status_and_search_replies() -> None:
    assert parse_list(b'(\\HasNoChildren \\Sent) "/" Sent') == (
        frozenset({"\\HasNoChildren", "\\Sent"}),
        "/",
        "Sent",
    )
    assert parse_list(b'() NIL {4}\r\nx"y\\') == (frozenset(), None, 'x"y\\')
    assert parse_status(b'"A b" (MESSAGES 3 UNSEEN 1 UIDNEXT 9 UIDVALIDITY 7)') == {
        "MESSAGES": 3,
        "UNSEEN": 1,
        "UIDNEXT": 9,
        "UIDVALIDITY": 7,
    }
    assert parse_search(b"2 3 17 (MODSEQ 917162500)") == [2, 3, 17]
    assert parse_search(b"") == []


def test_esearch_all_gives_the_uids_of_its_ranges() -> None:
    assert parse_esearch_all(b'(TAG "A5") UID ALL 1:3,7') == [1, 2, 3, 7]
    assert parse_esearch_all(b'(TAG "A5") UID MIN 1 MAX 9 ALL 9,1:2') == [9, 1, 2]
    assert parse_esearch_all(b'(TAG "A5") UID') == []  # nothing matched
    assert parse_esearch_all(b"UID ALL 4") == [4]


@pytest.mark.parametrize(
    "rest",
    [b'(TAG "A5") UID ALL (1 2)', b'(TAG "A5") UID ALL 1:x', b'(TAG "A5") UID ALL 1:4294967295'],
)
def test_a_malformed_or_boundless_esearch_is_refused(rest: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_esearch_all(rest)


def test_folder_roles_come_from_special_use_flags_and_inbox() -> None:
    assert folder_info(frozenset(), "/", "INBOX", False).role == "inbox"
    assert folder_info(frozenset({"\\Junk"}), "/", "Spam", False).role == "junk"
    trash = folder_info(frozenset({"\\Subscribed", "\\Trash"}), ".", "Deleted Items", False)
    assert (trash.role, trash.subscribed) == ("trash", True)
    assert folder_info(frozenset(), "/", "Entw&APw-rfe", True).name == "Entwürfe"
    odd = folder_info(frozenset({"\\Noselect"}), "/", "Bad\x1b[2J&name", False)
    assert odd.name == "Bad&name" and odd.raw_name == "Bad\x1b[2J&name" and not odd.selectable


def test_select_reply_with_qresync_changes() -> None:
    responses = [
        b"* FLAGS (\\Answered \\Seen)",
        b"* OK [PERMANENTFLAGS (\\Seen \\*)] ok",
        b"* 4 EXISTS",
        b"* OK [UIDVALIDITY 3857529045] ok",
        b"* OK [UIDNEXT 4392] ok",
        b"* OK [HIGHESTMODSEQ 715194045007] ok",
        b"* VANISHED (EARLIER) 41,43:116,118:4294967295",
        b"* 1 FETCH (UID 49 FLAGS (\\Seen) MODSEQ (90060115194045000))",
    ]
    state = parse_select("INBOX", responses, parse_status_text(b"[READ-WRITE] done"))
    assert (state.exists, state.uidvalidity, state.uidnext) == (4, 3857529045, 4392)
    assert state.highestmodseq == 715194045007 and not state.readonly
    assert state.permanent_flags == {"\\Seen", "\\*"}
    # The absurd upper bound is clipped at UIDNEXT instead of expanding to 4 billion UIDs.
    assert state.vanished[:3] == (41, 43, 44) and state.vanished[-1] == 4391
    assert [(r.uid, r.modseq) for r in state.changed] == [(49, 90060115194045000)]


def test_copyuid_maps_old_to_new_uids() -> None:
    text = parse_status_text(b"[COPYUID 38505 304,319:320 3956:3958] Done")
    assert parse_uid_mapping(text) == {304: 3956, 319: 3957, 320: 3958}


# Header fetches

REFERENCES = b"References: <1.0@gen.example.org>\r\n <1.1@gen.example.org>\r\n\r\n"
DOVECOT_LIKE = (
    b'* 3 FETCH (UID 3 FLAGS (\\Seen $Forwarded) INTERNALDATE "23-Nov-2026 09:08:18 +0100" '
    b"RFC822.SIZE 875 MODSEQ (2) ENVELOPE "
    b'("Thu, 01 Jan 2026 09:14:00 +0000" "Re: Lunch (1)" '
    b'(("=?utf-8?q?Chlo=C3=A9_Dubois?=" NIL "chloe" "example.fr")) '
    b'(("=?utf-8?q?Chlo=C3=A9_Dubois?=" NIL "chloe" "example.fr")) '
    b'(("=?utf-8?q?Chlo=C3=A9_Dubois?=" NIL "chloe" "example.fr")) '
    b'(("Ann Example" NIL "ann" "example.org")("Bob" NIL "bob" "example.net")) '
    b'((NIL NIL "team" NIL)("Cy" NIL "cy" "example.org")(NIL NIL NIL NIL)) NIL '
    b'"<1.1@gen.example.org>" "<1.2@gen.example.org>") '
    b'BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
    b'("application" "pdf" ("name" "r.pdf") NIL NIL "base64" 1234 NIL '
    b'("attachment" ("filename" "r.pdf")) NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL) '
    b"BODY[HEADER.FIELDS (REFERENCES)] {%d}\r\n%s)" % (len(REFERENCES), REFERENCES)
)


def test_a_dovecot_style_header_fetch_becomes_a_header_record() -> None:
    record = parse_header_fetch(DOVECOT_LIKE)
    assert record is not None
    envelope = record.envelope
    assert record.uid == 3 and record.size == 875 and record.modseq == 2
    assert record.flags == {"\\Seen", "$Forwarded"}
    assert record.internal_date == datetime(2026, 11, 23, 8, 8, 18, tzinfo=UTC)
    assert envelope.subject == "Re: Lunch (1)"
    assert envelope.from_ == (Address("Chloé Dubois", "chloe@example.fr"),)
    assert [a.email for a in envelope.to] == ["ann@example.org", "bob@example.net"]
    assert envelope.cc == (Address("Cy", "cy@example.org"),)  # group markers dropped
    assert envelope.date == datetime(2026, 1, 1, 9, 14, tzinfo=UTC)
    assert envelope.message_id == "<1.2@gen.example.org>"
    assert record.in_reply_to == "<1.1@gen.example.org>"
    assert record.references == ("<1.0@gen.example.org>", "<1.1@gen.example.org>")
    assert record.has_attachments and envelope.has_attachments and envelope.size == 875


def generic_only(response: bytes) -> object:
    return imap_headers._from_generic(response)


@pytest.mark.parametrize(
    "response",
    [
        DOVECOT_LIKE,
        # Another item order, and the header fields before the envelope.
        b"* 1 FETCH (BODY[HEADER.FIELDS (REFERENCES)] {2}\r\n\r\n ENVELOPE "
        b'(NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE ("text" "plain" NIL NIL NIL '
        b'"7bit" 1 1) RFC822.SIZE 10 INTERNALDATE " 1-Jan-2026 00:00:00 -0500" FLAGS () UID 8)',
        # A literal inside the envelope (8-bit subject) and an escaped quote in a name.
        b'* 2 FETCH (UID 9 FLAGS () INTERNALDATE "01-Feb-2026 10:00:00 +0000" RFC822.SIZE 5 '
        b'ENVELOPE (NIL {6}\r\nCaf\xc3\xa9! (("A \\"B\\"" NIL "a" "b.c")) NIL NIL NIL NIL NIL '
        b'NIL NIL) BODYSTRUCTURE ("text" "plain" NIL NIL NIL "8bit" 1 1) '
        b"BODY[HEADER.FIELDS (REFERENCES)] NIL)",
    ],
)
def test_the_fast_and_generic_paths_agree(response: bytes) -> None:
    assert parse_header_fetch(response) == generic_only(response)


@given(
    st.integers(0, 39),
    st.sampled_from([b"Jan", b"feb", b"MAR", b"Dec", b"Foo", b"jUn"]),
    st.integers(0, 9999),
    st.integers(0, 29),
    st.integers(0, 69),
    st.integers(0, 69),
    st.integers(-2999, 2999),
)
def test_date_parts_read_as_the_whole_date_would(
    day: int, month: bytes, year: int, hour: int, minute: int, second: int, zone: int
) -> None:
    parts = (
        str(day).encode(),
        month,
        b"%04d" % year,
        b"%02d" % hour,
        b"%02d" % minute,
        b"%02d" % second,
        b"%+05d" % zone,
    )
    whole = b"%s %s %s %s:%s:%s %s" % parts
    expected = parse_date(whole)
    assert date_of(*parts) == expected
    if expected is not None:
        assert date_of(*parts).utcoffset() == expected.utcoffset()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (b'"Thu, 01 Jan 2026 09:14:00 +0000"', datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),
        (b'"1 Jan 2026 09:14:00 +0100 (CET)"', datetime(2026, 1, 1, 8, 14, tzinfo=UTC)),
        (b'"Thu, 01 JAN 2026 09:14:00 -0000"', datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),
        (b'"Thu, 1 Jan 26 9:14 GMT"', datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),  # stdlib's
        (b'"Thu,  1 Jan 2026 09:14:00 +0000"', datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),
        (b'"Thu, 32 Jan 2026 09:14:00 +0000"', None),
        (b'"Thu, 01 Foo 2026 09:14:00 +0000"', None),
        (b'"Thu, 01 Jan 2026 09:14:00 +9900"', None),
        (b'"yesterday"', None),
        (b"NIL", None),
    ],
)
def test_envelope_dates_read_the_same_on_both_paths(date: bytes, expected: object) -> None:
    original = b'ENVELOPE ("Thu, 01 Jan 2026 09:14:00 +0000"'
    response = DOVECOT_LIKE.replace(original, b"ENVELOPE (" + date)
    assert date in response
    assert imap_headers._FAST_FETCH.match(response) is not None, "read by the fast path"
    record = parse_header_fetch(response)
    assert record is not None and record.envelope.date == expected
    assert record == generic_only(response)


def test_the_fast_path_group_order_matches_its_unpacking() -> None:
    assert list(imap_headers._FAST_FETCH.groupindex) == [
        "uid",
        "flags",
        "internal_date",
        "size",
        "modseq",
        "day",
        "month",
        "year",
        "hour",
        "minute",
        "second",
        "zone",
        "date",
        "subject",
        "from",
        "reply_to",
        "to",
        "cc",
        "in_reply_to",
        "message_id",
        "body",
        "header_size",
        "header_quoted",
    ]


def test_odd_fetches_still_parse_through_the_generic_path() -> None:
    record = parse_header_fetch(
        b'* 2 FETCH (UID 9 FLAGS () INTERNALDATE "01-Feb-2026 10:00:00 +0000" RFC822.SIZE 5 '
        b'ENVELOPE (NIL {6}\r\nCaf\xc3\xa9! (("A \\"B\\"" NIL "a" "b.c")) NIL NIL NIL NIL NIL '
        b'NIL NIL) BODYSTRUCTURE ("text" "plain" NIL NIL NIL "8bit" 1 1) '
        b"BODY[HEADER.FIELDS (REFERENCES)] NIL)"
    )
    assert record is not None
    assert record.envelope.subject == "Café!"
    assert record.envelope.from_ == (Address('A "B"', "a@b.c"),)
    assert record.envelope.message_id is None and record.envelope.date is None
    assert not record.has_attachments


def test_a_fetch_without_envelope_is_not_a_header_record() -> None:
    assert parse_header_fetch(b"* 4 FETCH (UID 3 FLAGS (\\Seen))") is None


def test_envelope_text_is_sanitised() -> None:
    hostile = base64.b64encode("\x1b[31mRed\u202eexe\x1b]0;title\x07".encode())
    response = DOVECOT_LIKE.replace(b'"Re: Lunch (1)"', b'"=?utf-8?b?' + hostile + b'?="').replace(
        b'"Ann Example"', b'"Ann\x07 Example"'
    )
    record = parse_header_fetch(response)
    assert record is not None
    assert record.envelope.subject == "Redexe"
    assert record.envelope.to[0].name == "Ann Example"


# RFC 2047 and dates


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"plain text", "plain text"),
        (b"=?utf-8?q?Caf=C3=A9_au_lait?=", "Café au lait"),
        (b"=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=", "éé"),  # space between encoded words dropped
        (b"=?utf-8?b?ww==?= =?utf-8?b?qQ==?=", "é"),  # a character split across two words
        (b"=?utf-8?q?=C3?=\r\n =?utf-8?q?=A9?=", "é"),
        (b"a =?iso-8859-1?q?=E9t=E9?= b", "a été b"),
        (b"=?utf-8?B?broken base64?= tail", "=?utf-8?B?broken base64?= tail"),
        (b"=?x-unknown?q?abc?=", "abc"),
        (b"=?utf-8*en?q?hi?=", "hi"),  # RFC 2231 language tag
        (b"Gr\xfc\xdfe", "Grüße"),  # raw Windows-1252
        (b"line\r\n folded\tand\x1b]0;title\x07 escaped", "line  folded and escaped"),
    ],
)
def test_header_text_is_decoded_and_sanitised(raw: bytes, text: str) -> None:
    assert decode_text(raw) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Thu, 01 Jan 2026 09:14:00 +0000", datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),
        (
            b"1 Jan 2026 09:14 -0130",
            datetime(2026, 1, 1, 9, 14, tzinfo=timezone(-timedelta(hours=1, minutes=30))),
        ),
        (b"Thu, 1 Jan 2026 09:14:00 +0000 (UTC)", datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),
        (b"Thu, 01 Jan 26 09:14:00 GMT", datetime(2026, 1, 1, 9, 14, tzinfo=UTC)),
        (b"Mon, 32 Foo 2026 25:61:00 +9999", None),
        (b"yesterday", None),
    ],
)
def test_dates_parse_or_become_none(raw: bytes, expected: datetime | None) -> None:
    assert parse_date(raw) == expected


def test_a_bad_internal_date_is_a_malformed_response() -> None:
    assert parse_internal_date(b" 7-Jul-1996 02:44:25 -0700").hour == 2
    with pytest.raises(MalformedResponse):
        parse_internal_date(b"tomorrow")
