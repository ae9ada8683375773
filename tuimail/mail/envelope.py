"""Values that describe a message without its body; they cross every layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tuimail.mail.values import fast_frozen


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: a display name (may be empty) and an address."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@fast_frozen
class Envelope:
    """What the index needs to know about a message, decoded and sanitised.

    Strings here are already free of control characters and escape sequences: they come from
    ``mail.parse`` (which runs them through ``mail.sanitize``) or from an IMAP ENVELOPE decoded
    the same way.
    """

    message_id: str | None
    subject: str
    from_: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime | None = None  # timezone-aware
    in_reply_to: str | None = None
    references: tuple[str, ...] = field(default_factory=tuple)
    size: int = 0
    has_attachments: bool = False
    preview: str = ""  # the start of the text body, whitespace collapsed; "" when unknown
