"""Names and addresses from a vCard file (2.1, 3.0 or 4.0), for address completion.

Only what completion needs is read: FN (else N) and each EMAIL of every card. Lines are
unfolded first (RFC 6350 3.2); groups (``item1.EMAIL``) and parameters are ignored apart from
2.1's quoted-printable encoding. Anything else in the file is skipped, never an error.
"""

from __future__ import annotations

import quopri
from dataclasses import dataclass

from tuimail.mail.sanitize import sanitize_line


@dataclass(frozen=True, slots=True)
class Contact:
    """One address of a card, under the card's name (which may be empty)."""

    name: str
    email: str


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        elif line.strip():
            lines.append(line)
    return lines


def _unescape(value: str) -> str:
    out = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(" " if following in ("n", "N") else following)
        else:
            out.append(char)
    return "".join(out)


def _property(line: str) -> tuple[str, dict[str, str], str] | None:
    """(NAME, parameters, value) of one unfolded content line, or None if it is not one."""
    head, colon, value = line.partition(":")
    if not colon:
        return None
    name, *params = head.split(";")
    parameters: dict[str, str] = {}
    for param in params:
        key, _, param_value = param.partition("=")
        parameters[key.strip().upper()] = param_value.strip().strip('"')
    return name.rpartition(".")[2].strip().upper(), parameters, value


def _decoded(parameters: dict[str, str], value: str) -> str:
    if parameters.get("ENCODING", "").upper() in ("QUOTED-PRINTABLE", "QP"):
        charset = parameters.get("CHARSET", "utf-8")
        try:
            return quopri.decodestring(value.encode("ascii", "replace")).decode(charset, "replace")
        except LookupError:  # an unknown charset name
            return quopri.decodestring(value.encode("ascii", "replace")).decode("utf-8", "replace")
    return value


def _name_from_n(value: str) -> str:
    family, _, rest = value.partition(";")
    given = rest.partition(";")[0]
    return " ".join(part for part in (_unescape(given), _unescape(family)) if part)


def parse_vcards(text: str) -> list[Contact]:
    """Every (name, address) pair of every card in ``text``, in file order."""
    contacts: list[Contact] = []
    name = n_name = ""
    emails: list[str] = []
    for line in _unfold(text):
        parsed = _property(line)
        if parsed is None:
            continue
        prop, parameters, raw_value = parsed
        value = _decoded(parameters, raw_value)
        if prop == "BEGIN":
            name, n_name, emails = "", "", []
        elif prop == "FN":
            name = _unescape(value).strip()
        elif prop == "N":
            n_name = _name_from_n(value).strip()
        elif prop == "EMAIL":
            address = _unescape(value).strip().removeprefix("mailto:")
            if "@" in address and not any(c.isspace() for c in address):
                emails.append(address)
        elif prop == "END":
            shown = sanitize_line(name or n_name)
            contacts.extend(Contact(shown, sanitize_line(email)) for email in emails)
            emails = []
    return contacts
