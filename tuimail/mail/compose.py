"""New messages, replies and forwards as editable ``Draft`` values, and the bytes we submit.

Pure functions: bytes and values in, values out. A ``Draft`` is what the compose screen edits;
``draft_to_message`` turns it into an ``EmailMessage`` and ``finalize`` into the exact bytes
for the outbox, with the envelope sender and recipients (Bcc is in the envelope, never in the
bytes). Messages are generated 7-bit clean (non-ASCII bodies become quoted-printable or base64,
headers RFC 2047), so they pass any server without depending on 8BITMIME.
"""

from __future__ import annotations

import copy
import mimetypes
import re
import textwrap
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, Message
from email.utils import format_datetime, localtime
from pathlib import Path
from typing import Literal

from tuimail.errors import TuimailError
from tuimail.mail.envelope import Address
from tuimail.mail.parse import (
    addresses,
    envelope_from_bytes,
    is_attachment,
    parse_message,
    part_text,
    raw_header_values,
    walk_leaves,
)
from tuimail.mail.render import attachment_bytes, render_message
from tuimail.mail.sanitize import safe_filename, sanitize_line

# 7bit: every body is encoded so the message is ASCII; SMTP: CRLF line ends, 78-column headers.
POLICY = policy.SMTP.clone(cte_type="7bit")
MAX_REFERENCES = 20  # RFC 5322 3.6.4 lets a long chain be trimmed; keep the root and the newest

Attachment = Path | tuple[str, bytes, str]
"""A file to attach: a path, or (file name, content, MIME type)."""
ReplyMode = Literal["sender", "all", "list"]

_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:re|aw|sv|vs|antw|odp|rif|res)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*:)+\s*", re.IGNORECASE
)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr)\s*:", re.IGNORECASE)
_NEEDS_QUOTES = re.compile(r'[][\\()<>@,:;".]')
FORWARD_MARKER = "---------- Forwarded message ----------"


class ComposeError(TuimailError):
    """A message cannot be built as asked (no recipients, a bad address, no list address)."""


@dataclass(frozen=True)
class Identity:
    """A From address we send as, with its name and signature."""

    email: str
    display_name: str = ""
    signature: str = ""

    @property
    def domain(self) -> str:
        """The part after ``@``: our Message-IDs end in it."""
        return self.email.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class Draft:
    """A message being written: what the compose screen shows and edits."""

    from_identity: Identity
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()


def format_address(name: str, email: str) -> str:
    """``Name <email>`` for an editable field, quoting a name that holds commas or dots."""
    if not name:
        return email
    if _NEEDS_QUOTES.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{email}>"


def reply_subject(subject: str) -> str:
    """``Re: subject`` without stacking ``Re: RE: AW: Re[2]:`` prefixes."""
    return "Re: " + _REPLY_PREFIX.sub("", subject).strip()


def forward_subject(subject: str) -> str:
    """``Fwd: subject`` unless it already says it is a forward."""
    subject = subject.strip()
    return subject if _FORWARD_PREFIX.match(subject) else f"Fwd: {subject}"


QUOTE_WIDTH = 72  # quoted lines are hard-wrapped here, each piece with its marks
_QUOTE_MARKS = re.compile(r">(?:[ \t]?>)*[ \t]?")


def quote(text: str, width: int = QUOTE_WIDTH) -> str:
    """Quote text for a reply: ``> `` before each line, one more ``>`` on already quoted ones;
    a line longer than ``width`` is wrapped and every piece carries the marks (words longer
    than a line, such as URLs, are not broken)."""
    quoted: list[str] = []
    for line in text.rstrip("\n").split("\n"):
        marks = _QUOTE_MARKS.match(line)
        depth = 1 + (marks.group().count(">") if marks else 0)
        content = line[marks.end() :] if marks else line
        prefix = ">" * depth
        if not content.strip():
            quoted.append(prefix)
            continue
        room = max(20, width - depth - 1)
        pieces = (
            [content]
            if len(content) <= room
            else textwrap.wrap(content, room, break_long_words=False, break_on_hyphens=False)
        )
        quoted.extend(f"{prefix} {piece}" for piece in pieces)
    return "\n".join(quoted)


