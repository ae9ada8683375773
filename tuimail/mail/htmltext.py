"""HTML parts as plain text (inscriptis), with links numbered and nothing ever fetched.

Inscriptis lays out HTML on a text canvas from the parsed tree alone; it has no way to load
images, stylesheets or frames, so rendering cannot reach the network. Link targets are collected
into a list and the link text is followed by its number, ``like this[1]``.
"""

from __future__ import annotations

import functools
import html
import logging
import re
from typing import TYPE_CHECKING, Any

from tuimail.mail.sanitize import sanitize_line, sanitize_text

if TYPE_CHECKING:
    from inscriptis.model.config import ParserConfig
    from inscriptis.model.html_element import HtmlElement

log = logging.getLogger(__name__)
_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
_MAX_LINK_LENGTH = 4096
# Stops at the next "<" as well, so that a page of unclosed "<" costs linear time.
_TAG = re.compile(r"<[^<>]*+>")
_SPACES = re.compile(r"[ \t]{2,}+")
_BLANK_LINES = re.compile(r"\n{3,}+")
_HIDDEN_START = re.compile(r"<(?:(head|script|style|title)(?![\w-])|(!--))", re.IGNORECASE)
_HIDDEN_END = {
    name: re.compile(closing, re.IGNORECASE)
    for name, closing in (
        ("head", r"</head[^<>]*+>?"),
        ("script", r"</script[^<>]*+>?"),
        ("style", r"</style[^<>]*+>?"),
        ("title", r"</title[^<>]*+>?"),
        ("!--", r"-->"),
    )
}


def html_to_text(source: str, links: list[str] | None = None) -> str:
    """Lay out an HTML part as sanitised text; links are added to ``links`` and shown as ``[n]``.

    Numbers continue from what ``links`` already holds; a repeated target keeps its number.
    Pass ``links=None`` to leave link targets out.
    """
    from inscriptis import get_text  # lxml and inscriptis load with the first HTML message

    source = sanitize_text(source)
    try:
        text: str = sanitize_text(get_text(source, _config(links)))
    except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as error:
        # lxml and inscriptis can trip over pathological markup; stripping tags keeps the words.
        log.debug("HTML layout failed (%s); stripping tags instead", error)
        return html_snippet(source)
    if not text.strip():  # lxml gives up silently on some markup (e.g. nesting past 255)
        return html_snippet(source)
    return text.strip("\n")


def link_target(href: str) -> str | None:
    """A link target fit to show and to open later, or None for anchors and script URLs."""
    target = sanitize_line(href).strip()
    squeezed = "".join(target.split()).lower()
    if not target or target.startswith("#") or len(target) > _MAX_LINK_LENGTH:
        return None
    if squeezed.startswith(_UNSAFE_SCHEMES):
        return None
    return target


@functools.cache
def _css() -> dict[str, HtmlElement]:
    from inscriptis.css_profiles import STRICT_CSS_PROFILE
    from inscriptis.html_properties import Display
    from inscriptis.model.html_element import HtmlElement

    # The strict profile does not indent nested <div>s (HTML mail nests them deeply); quoted
    # replies in <blockquote> are indented so that they stay apart from the new text.
    return {
        **STRICT_CSS_PROFILE,
        "blockquote": HtmlElement(display=Display.block, padding_inline=2),
    }


def _config(links: list[str] | None) -> ParserConfig:
    from inscriptis.model.config import ParserConfig
    from inscriptis.model.tag import CustomHtmlTagHandlerMapping

    if links is None:
        return ParserConfig(css=_css())
    numbers = {target: n for n, target in enumerate(links, start=1)}
    open_links: list[str | None] = []

    def a_start(_state: Any, attrs: dict[str, str]) -> None:
        open_links.append(link_target(attrs.get("href") or ""))

    def a_end(state: Any) -> None:
        target = open_links.pop() if open_links else None
        if target is None:
            return
        if target not in numbers:
            links.append(target)
            numbers[target] = len(links)
        state.tags[-1].write(f"[{numbers[target]}]")

    mapping = CustomHtmlTagHandlerMapping(
        start_tag_mapping={"a": a_start}, end_tag_mapping={"a": a_end}
    )
    return ParserConfig(css=_css(), custom_html_tag_handler_mapping=mapping)


def html_snippet(source: str) -> str:
    """Rough visible text of an HTML part, fast enough for previews: no layout, no links."""
    return snippet_lines(visible_text(source))


def visible_text(source: str) -> str:
    """The sanitised words and line breaks of an HTML part, before ``snippet_lines`` tidies
    its blanks: ``html_snippet`` is the two in turn, and a caller that only wants the words
    can skip the second."""
    return sanitize_text(_strip_tags(source))


def snippet_lines(text: str) -> str:
    """``visible_text`` with runs of blanks squeezed, lines stripped and blank lines capped."""
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def _strip_tags(source: str) -> str:
    return html.unescape(_TAG.sub(" ", _drop_hidden(source)))


def _drop_hidden(source: str) -> str:
    """Remove <head>, <script>, <style>, <title> and comments, in one linear pass."""
    kept: list[str] = []
    position = 0
    while (start := _HIDDEN_START.search(source, position)) is not None:
        kept.append(source[position : start.start()])
        name = (start.group(1) or start.group(2)).lower()
        closing = _HIDDEN_END[name].search(source, start.end())
        if closing is not None:
            position = closing.end()
        elif name == "head":  # an unclosed <head> ends where the body starts; keep going
            position = source.find(">", start.end()) + 1 or start.end()
        else:  # an unclosed script, style or comment hides the rest, as in a browser
            position = len(source)
            break
    kept.append(source[position:])
    return " ".join(kept)
