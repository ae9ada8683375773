"""Tests for tuimail.mail.htmltext: HTML parts as safe text, links numbered, nothing fetched."""

from __future__ import annotations

import pytest

from tests.mail.strategies import assert_line_safe, assert_text_safe
from tuimail.mail.htmltext import html_snippet, html_to_text, link_target


def test_links_are_numbered_after_their_text() -> None:
    links: list[str] = []
    text = html_to_text('<p>See <a href="https://a.example/">this</a>.</p>', links)
    assert text == "See this[1]."
    assert links == ["https://a.example/"]


def test_numbering_continues_from_links_already_collected() -> None:
    links = ["https://first.example/"]
    text = html_to_text('<a href="https://second.example/">x</a>', links)
    assert text == "x[2]"


def test_without_a_link_list_targets_are_left_out() -> None:
    assert html_to_text('<a href="https://a.example/">this</a>') == "this"


@pytest.mark.parametrize(
    "href",
    [
        *("javascript:alert(1)", " JavaScript:x", "java\nscript:x", "vbscript:x"),
        *("data:text/html,x", "file:///etc/passwd", "#anchor", "", "https://x/" + "a" * 5000),
    ],
)
def test_links_that_should_never_be_opened_are_dropped(href: str) -> None:
    assert link_target(href) is None


def test_link_targets_are_sanitised() -> None:
    target = link_target("https://a.example/\x1b]8;;x\x07path\u202e")
    assert target == "https://a.example/path"


def test_entities_that_spell_controls_are_sanitised() -> None:
    text = html_to_text("a&#x1b;[31mb&#x202e;c&#0;d&#x9b;e")
    assert_text_safe(text)
    assert "\x1b" not in text


def test_blockquotes_are_indented() -> None:
    assert html_to_text("<p>new</p><blockquote>old</blockquote>") == "new\n\n  old"


def test_nesting_past_the_parser_limit_still_shows_the_words() -> None:
    html = "<div>" * 5000 + "deep words" + "</div>" * 5000
    assert html_to_text(html) == "deep words"


def test_snippet_hides_head_scripts_styles_and_comments() -> None:
    html = (
        "<html><HEAD><title>T</title><style>p {}</style></head><body><header>Top</header>"
        "<!-- hidden --><p>Hello &amp; <b>bye</b></p><script>evil()</SCRIPT >tail</body></html>"
    )
    assert html_snippet(html) == "Top Hello & bye tail"


def test_snippet_of_an_unclosed_head_keeps_the_body() -> None:
    assert html_snippet("<head><meta charset=utf-8><p>body text") == "body text"


def test_snippet_of_an_unclosed_script_hides_the_rest() -> None:
    assert html_snippet("shown<script>hidden forever") == "shown"


@pytest.mark.parametrize("html", ["<" * 200_000, "<style" * 50_000, "<!--" * 50_000])
def test_snippet_of_pathological_markup_is_quick_and_safe(html: str) -> None:
    assert_line_safe(html_snippet(html).replace("\n", " "))
