"""What the demo servers hold: folders of generated mail addressed to the demo user.

The messages come from ``demo.mailbox.generate``; this module only decides how many go where,
which flags they carry, and adds the few hand-written ones a visitor should see first (the
welcome message at the top of the Inbox, drafts, some junk).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime

from tuimail.demo.mailbox import generate

WELCOME_SUBJECT = "Welcome to the tuimail demo"
POP3_WELCOME_SUBJECT = "Your POP3 demo mailbox"
_STEP = timedelta(minutes=7)  # the generator's spacing between messages
_TO = re.compile(rb"^To: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*", re.MULTILINE)
_FROM = re.compile(rb"^From: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SeedMessage:
    """One message to put in a folder, with its IMAP flags and arrival time."""

    raw: bytes
    flags: frozenset[str]
    when: datetime


@dataclass(frozen=True, slots=True)
class SeedFolder:
    """A folder of the demo IMAP account; ``special_use`` is its RFC 6154 attribute."""

    name: str
    special_use: str | None
    messages: tuple[SeedMessage, ...]


def _readdress(raw: bytes, pattern: re.Pattern[bytes], header: bytes) -> bytes:
    """Replace the first To/From header (in the header block only) with ``header``."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    return pattern.sub(header.replace(b"\\", b"\\\\"), head, count=1) + sep + body


def _generated(
    count: int,
    seed: int,
    newest: datetime,
    *,
    to: bytes | None = None,
    sender: bytes | None = None,
    all_seen: bool = False,
) -> list[SeedMessage]:
    """``count`` generated messages ending at ``newest``, re-addressed to or from the user."""
    start = newest - _STEP * count
    result = []
    for n, message in enumerate(generate(count, seed, start=start, domain="demo.example.org")):
        raw = message.raw
        if to is not None:
            raw = _readdress(raw, _TO, b"To: " + to)
        if sender is not None:
            raw = _readdress(raw, _FROM, b"From: " + sender)
        flags = set()
        if all_seen or message.seen:
            flags.add("\\Seen")
        if n % 13 == 5:
            flags.add("\\Flagged")
        if n % 11 == 3 and "\\Seen" in flags:
            flags.add("\\Answered")
        result.append(SeedMessage(raw, frozenset(flags), start + _STEP * n))
    return result


def _message_key(subject: str, when: datetime) -> str:
    """A stable local part for a hand-written message's Message-ID."""
    return hashlib.sha256(f"{subject}|{when.isoformat()}".encode()).hexdigest()[:20]


def _written(sender: str, to: str, subject: str, when: datetime, text: str) -> bytes:
    """A short hand-written plain-text message."""
    body = text.strip().replace("\n", "\r\n")
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {format_datetime(when)}\r\n"
        f"Message-ID: <{_message_key(subject, when)}@demo.tuimail.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n'
        f"\r\n{body}\r\n"
    ).encode()


WELCOME_TEXT = """
Hello!

This is tuimail running on demo servers inside this process: an IMAP server (this account),
a POP3 server (the demo-pop account) and an SMTP server that delivers to both. Nothing here
touches your own mail or config, and everything is thrown away when you quit.

Try:
  j / k        move in the index          Enter   open a message
  Tab          next pane                   o       date order / threads
  d            delete (to Trash)           s       move to a folder
  N            mark read / unread          F       flag
  $            sync now                    ?       every key, where you are
  q            back, and quit from the index

Mail sent to {address} lands in this Inbox a moment later.
"""


def imap_folders(address: str, now: datetime) -> list[SeedFolder]:
    """The demo IMAP account's folders: a few hundred messages, newest ending at ``now``."""
    to = f"You <{address}>".encode()
    inbox = _generated(240, 11, now - timedelta(minutes=5), to=to)
    welcome = _written(
        "tuimail <hello@demo.tuimail.test>",
        f"You <{address}>",
        WELCOME_SUBJECT,
        now,
        WELCOME_TEXT.format(address=address),
    )
    inbox.append(SeedMessage(welcome, frozenset(), now))
    sent = _generated(40, 12, now - timedelta(hours=3), sender=to, all_seen=True)
    archive = _generated(80, 13, now - timedelta(days=30), to=to, all_seen=True)
    trash = _generated(6, 14, now - timedelta(days=2), to=to, all_seen=True)
    drafts = [
        SeedMessage(
            _written(
                f"You <{address}>",
                "Ann Example <ann@example.org>",
                subject,
                now - timedelta(hours=hours),
                text,
            ),
            frozenset({"\\Draft", "\\Seen"}),
            now - timedelta(hours=hours),
        )
        for subject, hours, text in (
            ("Re: Lunch on Friday?", 2, "Friday works for me. Where"),
            ("Notes for the release", 20, "- changelog\n- tag\n- announce"),
        )
    ]
    junk = [
        SeedMessage(
            _written(
                "Prize Department <winner@lottery.example.com>",
                address,
                subject,
                now - timedelta(hours=n * 5),
                "Click the link to claim your reward within 24 hours!!!",
            ),
            frozenset(),
            now - timedelta(hours=n * 5),
        )
        for n, subject in enumerate(
            ("You have WON!!!", "Urgent: account suspended", "Cheap watches, 90% off"), 1
        )
    ]
    return [
        SeedFolder("INBOX", None, tuple(inbox)),
        SeedFolder("Sent", "\\Sent", tuple(sent)),
        SeedFolder("Archive", "\\Archive", tuple(archive)),
        SeedFolder("Drafts", "\\Drafts", tuple(drafts)),
        SeedFolder("Trash", "\\Trash", tuple(trash)),
        SeedFolder("Junk", "\\Junk", tuple(junk)),
    ]


def pop3_messages(address: str, now: datetime) -> list[bytes]:
    """The demo POP3 maildrop, oldest first."""
    to = f"You <{address}>".encode()
    messages = [m.raw for m in _generated(60, 21, now - timedelta(minutes=30), to=to)]
    messages.append(
        _written(
            "tuimail <hello@demo.tuimail.test>",
            f"You <{address}>",
            POP3_WELCOME_SUBJECT,
            now,
            "This account reads a POP3 server: the messages are downloaded into the local\n"
            "store, which then holds the only copy that matters.",
        )
    )
    return messages
