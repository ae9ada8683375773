"""The draft as editor text and back."""

from __future__ import annotations

import pytest

from tuimail.mail.compose import Draft, Identity
from tuimail.mail.editable import EditedTextError, draft_from_text, draft_to_text, split_addresses

ANN = Identity("ann@example.org", "Ann")
WORK = Identity("ann@work.example", "Ann at work")


def test_text_round_trip_keeps_every_field() -> None:
    draft = Draft(ANN, ("bob@example.com",), ('"Doe, John" <j@example.com>',), (), "Hi", "Body\n")
    again = draft_from_text(draft_to_text(draft), draft, [ANN])
    assert again.to == draft.to
    assert again.cc == ('"Doe, John" <j@example.com>',)
    assert (again.subject, again.body, again.from_identity) == ("Hi", "Body\n", ANN)


def test_from_picks_a_known_identity() -> None:
    draft = Draft(ANN, subject="x")
    edited = draft_to_text(draft).replace("Ann <ann@example.org>", "ann@work.example")
    assert draft_from_text(edited, draft, [ANN, WORK]).from_identity == WORK


def test_threading_headers_survive_the_editor() -> None:
    draft = Draft(ANN, subject="Re: x", in_reply_to="<a@b>", references=("<a@b>",))
    again = draft_from_text(draft_to_text(draft), draft, [ANN])
    assert again.in_reply_to == "<a@b>" and again.references == ("<a@b>",)


def test_a_line_that_is_no_header_is_an_error() -> None:
    with pytest.raises(EditedTextError):
        draft_from_text("To: a@b\nnot a header\n\nbody", Draft(ANN), [ANN])


def test_split_addresses_respects_quotes() -> None:
    assert split_addresses('"Doe, J" <j@x.org>, k@y.org') == ('"Doe, J" <j@x.org>', "k@y.org")
    assert split_addresses("") == ()
