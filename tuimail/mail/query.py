"""The search language -> a query tree.

``from:ann subject:"lunch plans" -is:unread has:attachment after:2026-01-01 OR budget``

Terms are ANDed unless ``OR`` stands between them (OR binds tighter than the implied AND, as
in Gmail and notmuch: ``a b OR c`` is ``a AND (b OR c)``); ``-`` before a term negates it;
parentheses group. A word without a field searches subject, addresses and body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from tuimail.errors import TuimailError

TextField = Literal["any", "from", "to", "subject", "body"]
Flag = Literal["unread", "read", "flagged", "attachment"]
TEXT_FIELDS: tuple[str, ...] = ("from", "to", "subject", "body")


class QueryError(TuimailError):
    """The search text is not a valid query; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Text:
    """Words or a quoted phrase in a field (``any``: subject, addresses and body)."""

    field: TextField
    value: str
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class HasFlag:
    """``is:unread``, ``is:read``, ``is:flagged``, ``has:attachment``."""

    flag: Flag


@dataclass(frozen=True, slots=True)
class DateBound:
    """``before:`` (strictly before that day) or ``after:`` (that day or later)."""

    side: Literal["before", "after"]
    day: date


@dataclass(frozen=True, slots=True)
class Not:
    """``-term``."""

    term: Query


@dataclass(frozen=True, slots=True)
class And:
    """Every term matches."""

    terms: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one term matches."""

    terms: tuple[Query, ...]


Query = Text | HasFlag | DateBound | Not | And | Or

_TOKEN = re.compile(r'\s*(?:(\()|(\))|(-)?([A-Za-z]+:)?("(?:[^"\\]|\\.)*"?|[^\s()"]+)?)')
_FLAGS: dict[str, Flag] = {
    "is:unread": "unread",
    "is:read": "read",
    "is:seen": "read",
    "is:flagged": "flagged",
    "is:starred": "flagged",
    "has:attachment": "attachment",
    "has:attachments": "attachment",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["(", ")", "OR", "term"]
    position: int
    negated: bool = False
    field: str = ""
    value: str = ""
    quoted: bool = False


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"unexpected {text[position]!r} at column {position + 1}")
        start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        opening, closing, minus, field, value = match.groups()
        position = match.end()
        if opening:
            found.append(_Token("(", start))
            continue
        if closing:
            found.append(_Token(")", start))
            continue
        if value is None:
            raise QueryError(
                f"{(minus or '') + (field or '')!r} at column {start + 1} needs a value"
            )
        quoted = value.startswith('"')
        if quoted:
            if len(value) < 2 or not value.endswith('"') or value.endswith('\\"'):
                raise QueryError(f"the quote at column {start + 1} is never closed")
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if value == "OR" and not (quoted or minus or field):
            found.append(_Token("OR", start))
            continue
        found.append(
            _Token("term", start, bool(minus), (field or "").lower().rstrip(":"), value, quoted)
        )
    return found


def parse_query(text: str) -> Query:
    """The query tree of ``text``; raises ``QueryError`` with a one-line reason."""
    parser = _Parser(_tokens(text))
    if not parser.tokens:
        raise QueryError("the search is empty")
    query = parser.conjunction()
    if parser.at < len(parser.tokens):
        token = parser.tokens[parser.at]
        raise QueryError(f"unexpected ')' at column {token.position + 1}")
    return query


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def conjunction(self) -> Query:
        terms: list[Query] = []
        while (token := self._peek()) is not None and token.kind != ")":
            terms.append(self.disjunction())
        if not terms:
            token = self._peek()
            where = f" at column {token.position + 1}" if token else ""
            raise QueryError(f"nothing to search for{where}")
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def disjunction(self) -> Query:
        terms = [self.unit()]
        while (token := self._peek()) is not None and token.kind == "OR":
            self.at += 1
            if self._peek() is None or self.tokens[self.at].kind in (")", "OR"):
                raise QueryError(f"OR at column {token.position + 1} needs a term after it")
            terms.append(self.unit())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def unit(self) -> Query:
        token = self.tokens[self.at]
        self.at += 1
        if token.kind == "OR":
            raise QueryError(f"OR at column {token.position + 1} needs a term before it")
        if token.kind == "(":
            inner = self.conjunction()
            closing = self._peek()
            if closing is None:
                raise QueryError(f"the '(' at column {token.position + 1} is never closed")
            self.at += 1
            return inner
        if token.kind == ")":
            raise QueryError(f"unexpected ')' at column {token.position + 1}")
        term = _term(token)
        return Not(term) if token.negated else term


def _term(token: _Token) -> Query:
    where = f"column {token.position + 1}"
    if not token.field:
        return Text("any", token.value, token.quoted)
    if token.field in TEXT_FIELDS:
        if not token.value.strip():
            raise QueryError(f"{token.field}: at {where} needs a value")
        return Text(token.field, token.value, token.quoted)  # type: ignore[arg-type]
    if token.field in ("is", "has"):
        flag = _FLAGS.get(f"{token.field}:{token.value.lower()}")
        if flag is None:
            known = ", ".join(sorted(_FLAGS))
            raise QueryError(f"unknown {token.field}:{token.value} at {where} (known: {known})")
        return HasFlag(flag)
    if token.field in ("before", "after"):
        try:
            day = date.fromisoformat(token.value)
        except ValueError:
            raise QueryError(f"{token.field}: at {where} wants a date as YYYY-MM-DD") from None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", token.value):
            raise QueryError(f"{token.field}: at {where} wants a date as YYYY-MM-DD")
        return DateBound(token.field, day)  # type: ignore[arg-type]
    known = ", ".join(("from", "to", "subject", "body", "is", "has", "before", "after"))
    raise QueryError(f"unknown field {token.field}: at {where} (fields: {known})")
