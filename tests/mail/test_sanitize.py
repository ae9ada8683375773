"""Tests for tuimail.mail.sanitize: nothing that reaches the screen can drive the terminal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.mail.strategies import ATTACKS, HOSTILE_TEXT, assert_line_safe, assert_text_safe
from tuimail.mail.sanitize import safe_filename, sanitize_line, sanitize_text

# --- escape sequences -------------------------------------------------------------------------


def test_csi_colour_sequence_is_removed_entirely() -> None:
    assert sanitize_text("a\x1b[1;31mred\x1b[0m b") == "ared b"


def test_osc_hyperlink_in_subject_is_removed() -> None:
    subject = "Invoice \x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\ now"
    assert sanitize_line(subject) == "Invoice click here now"


def test_osc_title_terminated_by_bel_is_removed() -> None:
    assert sanitize_line("x\x1b]0;pwned\x07y") == "xy"


def test_osc_clipboard_write_is_removed() -> None:
    assert sanitize_text("a\x1b]52;c;ZWNobyBoaQ==\x07b") == "ab"


def test_osc_terminated_by_8bit_string_terminator_is_removed() -> None:
    assert sanitize_line("a\x1b]2;t\x9cb") == "ab"


@pytest.mark.parametrize("introducer", ["P", "X", "^", "_"])
def test_dcs_sos_pm_and_apc_strings_are_removed(introducer: str) -> None:
    assert sanitize_text(f"a\x1b{introducer}payload;1;2\x1b\\b") == "ab"


def test_8bit_csi_is_removed_entirely() -> None:
    assert sanitize_text("a\x9b31mred") == "ared"


def test_8bit_osc_is_removed_entirely() -> None:
    assert sanitize_line("a\x9d0;title\x9cb") == "ab"


def test_terminal_reset_sequence_is_removed() -> None:
    assert sanitize_text("a\x1bcb") == "ab"


def test_charset_designation_sequence_is_removed() -> None:
    assert sanitize_text("a\x1b(0lqk\x1b(Bb") == "alqkb"


def test_lone_escape_at_the_end_is_removed() -> None:
    assert sanitize_line("subject\x1b") == "subject"


def test_run_of_escapes_before_a_sequence_is_removed() -> None:
    assert sanitize_text("\x1b\x1b\x1b[31mZ") == "Z"


def test_unterminated_osc_leaves_no_escape_and_keeps_the_text_after_it() -> None:
    result = sanitize_text("a\x1b]0;title\nnext line")
    assert "\x1b" not in result
    assert result.endswith("next line")


def test_sequence_split_by_a_control_leaves_no_escape() -> None:
    result = sanitize_text("\x1b\x00[31mtext")
    assert "\x1b" not in result
    assert "\x00" not in result


# --- single characters ------------------------------------------------------------------------


def test_body_keeps_newlines_and_tabs_but_drops_other_c0_controls() -> None:
    assert sanitize_text("a\tb\nc\x00d\x07e\x08f\x0bg\x0ch") == "a\tb\ncdefgh"


def test_body_turns_crlf_and_lone_cr_into_newlines() -> None:
    assert sanitize_text("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_line_turns_line_breaks_and_tabs_into_spaces() -> None:
    assert sanitize_line("a\r\nb\nc\td\re") == "a b c d e"


def test_line_turns_unicode_separators_and_nel_into_spaces() -> None:
    assert sanitize_line("a\u2028b\u2029c\x85d") == "a b c d"


def test_del_and_c1_controls_are_removed() -> None:
    assert sanitize_text("a\x7fb\x80c\x9fd\x85e") == "abcde"


@pytest.mark.parametrize("control", list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
def test_bidi_embeddings_overrides_and_isolates_are_removed(control: str) -> None:
    assert sanitize_line(f"invoice{control}fdp.exe") == "invoicefdp.exe"


def test_direction_marks_and_zero_width_joiners_are_kept() -> None:
    text = "abc\u200edef\u200f \u061c 👩\u200d💻 a\u200cb"
    assert sanitize_text(text) == text
    assert sanitize_line(text) == text


def test_lone_surrogates_become_a_replacement_character() -> None:
    assert sanitize_line("a\udcffb") == "a\ufffdb"
    assert sanitize_text("a\udc80\udc81b") == "a\ufffdb"


def test_clean_text_is_returned_as_the_same_object() -> None:
    text = "Grüße aus Zürich — 日本語\n\tindented\n"
    assert sanitize_text(text) is text
    assert sanitize_line("plain subject") == "plain subject"


def test_empty_strings_stay_empty() -> None:
    assert sanitize_text("") == ""
    assert sanitize_line("") == ""


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_known_attack_is_neutralised(attack: str) -> None:
    assert_text_safe(sanitize_text(f"before{attack}after"))
    assert_line_safe(sanitize_line(f"before{attack}after"))


# --- properties -------------------------------------------------------------------------------


@given(HOSTILE_TEXT)
def test_sanitized_text_never_contains_unsafe_characters(text: str) -> None:
    assert_text_safe(sanitize_text(text))


@given(HOSTILE_TEXT)
def test_sanitized_line_never_contains_unsafe_characters_or_line_breaks(text: str) -> None:
    assert_line_safe(sanitize_line(text))


@given(st.text())
def test_sanitizing_twice_changes_nothing_more(text: str) -> None:
    once = sanitize_text(text)
    assert sanitize_text(once) == once
    line = sanitize_line(text)
    assert sanitize_line(line) == line


@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"])))
def test_printable_text_passes_through_unchanged(text: str) -> None:
    assert sanitize_line(text) == text
    assert sanitize_text(text) == text


# --- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../.bashrc", "bashrc"),
        ("/etc/passwd", "passwd"),
        ("C:\\Windows\\System32\\evil.dll", "evil.dll"),
        ("a;rm -rf ~", "a_rm -rf"),
        ("$(reboot).txt", "reboot_.txt"),
        ("-rf", "rf"),
        ("report.pdf", "report.pdf"),
        ("Grüße.txt", "Grüße.txt"),
    ],
)
def test_safe_filename_keeps_only_a_harmless_base_name(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["CON", "con.txt", "NUL", "nul.tar.gz", "COM1", "LPT9.doc", "aux"])
def test_safe_filename_prefixes_windows_device_names(name: str) -> None:
    assert safe_filename(name) == "_" + name


@pytest.mark.parametrize("name", [None, "", "..", ".", "   ", "/", "\x1b[31m", "\u202e"])
def test_safe_filename_falls_back_when_nothing_is_left(name: str | None) -> None:
    assert safe_filename(name) == "attachment"
    assert safe_filename(name, fallback="part-2.png") == "part-2.png"


def test_safe_filename_caps_long_names_at_200_bytes_and_keeps_the_extension() -> None:
    result = safe_filename("x" * 500 + ".pdf")
    assert len(result.encode()) <= 200
    assert result.endswith(".pdf")


def test_safe_filename_never_cuts_a_multibyte_character() -> None:
    result = safe_filename("ü" * 300 + ".jpeg")
    assert len(result.encode()) <= 200
    assert result.endswith(".jpeg")
    assert "\ufffd" not in result


def test_safe_filename_removes_escape_sequences_and_bidi_overrides() -> None:
    assert safe_filename("photo\u202egnp.exe") == "photognp.exe"
    assert safe_filename("a\x1b]8;;x\x07b.txt") == "ab.txt"


@given(st.one_of(st.none(), HOSTILE_TEXT, st.text(max_size=600)))
def test_safe_filename_is_always_a_plain_nonempty_base_name(name: str | None) -> None:
    result = safe_filename(name)
    assert result
    assert len(result.encode()) <= 200
    assert "/" not in result and "\\" not in result
    assert not result.startswith((".", "-"))
    assert result not in {".", ".."}
    assert_line_safe(result)
    assert not set(result) & set(";&|$`<>*?\"'")
