"""Writing man(7) roff: escaping text and the few macros the two man pages use."""

from __future__ import annotations

import re

# ``literal`` (docstrings) and `literal` (click help texts) become bold, as man pages show code.
_LITERAL = re.compile(r"``(.+?)``|`([^`]+?)`")
# A sentence ends before a capital or a quote: one sentence per source line, the roff habit,
# so that roff puts its sentence space after the full stop.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)\s+(?=[A-Z(\\])")


def escape(text: str) -> str:
    """Plain text made safe inside a roff line: backslashes, hyphens, non-ASCII characters."""
    out = []
    for char in text.replace("\\", "\\e").replace("-", "\\-"):
        out.append(char if ord(char) < 128 else f"\\[u{ord(char):04X}]")
    return "".join(out)


def inline(text: str) -> str:
    """Escaped text with its ``literal`` spans in bold."""
    escaped = escape(text)
    return _LITERAL.sub(lambda m: f"\\fB{m.group(1) or m.group(2)}\\fR", escaped)


def text_lines(paragraph: str) -> list[str]:
    """One paragraph of prose as roff source lines, one sentence each."""
    joined = " ".join(paragraph.split())
    if not joined:
        return []
    return [_line(sentence) for sentence in _SENTENCE_END.split(inline(joined))]


def verbatim(lines: list[str]) -> list[str]:
    """Lines kept as they are (an example, a \\b paragraph of click): no filling."""
    return [".PP", ".nf", *(_line(escape(line)) for line in lines), ".fi"]


def macro(name: str, *args: str) -> str:
    """A macro line; arguments are escaped and quoted."""
    quoted = ('"' + escape(arg).replace('"', "\\(dq") + '"' for arg in args)
    return " ".join((f".{name}", *quoted))


def _line(source: str) -> str:
    # A line that starts with a dot or an apostrophe would be read as a request.
    return "\\&" + source if source.startswith((".", "'")) else source