def new_message(
    identity: Identity,
    to: Sequence[str],
    cc: Sequence[str],
    bcc: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
    domain: str | None = None,
) -> EmailMessage:
    """A new message from ``identity``, with a Message-ID in ``domain`` (the identity's)."""
    draft = Draft(
        identity, tuple(to), tuple(cc), tuple(bcc), subject, body, attachments=tuple(attachments)
    )
    msg = draft_to_message(draft)
    msg["Message-ID"] = _message_id(domain or identity.domain)
    return msg


def draft_to_message(draft: Draft) -> EmailMessage:
    """The ``EmailMessage`` a draft describes (no Date or Message-ID yet: see ``finalize``)."""
    msg = EmailMessage(policy=POLICY)
    identity = draft.from_identity
    if "@" not in identity.email:
        raise ComposeError(f"From: {identity.email!r} is not an email address")
    msg["From"] = HeaderAddress(_one_line(identity.display_name), addr_spec=identity.email)
    for name, values in (("To", draft.to), ("Cc", draft.cc), ("Bcc", draft.bcc)):
        joined = ", ".join(_one_line(v) for v in values if v.strip())
        if joined:
            msg[name] = joined
    msg["Subject"] = _one_line(draft.subject)
    if draft.in_reply_to:
        msg["In-Reply-To"] = _one_line(draft.in_reply_to)
    if draft.references:
        msg["References"] = " ".join(_one_line(r) for r in draft.references)
    msg.set_content(draft.body, charset="utf-8")
    for attachment in draft.attachments:
        _attach(msg, attachment)
    return msg


def _attach(msg: EmailMessage, attachment: Attachment) -> None:
    if isinstance(attachment, Path):
        name, data = attachment.name, attachment.read_bytes()
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    else:
        name, data, mimetype = attachment
    maintype, _, subtype = mimetype.lower().partition("/")
    if (maintype, subtype) == ("message", "rfc822"):
        _attach_message(msg, data, name)
        return
    msg.add_attachment(
        data, maintype=maintype, subtype=subtype or "octet-stream", filename=_one_line(name)
    )


def _attach_message(msg: EmailMessage, raw: bytes, name: str) -> None:
    # RFC 2046 5.2.1 forbids base64 for message/rfc822: an ASCII message goes in verbatim,
    # anything else is re-encoded part by part, which keeps the outer message 7-bit.
    if raw.isascii():
        msg.add_attachment(raw, maintype="message", subtype="rfc822", cte="7bit", filename=name)
    else:
        msg.add_attachment(parse_message(raw), cte="7bit", filename=name)


def finalize(msg: EmailMessage, identity: Identity) -> tuple[bytes, str, tuple[str, ...]]:
    """The bytes to submit, the envelope sender and the recipients (To, Cc and Bcc).

    Sets Date, a Message-ID in the identity's domain when there is none, MIME-Version, and
    appends the signature below ``-- ``. The Bcc header is removed from the bytes.
    """
    msg = copy.deepcopy(msg)
    if msg["From"] is None:
        msg["From"] = HeaderAddress(_one_line(identity.display_name), addr_spec=identity.email)
    recipients = _envelope_recipients(msg)
    if not recipients:
        raise ComposeError("the message has no recipients: add one to To, Cc or Bcc")
    del msg["Bcc"]
    del msg["Date"]
    msg["Date"] = format_datetime(localtime())
    if msg["Message-ID"] is None:
        msg["Message-ID"] = _message_id(identity.domain)
    if msg["MIME-Version"] is None:
        msg["MIME-Version"] = "1.0"
    if identity.signature.strip():
        _append_signature(msg, identity.signature)
    _drop_inner_mime_versions(msg)
    return msg.as_bytes(policy=POLICY), identity.email, recipients


