"""Mailcap files (RFC 1524), as mutt reads them: which program views a content type, and the
argument list that runs it on a file of ours.

The stdlib ``mailcap`` module is gone from Python 3.13 and built shell strings; this reader
never does. ``%s`` becomes the path of a file we wrote and ``%t`` the content type, each as one
argument: a plain command is split into words (no shell at all), and a command that needs the
shell (a pipe, a redirection) gets them as ``"$1"``, ``"$2"``... so that nothing from a message
is ever part of a shell string.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SHELL = "/bin/sh"
# Characters that ask for the shell: a pipe, a list, a redirection, an expansion, a glob.
_NEEDS_SHELL = re.compile(r"[|&;<>()$`*?~{}\[\]]")
_FIELD_SPLIT = re.compile(r"(?<!\\);")
_PLACEHOLDER = re.compile(r"""(['"]?)%(s|t|\{[A-Za-z0-9_.-]+\}|%)\1""")
_TYPE_TOKEN = re.compile(r"[^A-Za-z0-9/!#$&^_.+-]")


@dataclass(frozen=True, slots=True)
class MailcapEntry:
    """One line of a mailcap file: a content type (``text/html``, ``text/*``), the command
    that views it and the flags mutt honours."""

    content_type: str
    command: str
    copiousoutput: bool = False
    needsterminal: bool = False
    test: str | None = None
    nametemplate: str | None = None

    def matches(self, content_type: str) -> bool:
        """Whether this entry views ``content_type`` (its own type, or ``major/*``)."""
        wanted = content_type.lower()
        if self.content_type.endswith("/*"):
            return wanted.split("/", 1)[0] == self.content_type[:-2]
        return wanted == self.content_type


def parse_mailcap(text: str) -> list[MailcapEntry]:
    """The entries of a mailcap file, in order; comments, blank and malformed lines skipped."""
    entries = []
    for line in _logical_lines(text):
        fields = [f.strip().replace("\\;", ";") for f in _FIELD_SPLIT.split(line)]
        if len(fields) < 2 or not fields[0] or not fields[1]:
            continue
        content_type = fields[0].lower()
        if "/" not in content_type:
            content_type += "/*"  # RFC 1524: a bare major type means all of it
        flags: set[str] = set()
        values: dict[str, str] = {}
        for field in fields[2:]:
            key, equals, value = field.partition("=")
            if equals:
                values[key.strip().lower()] = value.strip()
            else:
                flags.add(key.lower())
        entries.append(
            MailcapEntry(
                content_type,
                fields[1],
                copiousoutput="copiousoutput" in flags,
                needsterminal="needsterminal" in flags,
                test=values.get("test") or None,
                nametemplate=values.get("nametemplate") or None,
            )
        )
    return entries


def _logical_lines(text: str) -> Iterable[str]:
    """Lines with backslash-newline continuations joined, comments and blanks left out."""
    pending = ""
    for raw in text.splitlines():
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pending += raw[:-1]
            continue
        line, pending = pending + raw, ""
        if line.strip() and not line.lstrip().startswith("#"):
            yield line
    if pending.strip() and not pending.lstrip().startswith("#"):
        yield pending


def matching(entries: Iterable[MailcapEntry], content_type: str) -> list[MailcapEntry]:
    """The entries that view ``content_type``, in file order (the first that passes its test
    is the one to use)."""
    return [entry for entry in entries if entry.matches(content_type)]


def safe_type(content_type: str) -> str:
    """A content type reduced to the characters a MIME type may hold (it came from a message)."""
    return _TYPE_TOKEN.sub("", content_type)[:127]


def command_argv(
    command: str, path: str, content_type: str, parameters: dict[str, str] | None = None
) -> list[str]:
    """The argument list that runs a mailcap command (or ``test=``) on the file at ``path``.

    ``%s`` is ``path``, ``%t`` the content type, ``%{name}`` a content-type parameter and
    ``%%`` a per cent sign; each one whole argument, quoted or not in the mailcap. Without
    ``%s`` the program reads the file on its standard input (the caller's part).
    """
    values = {"s": path, "t": safe_type(content_type)}
    for name, value in (parameters or {}).items():
        values["{" + name.lower() + "}"] = value
    if not _NEEDS_SHELL.search(_PLACEHOLDER.sub("x", command)):
        try:
            words = shlex.split(command)
        except ValueError:  # an unclosed quote: let the shell say what it thinks
            words = []
        if words:
            return [_substitute(word, values) for word in words]
    return _through_shell(command, values)


def _substitute(word: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        key = match.group(2)
        return "%" if key == "%" else values.get(key.lower(), "")

    return _PLACEHOLDER.sub(one, word)


def _through_shell(command: str, values: dict[str, str]) -> list[str]:
    """``sh -c`` with each placeholder a positional parameter: the values never enter the
    script, only ``"$1"`` and so on."""
    arguments: list[str] = []

    def one(match: re.Match[str]) -> str:
        key = match.group(2)
        if key == "%":
            return "%"
        arguments.append(values.get(key.lower(), ""))
        return f'"${{{len(arguments)}}}"'

    script = _PLACEHOLDER.sub(one, command)
    return [SHELL, "-c", script, "tuimail-mailcap", *arguments]


def reads_stdin(command: str) -> bool:
    """Whether the command takes its input on standard input (it has no ``%s``)."""
    return not any(m.group(2) == "s" for m in _PLACEHOLDER.finditer(command))


def file_suffix(entry: MailcapEntry, filename: str) -> str:
    """The ending the temporary file gets: from the entry's ``nametemplate=%s.pdf``, else from
    the attachment's name; letters and digits only (the name itself is never used)."""
    source = entry.nametemplate or filename
    _stem, dot, ext = source.rpartition(".")
    ext = ext if dot else ""
    return "." + ext if ext.isascii() and ext.isalnum() and len(ext) <= 10 else ""


def all_entries(texts: Sequence[str]) -> list[MailcapEntry]:
    """The entries of several mailcap files, in the order given (the user's first)."""
    return [entry for text in texts for entry in parse_mailcap(text)]
