"""Neutralise everything in message text that could drive a terminal.

Mail is written by strangers, so every string that reaches the screen passes through here
first. We remove:

* complete escape sequences (CSI, OSC, DCS, SOS, PM, APC, and two-byte ``ESC x``), in both their
  7-bit (``ESC [``) and 8-bit (U+009B) forms, so no fragment of a hyperlink or title-setting
  sequence survives;
* any remaining C0 control (bodies keep ``\\n`` and ``\\t``), DEL and C1 control;
* the bidi embedding, override and isolate controls U+202A-U+202E and U+2066-U+2069, which can
  reorder a whole line (the "Trojan Source" trick, or ``gpj.exe`` shown as ``exe.jpg``).

We keep the marks U+200E, U+200F and U+061C: they only set the direction of neutral characters
next to them and cannot reorder text beyond that, and right-to-left mail needs them. Zero-width
joiners stay too; emoji need them. A run of lone surrogates (left by undecodable bytes) becomes
one U+FFFD, so that writing the text to a terminal cannot fail.
"""

from __future__ import annotations

import re
import unicodedata

# Escape sequences are removed whole, then any control left over. Every match starts with one
# character from the unsafe class, which lets the regex engine skip clean text quickly; what
# follows depends on that first character. String sequences (OSC, DCS, SOS, PM, APC) end at BEL
# or ST, and their payload stops at any ESC or C1, so an unterminated one costs linear time and
# the text after it survives. Possessive quantifiers keep every branch free of backtracking.
_AFTER_ESC = (
    r"(?<=\x1b)(?:\[[\x30-\x3f]*+[\x20-\x2f]*+[\x40-\x7e]|[\]PX^_]{s}|[\x20-\x2f]*+[\x30-\x7e])"
)
_AFTER_8BIT_CSI = r"(?<=\x9b)[\x30-\x3f]*+[\x20-\x2f]*+[\x40-\x7e]"
_AFTER_8BIT_STRING = r"(?<=[\x90\x98\x9d\x9e\x9f]){s}"
_STRING_BODY = r"[^\x07\x1b\x80-\x9f]*+(?:\x07|\x1b\\|\x9c)"
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"


def _unsafe_pattern(controls: str, plain_controls: str) -> re.Pattern[str]:
    """One regex for a run of unsafe characters, each with the rest of its escape sequence.

    A sequence introducer followed by another one cannot start a sequence (the terminal drops
    it), so it joins the run of plain controls; this keeps a long run of ESCs a single match.
    """
    introducers = "\x1b\x90\x98\x9b\x9d\x9e\x9f"
    branches = (
        _AFTER_ESC.format(s=_STRING_BODY),
        _AFTER_8BIT_CSI,
        _AFTER_8BIT_STRING.format(s=_STRING_BODY),
        f"(?:[{plain_controls}]++|[{introducers}](?=[{introducers}]))*+",
    )
    one = f"[{controls}](?:{'|'.join(branches)})"
    # Spelled out once before the repetition so that the pattern starts with a character class,
    # which the regex engine uses to skip clean text quickly.
    return re.compile(f"{one}(?:{one})*+")


# Bodies keep \t and \n (\r is normalised first); single-line fields turn line breaks and tabs,
# NEL and the Unicode separators into spaces instead, so those are not in the line class.
_TEXT_UNSAFE = _unsafe_pattern(
    "\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI_CONTROLS,
    "\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x8f\x91-\x97\x99-\x9a\x9c" + _BIDI_CONTROLS,
)
_LINE_UNSAFE = _unsafe_pattern(
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f" + _BIDI_CONTROLS,
    "\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x84\x86-\x8f\x91-\x97\x99-\x9a\x9c" + _BIDI_CONTROLS,
)
_LINE_BREAKS = ("\r\n", "\n", "\r", "\t", "\x0b", "\x0c", "\x85", "\u2028", "\u2029")
_SURROGATES = re.compile("[\ud800-\udfff]++")

# Quick tests that let clean text, the common case, through after a single scan. ASCII text is
# checked as bytes, where deleting every harmless byte is far faster than a regex.
_ANY_UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}\ud800-\udfff]")
_ANY_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}\ud800-\udfff]")
_HARMLESS_TEXT_BYTES = bytes(b for b in range(128) if b in (9, 10) or 32 <= b < 127)
_HARMLESS_LINE_BYTES = bytes(range(32, 127))


def sanitize_line(s: str) -> str:
    """Make a single-line field (header, folder or file name) safe to show in a terminal.

    Escape sequences and controls are removed; line breaks and tabs become a space.
    """
    if not _needs_work(s, _HARMLESS_LINE_BYTES, _ANY_UNSAFE_LINE):
        return s
    s = _LINE_UNSAFE.sub("", s)
    for line_break in _LINE_BREAKS:
        if line_break in s:
            s = s.replace(line_break, " ")
    return _replace_surrogates(s)


def sanitize_text(s: str) -> str:
    """Make a multi-line body safe to show in a terminal, keeping ``\\n`` and ``\\t``.

    Line endings are normalised: ``\\r\\n`` and a lone ``\\r`` become ``\\n``.
    """
    if not _needs_work(s, _HARMLESS_TEXT_BYTES, _ANY_UNSAFE_TEXT):
        return s
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _TEXT_UNSAFE.sub("", s)
    return _replace_surrogates(s)


def _needs_work(s: str, harmless_bytes: bytes, unsafe: re.Pattern[str]) -> bool:
    if s.isascii():
        return bool(s.encode("ascii").translate(None, harmless_bytes))
    return unsafe.search(s) is not None


def _replace_surrogates(s: str) -> str:
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", s)
    return s


_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")]
)
# Shell and Windows metacharacters and path separators; plain spaces are kept.
_FILENAME_UNSAFE = re.compile(r"""[\\/:*?"<>|;&$`'!{}()\[\]~#%]++""")
_FILENAME_MAX_BYTES = 200


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """Turn an attachment's suggested name into a plain file name safe inside a chosen folder.

    Path parts, controls, shell metacharacters, leading dots and dashes and Windows device
    names are neutralised; the result is at most 200 bytes of UTF-8 and never empty.
    """
    cleaned = _clean_filename(name or "")
    if not cleaned:
        cleaned = _clean_filename(fallback) or "attachment"
    if cleaned.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    return _cap_utf8(cleaned, _FILENAME_MAX_BYTES)


def _clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", sanitize_line(name)).replace("\ufffd", "_")
    # Keep the last path component, whichever separator the sender's system used.
    name = re.split(r"[\\/]", name)[-1]
    name = _FILENAME_UNSAFE.sub("_", name).strip(" _")
    name = name.lstrip(".-_ ")
    name = name.rstrip(". ")  # Windows drops trailing dots and spaces, which renames the file
    return name


def _cap_utf8(name: str, limit: int) -> str:
    """Shorten ``name`` to ``limit`` bytes of UTF-8, keeping a short extension."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    suffix = "." + ext if ext else ""
    budget = limit - len(suffix.encode("utf-8"))
    shortened = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(". ")
    return (shortened or "attachment") + suffix