def _envelope_recipients(msg: EmailMessage) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for name in ("To", "Cc", "Bcc"):
        for header in msg.get_all(name, []):
            for address in header.addresses:
                addr = address.addr_spec
                if "@" not in addr.strip("@"):
                    raise ComposeError(f"{name}: {addr or str(address)!r} is not an email address")
                found.setdefault(addr.casefold(), addr)
    return tuple(found.values())


def _append_signature(msg: EmailMessage, signature: str) -> None:
    body = msg.get_body(preferencelist=("plain",))
    if not isinstance(body, EmailMessage):
        return
    text = body.get_content().replace("\r\n", "\n")
    signature = signature.strip("\n")
    if f"-- \n{signature}" in text:
        return  # already there: finalizing an edited message again must not add a second
    body.set_content(text.rstrip("\n") + f"\n\n-- \n{signature}\n", charset="utf-8")


def _drop_inner_mime_versions(msg: EmailMessage) -> None:
    """add_attachment gives every part its own MIME-Version; only the top level needs one."""
    if not msg.is_multipart() or msg.get_content_maintype() != "multipart":
        return
    for part in msg.iter_parts():
        del part["MIME-Version"]
        if isinstance(part, EmailMessage):
            _drop_inner_mime_versions(part)


def reply(
    original_raw: bytes,
    identity_pool: Sequence[Identity],
    *,
    mode: ReplyMode,
    body_prefix: str = "",
) -> Draft:
    """A reply to the sender, to all, or to the list, from the identity it was addressed to.

    Honours Reply-To and Mail-Followup-To; the original is quoted below an attribution line.
    """
    identity = pick_identity(original_raw, identity_pool)
    mine = {i.email.casefold() for i in identity_pool}
    env = envelope_from_bytes(original_raw)
    msg = parse_message(original_raw)
    followup = addresses(msg, "mail-followup-to")
    from_me = bool(env.from_) and env.from_[0].email.casefold() in mine
    # Replying to a message we sent ourselves continues to its recipients, not to us.
    primary = env.to if from_me else (env.reply_to or env.from_)
    cc: tuple[Address, ...] = ()
    if mode == "sender":
        to = primary
    elif mode == "all":
        to, cc = (followup, ()) if followup else (primary, env.to + env.cc)
    else:
        to = followup or _list_post(msg)
    to_kept = _without(to, mine, ()) or to
    cc_kept = _without(cc, mine, to_kept)
    text = _without_signature(render_message(original_raw).body)
    body = _attribution(env.date, env.from_) + "\n" + quote(text) + "\n"
    if body_prefix:
        body = body_prefix.rstrip("\n") + "\n\n" + body
    references = list(env.references) or ([env.in_reply_to] if env.in_reply_to else [])
    if env.message_id:
        references.append(env.message_id)
    return Draft(
        from_identity=identity,
        to=tuple(format_address(a.name, a.email) for a in to_kept),
        cc=tuple(format_address(a.name, a.email) for a in cc_kept),
        subject=reply_subject(env.subject),
        body=body,
        in_reply_to=env.message_id,
        references=_trim_references(list(dict.fromkeys(references))),
    )


def _without(
    found: Iterable[Address], mine: set[str], already: Iterable[Address]
) -> tuple[Address, ...]:
    """Addresses minus our own, minus ``already``, each once (compared case-insensitively)."""
    seen = {a.email.casefold() for a in already} | mine
    kept = []
    for address in found:
        key = address.email.casefold()
        if key and key not in seen:
            seen.add(key)
            kept.append(address)
    return tuple(kept)


def _list_post(msg: Message) -> tuple[Address, ...]:
    """The list address from List-Post (RFC 2369), e.g. ``<mailto:list@example.org>``."""
    for value in raw_header_values(msg, "list-post"):
        match = re.search(r"<mailto:([^>?\s]+)", value, re.IGNORECASE)
        if match:
            return (Address("", match.group(1)),)
        if value.strip().upper() == "NO":
            raise ComposeError("this mailing list does not accept posts (List-Post: NO)")
    raise ComposeError("this message did not come from a mailing list (it has no List-Post)")


