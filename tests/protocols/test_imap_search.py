"""The search language as IMAP SEARCH keys."""

from __future__ import annotations

import pytest

from tuimail.mail.query import parse_query
from tuimail.protocols.imap_search import search_keys


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("from:ann", 'FROM "ann"'),
        ('subject:"lunch plans"', 'SUBJECT "lunch plans"'),
        ("body:zebra is:unread", '(BODY "zebra") (UNSEEN)'),
        ("zebra OR okapi", 'OR (TEXT "zebra") (TEXT "okapi")'),
        ("-is:flagged", "NOT (FLAGGED)"),
        ("after:2026-01-05 before:2026-02-01", "(SINCE 5-Jan-2026) (BEFORE 1-Feb-2026)"),
        ('subject:"say \\"hi\\""', 'SUBJECT "say \\"hi\\""'),
    ],
)
def test_queries_become_the_imap_keys_a_server_understands(text: str, keys: str) -> None:
    assert search_keys(parse_query(text)) == keys


def test_what_imap_cannot_say_is_left_to_the_store() -> None:
    assert search_keys(parse_query("has:attachment budget")) is None
    assert search_keys(parse_query("-has:attachment")) is None
