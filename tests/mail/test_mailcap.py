"""Reading mailcap files and turning an entry into an argument list, never a shell string
holding anything from a message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuimail.mail.mailcap import (
    MailcapEntry,
    command_argv,
    file_suffix,
    matching,
    parse_mailcap,
    reads_stdin,
)

MAILCAP = r"""
# a comment
text/html; w3m -dump -T text/html %s; copiousoutput; nametemplate=%s.html
application/pdf; evince '%s'; test=test -n "$DISPLAY"
text; less %s; \
  needsterminal
application/x-semi; printf 'a\;b' %s
broken line without command
image/*; man -l %s | col -b; copiousoutput
"""


def test_a_mailcap_file_gives_its_entries_in_order_with_flags_tests_and_templates() -> None:
    entries = parse_mailcap(MAILCAP)
    assert [e.content_type for e in entries] == [
        "text/html",
        "application/pdf",
        "text/*",
        "application/x-semi",
        "image/*",
    ]
    html, pdf, text, semi, _image = entries
    assert html.copiousoutput and not html.needsterminal and html.nametemplate == "%s.html"
    assert pdf.test == 'test -n "$DISPLAY"' and pdf.command == "evince '%s'"
    assert text.needsterminal and text.command == "less %s"
    assert semi.command == "printf 'a;b' %s"


def test_the_first_entry_of_a_type_or_its_wildcard_matches_first() -> None:
    entries = parse_mailcap(MAILCAP)
    assert [e.command for e in matching(entries, "TEXT/HTML")] == [
        "w3m -dump -T text/html %s",
        "less %s",
    ]
    assert matching(entries, "application/zip") == []


def test_a_plain_command_runs_without_a_shell_and_the_file_is_one_argument() -> None:
    path = '/tmp/x/a b\'; $(touch p) "q".pdf'
    assert command_argv("evince '%s'", path, "application/pdf") == ["evince", path]
    assert command_argv("w3m -T %t --file=%s", path, "text/html") == [
        "w3m",
        "-T",
        "text/html",
        f"--file={path}",
    ]


def test_a_command_that_needs_the_shell_gets_the_file_and_type_as_positional_parameters() -> None:
    argv = command_argv("man -l '%s' | col -b > out.%t", "/tmp/p", "text/x;rm -rf ~")
    assert argv[:2] == ["/bin/sh", "-c"]
    assert argv[2] == 'man -l "${1}" | col -b > out."${2}"'
    assert argv[3:] == ["tuimail-mailcap", "/tmp/p", "text/xrm-rf"], "the type is cut to a type"


@given(st.text(st.characters(blacklist_characters="\0"), min_size=1))
def test_no_file_name_or_type_ever_becomes_part_of_a_shell_string(value: str) -> None:
    for command in ("view %s | less", "view %t %s; true"):
        argv = command_argv(command, value, value)
        assert argv[2] == command_argv(command, "/p", "a/b")[2], "the script is always the same"
        assert value in argv[3:]
    assert command_argv("view %s", value, "a/b") == ["view", value]


def test_a_command_without_percent_s_reads_the_file_on_standard_input() -> None:
    assert reads_stdin("nroff -mandoc") and not reads_stdin("less '%s'")


def test_the_temporary_file_takes_a_plain_ending_never_the_attachment_name() -> None:
    entry = MailcapEntry("application/pdf", "evince %s")
    assert file_suffix(entry, "../../.bashrc; rm -rf ~.pdf") == ".pdf"
    assert file_suffix(entry, "evil.p$(x)") == ""
    assert file_suffix(MailcapEntry("text/html", "w3m %s", nametemplate="%s.html"), "x") == ".html"