def _without_signature(text: str) -> str:
    """The text above the sender's ``-- `` line: signatures are not quoted back."""
    head, marker, _signature = text.rpartition("\n-- \n")
    return head if marker else text


def _attribution(date: datetime | None, senders: tuple[Address, ...]) -> str:
    who = (senders[0].name or senders[0].email) if senders else "someone"
    if date is None:
        return f"{who} wrote:"
    return f"On {date:%a, %d %b %Y %H:%M}, {who} wrote:"


def _trim_references(references: list[str]) -> tuple[str, ...]:
    if len(references) <= MAX_REFERENCES:
        return tuple(references)
    return (references[0], *references[-(MAX_REFERENCES - 1) :])


def forward(original_raw: bytes, identity: Identity, *, inline: bool) -> Draft:
    """A forward: the original's text and attachments inline, or the whole message attached."""
    env = envelope_from_bytes(original_raw)
    subject = forward_subject(env.subject)
    if not inline:
        name = safe_filename(f"{env.subject}.eml", fallback="forwarded.eml")
        return Draft(
            identity, subject=subject, attachments=((name, original_raw, "message/rfc822"),)
        )
    rendered = render_message(original_raw)
    headers = "\n".join(f"{name}: {value}" for name, value in rendered.headers)
    body = f"\n\n{FORWARD_MARKER}\n{headers}\n\n{rendered.body}\n"
    attachments = tuple(
        (*attachment_bytes(original_raw, info.index), info.content_type)
        for info in rendered.attachments
    )
    return Draft(identity, subject=subject, body=body, attachments=attachments)


def pick_identity(original_raw: bytes, identities: Sequence[Identity]) -> Identity:
    """The identity the original was sent to (To, then Cc, then Delivered-To), else the first."""
    if not identities:
        raise ComposeError("no identity to send from: set email in the account's config")
    by_address = {i.email.casefold(): i for i in reversed(identities)}
    msg = parse_message(original_raw)
    for header in ("to", "cc", "delivered-to", "x-original-to"):
        for address in addresses(msg, header):
            if address.email.casefold() in by_address:
                return by_address[address.email.casefold()]
    return identities[0]


def draft_from_bytes(raw: bytes, identities: Sequence[Identity]) -> Draft:
    """Reopen a saved draft or a message from the outbox as an editable ``Draft``."""
    msg = parse_message(raw)
    senders = addresses(msg, "from")
    identity = _identity_for(senders[0] if senders else None, identities)
    env = envelope_from_bytes(raw)
    body = next(
        (
            part_text(part, facts)
            for part, facts in walk_leaves(msg)
            if facts.content_type == "text/plain" and not is_attachment(facts)
        ),
        "",
    )
    rendered = render_message(raw)
    attachments = tuple(
        (*attachment_bytes(raw, info.index), info.content_type) for info in rendered.attachments
    )

    def listed(header: str) -> tuple[str, ...]:
        return tuple(format_address(a.name, a.email) for a in addresses(msg, header))

    return Draft(
        from_identity=identity,
        to=listed("to"),
        cc=listed("cc"),
        bcc=listed("bcc"),
        subject=env.subject,
        body=body.replace("\r\n", "\n"),
        in_reply_to=env.in_reply_to,
        references=env.references,
        attachments=attachments,
    )


def _identity_for(sender: Address | None, identities: Sequence[Identity]) -> Identity:
    for identity in identities:
        if sender is not None and identity.email.casefold() == sender.email.casefold():
            return identity
    if sender is not None:
        return Identity(sender.email, sender.name)
    if identities:
        return identities[0]
    raise ComposeError("this draft has no From address and no identity is configured")


def _message_id(domain: str) -> str:
    # Random rather than make_msgid(): that one embeds our process id and the local host name.
    return f"<{uuid.uuid4().hex}@{domain}>"


def _one_line(value: str) -> str:
    """A header value on one line: a pasted line break must not start a new header."""
    # sanitize_line also turns the separators str.splitlines() knows (FS, NEL, U+2028) into
    # spaces; the email package would refuse any of them in a header.
    return sanitize_line(value).strip()
