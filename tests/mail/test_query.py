"""The search language."""

from __future__ import annotations

import contextlib
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuimail.mail.query import (
    And,
    DateBound,
    HasFlag,
    Not,
    Or,
    QueryError,
    Text,
    parse_query,
)


def test_bare_words_search_everything_and_are_anded() -> None:
    assert parse_query("lunch plans") == And((Text("any", "lunch"), Text("any", "plans")))


def test_fields_phrases_flags_and_dates() -> None:
    query = parse_query(
        'from:ann subject:"lunch plans" has:attachment is:unread is:flagged '
        "before:2026-03-01 after:2026-01-31 body:budget to:bob"
    )
    assert query == And(
        (
            Text("from", "ann"),
            Text("subject", "lunch plans", phrase=True),
            HasFlag("attachment"),
            HasFlag("unread"),
            HasFlag("flagged"),
            DateBound("before", date(2026, 3, 1)),
            DateBound("after", date(2026, 1, 31)),
            Text("body", "budget"),
            Text("to", "bob"),
        )
    )


def test_or_binds_tighter_than_the_implied_and() -> None:
    assert parse_query("a b OR c") == And(
        (Text("any", "a"), Or((Text("any", "b"), Text("any", "c"))))
    )


def test_minus_negates_and_parentheses_group() -> None:
    assert parse_query("-is:unread (x OR -from:y)") == And(
        (Not(HasFlag("unread")), Or((Text("any", "x"), Not(Text("from", "y")))))
    )


def test_a_lowercase_or_is_a_word() -> None:
    assert parse_query("this or that") == And(
        (Text("any", "this"), Text("any", "or"), Text("any", "that"))
    )


def test_escaped_quotes_inside_a_phrase() -> None:
    assert parse_query(r'"say \"hi\""') == Text("any", 'say "hi"', phrase=True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('subject:"open', "never closed"),
        ("(a b", "never closed"),
        ("a )", "unexpected ')'"),
        ("OR a", "needs a term before"),
        ("a OR", "needs a term after"),
        ("is:sleepy", "unknown is:sleepy"),
        ("has:kids", "unknown has:kids"),
        ("before:yesterday", "YYYY-MM-DD"),
        ("after:2026-02-30", "YYYY-MM-DD"),
        ("colour:red", "unknown field colour:"),
        ("from:", "needs a value"),
        ("()", "nothing to search for"),
    ],
)
def test_bad_queries_say_why_in_one_line(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=re.escape(reason)) as caught:
        parse_query(text)
    assert "\n" not in str(caught.value)


QUERY_PIECES = st.sampled_from(
    ["a", "b", ":", "-", '"', "(", ")", " ", "\\", "OR", "from:", "is:unread", "before:2026-01-0"]
)


@given(st.lists(QUERY_PIECES, max_size=20).map("".join))
def test_parser_raises_only_its_own_error_on_query_like_text(text: str) -> None:
    with contextlib.suppress(QueryError):
        parse_query(text)


@given(st.text(max_size=60))
def test_parser_raises_only_its_own_error_on_any_text(text: str) -> None:
    with contextlib.suppress(QueryError):
        parse_query(text)
