"""Tests for tuimail.mail.threads: JWZ threading that tolerates whatever headers say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuimail.mail.threads import (
    ThreadInput,
    ThreadRow,
    is_reply_subject,
    normalize_subject,
    thread_messages,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def msg(
    key: int,
    message_id: str | None = None,
    *,
    refs: tuple[str, ...] = (),
    reply_to: str | None = None,
    subject: str = "",
    minute: int | None = None,
) -> ThreadInput:
    date = None if minute is None else T0 + timedelta(minutes=minute)
    own = message_id if message_id is not None else f"<{key}@x>"
    return ThreadInput(key, own or None, reply_to, refs, subject or f"subject {key}", date)


def shape(rows: list[ThreadRow]) -> list[tuple[int, int]]:
    """(key, depth) per row: the tree as a test can read it."""
    return [(row.key, row.depth) for row in rows]


# --- linking ----------------------------------------------------------------------------------


def test_replies_nest_under_their_parent_by_references() -> None:
    rows = thread_messages(
        [
            msg(1, minute=0),
            msg(2, refs=("<1@x>",), minute=1),
            msg(3, refs=("<1@x>", "<2@x>"), minute=2),
        ]
    )
    assert shape(rows) == [(1, 0), (2, 1), (3, 2)]
    assert {row.thread_id for row in rows} == {1}


def test_in_reply_to_is_used_when_references_are_missing() -> None:
    rows = thread_messages([msg(1, minute=0), msg(2, reply_to="<1@x>", minute=1)])
    assert shape(rows) == [(1, 0), (2, 1)]


def test_in_reply_to_is_the_parent_when_references_were_cut_short() -> None:
    rows = thread_messages(
        [
            msg(1, minute=0),
            msg(2, refs=("<1@x>",), minute=1),
            msg(3, refs=("<1@x>",), reply_to="<2@x>", minute=2),
        ]
    )
    assert shape(rows) == [(1, 0), (2, 1), (3, 2)]


def test_input_order_does_not_matter() -> None:
    messages = [
        msg(1, minute=0),
        msg(2, refs=("<1@x>",), minute=1),
        msg(3, refs=("<1@x>", "<2@x>"), minute=2),
        msg(4, refs=("<1@x>",), minute=3),
    ]
    expected = thread_messages(messages)
    assert thread_messages(list(reversed(messages))) == expected
    assert shape(expected) == [(1, 0), (2, 1), (3, 2), (4, 1)]


def test_ids_without_brackets_or_with_spaces_still_match() -> None:
    rows = thread_messages([msg(1, "1@x", minute=0), msg(2, refs=(" <1@x> ",), minute=1)])
    assert shape(rows) == [(1, 0), (2, 1)]


def test_siblings_under_a_missing_parent_stay_together() -> None:
    rows = thread_messages(
        [
            msg(2, refs=("<gone@x>",), minute=5),
            msg(3, refs=("<gone@x>",), minute=6),
        ]
    )
    # The oldest stands in for the parent we never saw; the other follows as its reply.
    assert shape(rows) == [(2, 0), (3, 1)]
    assert {row.thread_id for row in rows} == {2}


def test_missing_message_in_the_middle_of_a_chain_is_skipped() -> None:
    rows = thread_messages(
        [msg(1, minute=0), msg(3, refs=("<1@x>", "<2@x>"), minute=2)]  # <2@x> never arrived
    )
    assert shape(rows) == [(1, 0), (3, 1)]


# --- ordering ---------------------------------------------------------------------------------


def test_threads_are_ordered_by_their_newest_message_newest_first() -> None:
    rows = thread_messages(
        [
            msg(1, minute=0),
            msg(2, minute=10),
            msg(3, refs=("<1@x>",), minute=20),  # a late reply lifts thread 1 to the top
        ]
    )
    assert shape(rows) == [(1, 0), (3, 1), (2, 0)]


def test_replies_are_ordered_oldest_first() -> None:
    rows = thread_messages(
        [
            msg(1, minute=0),
            msg(4, refs=("<1@x>",), minute=9),
            msg(2, refs=("<1@x>",), minute=3),
            msg(3, refs=("<1@x>",), minute=5),
        ]
    )
    assert shape(rows) == [(1, 0), (2, 1), (3, 1), (4, 1)]


def test_missing_and_naive_dates_are_tolerated() -> None:
    naive = ThreadInput(3, "<3@x>", None, ("<1@x>",), "Re: a", datetime(2024, 1, 1, 12))
    rows = thread_messages([msg(1, minute=0), msg(2, refs=("<1@x>",)), naive])
    assert shape(rows) == [(1, 0), (2, 1), (3, 1)]  # no date sorts first


def test_equal_dates_are_ordered_by_key() -> None:
    rows = thread_messages([msg(2, minute=0), msg(1, minute=0)])
    assert [row.key for row in rows] == [2, 1]  # threads newest first, ties: higher key first


# --- broken headers ---------------------------------------------------------------------------


def test_cycle_in_references_is_broken_and_every_message_is_shown() -> None:
    rows = thread_messages(
        [
            msg(1, refs=("<2@x>",), minute=0),
            msg(2, refs=("<1@x>",), minute=1),
        ]
    )
    assert sorted(row.key for row in rows) == [1, 2]
    assert sorted(row.depth for row in rows) == [0, 1]


def test_longer_cycle_through_placeholders_is_tolerated() -> None:
    rows = thread_messages(
        [
            msg(1, refs=("<a@x>", "<b@x>", "<3@x>"), minute=0),
            msg(2, refs=("<b@x>", "<1@x>"), minute=1),
            msg(3, refs=("<1@x>", "<2@x>", "<a@x>"), minute=2),
        ]
    )
    assert sorted(row.key for row in rows) == [1, 2, 3]


def test_message_referencing_itself_is_a_root() -> None:
    rows = thread_messages([msg(1, refs=("<1@x>",), reply_to="<1@x>", minute=0)])
    assert shape(rows) == [(1, 0)]


def test_duplicate_message_ids_keep_both_messages() -> None:
    rows = thread_messages([msg(1, "<same@x>", minute=0), msg(2, "<same@x>", minute=1)])
    assert sorted(row.key for row in rows) == [1, 2]


def test_messages_without_ids_are_shown_on_their_own() -> None:
    rows = thread_messages([msg(1, "", minute=0), msg(2, "", minute=1)])
    assert shape(rows) == [(2, 0), (1, 0)]


def test_a_thread_deeper_than_the_recursion_limit_is_handled() -> None:
    chain = [msg(0, minute=0)] + [
        msg(k, reply_to=f"<{k - 1}@x>", minute=k, subject="Re: deep") for k in range(1, 5000)
    ]
    rows = thread_messages(chain)
    assert [row.depth for row in rows] == list(range(5000))


def test_empty_input_gives_no_rows() -> None:
    assert thread_messages([]) == []


# --- subject grouping -------------------------------------------------------------------------


def test_reply_without_references_joins_the_thread_with_its_subject() -> None:
    rows = thread_messages(
        [msg(1, subject="Lunch?", minute=0), msg(2, subject="Re: Lunch?", minute=1)]
    )
    assert shape(rows) == [(1, 0), (2, 1)]


@pytest.mark.parametrize(
    "prefix", ["Re:", "RE:", "Fwd:", "FW:", "AW:", "SV:", "Re[2]:", "[team] Re:"]
)
def test_reply_and_forward_prefixes_group_by_subject(prefix: str) -> None:
    rows = thread_messages(
        [msg(1, subject="Plans", minute=0), msg(2, subject=f"{prefix} plans", minute=1)]
    )
    assert shape(rows) == [(1, 0), (2, 1)]


def test_two_originals_with_the_same_subject_stay_apart() -> None:
    rows = thread_messages([msg(1, subject="Hello", minute=0), msg(2, subject="Hello", minute=1)])
    assert shape(rows) == [(2, 0), (1, 0)]


def test_replies_whose_original_is_missing_are_grouped_as_siblings() -> None:
    rows = thread_messages(
        [msg(1, subject="Re: Plans", minute=0), msg(2, subject="Re: Plans", minute=1)]
    )
    assert shape(rows) == [(1, 0), (2, 1)]


def test_empty_subjects_are_never_grouped() -> None:
    rows = thread_messages([msg(1, subject="Re:", minute=0), msg(2, subject="Re:", minute=1)])
    assert shape(rows) == [(2, 0), (1, 0)]


# --- tree drawing -----------------------------------------------------------------------------


def test_last_child_flags_and_guides_describe_the_tree() -> None:
    rows = thread_messages(
        [
            msg(1, minute=0),
            msg(2, refs=("<1@x>",), minute=1),
            msg(3, refs=("<1@x>", "<2@x>"), minute=2),
            msg(4, refs=("<1@x>",), minute=3),
        ]
    )
    # 1
    # ├─2
    # │ └─3
    # └─4
    by_key = {row.key: row for row in rows}
    assert by_key[1] == ThreadRow(1, 0, 1, True, True, 0)
    assert not by_key[2].is_last_child and by_key[2].has_children
    assert by_key[3].is_last_child and by_key[3].has_guide(1)
    assert by_key[4].is_last_child and not by_key[4].has_children
    assert by_key[4].guides == 0


# --- subjects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "normalized"),
    [
        ("Re: Hello", "Hello"),
        ("RE: re: Fwd: Hello", "Hello"),
        ("AW: SV: Hello", "Hello"),
        ("[list] Re: [list] Hello  world", "Hello world"),
        ("Re[3]: Hello", "Hello"),
        ("Re(2): Hello", "Hello"),
        ("Re : Hello", "Hello"),
        ("Hello", "Hello"),
        ("Reply needed", "Reply needed"),
        ("Re:", ""),
        ("", ""),
    ],
)
def test_normalize_subject_strips_prefixes_and_list_tags(subject: str, normalized: str) -> None:
    assert normalize_subject(subject) == normalized


@pytest.mark.parametrize(
    ("subject", "is_reply"),
    [
        ("Re: x", True),
        ("fwd: x", True),
        ("[list] AW: x", True),
        ("[list] x", False),
        ("Regarding x", False),
        ("x", False),
    ],
)
def test_is_reply_subject_recognises_reply_and_forward_prefixes(
    subject: str, is_reply: bool
) -> None:
    assert is_reply_subject(subject) is is_reply


def test_normalize_subject_is_fast_on_pathological_prefixes() -> None:
    assert normalize_subject("Re" + " " * 100_000 + "x") == "Re x"
    assert normalize_subject("[" * 100_000) == "[" * 100_000


# --- properties -------------------------------------------------------------------------------

IDS = st.sampled_from([f"<{n}@x>" for n in range(8)] + ["", "junk", "<>"])


@st.composite
def mailboxes(draw: st.DrawFn) -> list[ThreadInput]:
    count = draw(st.integers(0, 25))
    return [
        ThreadInput(
            key=key,
            message_id=draw(st.one_of(st.none(), IDS)),
            in_reply_to=draw(st.one_of(st.none(), IDS)),
            references=tuple(draw(st.lists(IDS, max_size=5))),
            subject=draw(st.sampled_from(["a", "Re: a", "b", "Fwd: b", "", "Re:"])),
            date=draw(st.one_of(st.none(), st.integers(0, 5).map(lambda m: T0 + timedelta(m)))),
        )
        for key in range(count)
    ]


@given(mailboxes())
def test_every_message_appears_exactly_once_in_a_well_formed_tree(
    messages: list[ThreadInput],
) -> None:
    rows = thread_messages(messages)
    assert sorted(row.key for row in rows) == [m.key for m in messages]
    depth_before, thread_id = -1, None
    for row in rows:
        assert row.depth <= depth_before + 1  # a child directly follows its parent's subtree
        if row.depth == 0:
            thread_id = row.key
        assert row.thread_id == thread_id
        depth_before = row.depth
