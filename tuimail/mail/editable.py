"""A draft as the text an external editor edits (headers, a blank line, the body) and back.

The editor sees From, To, Cc, Bcc and Subject as plain header lines; anything the user writes
there comes back into the draft's fields. Threading headers and attachments are not shown and
are kept from the draft that was edited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from email.utils import getaddresses

from tuimail.errors import TuimailError
from tuimail.mail.compose import Draft, Identity, format_address

EDITABLE_HEADERS = ("From", "To", "Cc", "Bcc", "Subject")


class EditedTextError(TuimailError):
    """The edited text cannot be read back as a message (a header line without a colon)."""


def split_addresses(field: str) -> tuple[str, ...]:
    """A comma-separated address field as separate ``Name <email>`` items (quotes respected)."""
    found = getaddresses([field])
    return tuple(format_address(name, email) for name, email in found if email or name)


def draft_to_text(draft: Draft) -> str:
    """The draft as editable text: header lines, a blank line, the body."""
    sender = draft.from_identity
    values = (
        format_address(sender.display_name, sender.email),
        ", ".join(draft.to),
        ", ".join(draft.cc),
        ", ".join(draft.bcc),
        draft.subject,
    )
    head = "".join(
        f"{name}: {value}\n" for name, value in zip(EDITABLE_HEADERS, values, strict=True)
    )
    return f"{head}\n{draft.body}"


def draft_from_text(text: str, draft: Draft, identities: Sequence[Identity]) -> Draft:
    """Read edited text back into ``draft``; a From that is none of ``identities`` is kept as is."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    fields: dict[str, str] = {}
    last = ""
    for line in head.split("\n"):
        if not line.strip():
            continue
        if line[0] in " \t" and last:  # a folded continuation line
            fields[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise EditedTextError(f"the line {line[:40]!r} above the body is not a header")
        last = name.strip().capitalize()
        fields[last] = value.strip()
    changes: dict[str, object] = {"body": body}
    for name in ("To", "Cc", "Bcc"):
        if name in fields:
            changes[name.lower()] = split_addresses(fields[name])
    if "Subject" in fields:
        changes["subject"] = fields["Subject"]
    if "From" in fields:
        changes["from_identity"] = _identity(fields["From"], draft.from_identity, identities)
    return dataclasses.replace(draft, **changes)  # type: ignore[arg-type]


def _identity(value: str, current: Identity, identities: Sequence[Identity]) -> Identity:
    found = getaddresses([value])
    if not found or not found[0][1]:
        return current
    name, email = found[0]
    for identity in identities:
        if identity.email.casefold() == email.casefold():
            return identity
    return Identity(email, name)
