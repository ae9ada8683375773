"""What the message view puts on screen: links, quotes, headers."""

from __future__ import annotations

import pytest
from textual.style import Style

from tuimail.mail.render import BodyLine, RenderedMessage
from tuimail.ui.widgets.message_view import body_content, header_content, safe_link


@pytest.mark.parametrize(
    "url", ["https://example.org/a?b=c#d", "http://example.org", "mailto:ann@example.org"]
)
def test_plain_web_and_mail_links_become_hyperlinks(url: str) -> None:
    assert safe_link(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://example.org/a b",
        "https://example.org/\x1b]8;;https://evil\x07",
        "https://exämple.org/",
        "data:text/html,<b>x</b>",
        "https://example.org/\u202e",
    ],
)
def test_anything_else_stays_plain_text(url: str) -> None:
    assert safe_link(url) is None


def rendered(lines: list[tuple[str, int]], links: tuple[str, ...] = ()) -> RenderedMessage:
    body_lines = tuple(BodyLine(text, depth) for text, depth in lines)
    body = "\n".join(text for text, _ in lines)
    return RenderedMessage((), body, body_lines, links, ())


def test_quoted_lines_are_dimmed_and_fold_to_one_line_each_run() -> None:
    message = rendered([("Hi", 0), ("> a", 1), ("> > b", 2), ("Reply", 0), ("> c", 1)])
    shown = body_content(message, fold_quotes=False)
    assert shown.plain.splitlines() == ["Hi", "> a", "> > b", "Reply", "> c"]
    muted = [span for span in shown.spans if span.style == "$text-muted"]
    assert len(muted) == 3
    folded = body_content(message, fold_quotes=True).plain.splitlines()
    assert folded == [
        "Hi",
        "[… 2 quoted lines; z shows them]",
        "Reply",
        "[… 1 quoted line; z shows them]",
    ]


def test_links_are_listed_by_number_and_only_safe_ones_are_clickable() -> None:
    message = rendered([("see [1] and [2]", 0)], ("https://ok.example/", "javascript:x"))
    shown = body_content(message, fold_quotes=False)
    assert "[1] https://ok.example/" in shown.plain and "[2] javascript:x" in shown.plain
    links = [s.style.link for s in shown.spans if isinstance(s.style, Style) and s.style.link]
    assert links == ["https://ok.example/"]


def test_markup_in_a_message_stays_text() -> None:
    shown = header_content((("Subject", "[bold]hi[/] [@click=app.quit]x[/]"),))
    assert shown.plain == "Subject: [bold]hi[/] [@click=app.quit]x[/]"
