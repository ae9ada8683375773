"""A seeded, realistic mailbox generator shared by the tests, the benchmarks and the demo.

Messages are built from templates by string formatting rather than through ``email.message``:
100k of them must take seconds. The variety is what a real mailbox throws at a client: threads
(In-Reply-To and References), RFC 2047 names and subjects, multipart/alternative with HTML,
attachments, and every ``malformed_every``-th message broken on purpose.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime

PEOPLE = [
    ("Ann Example", "ann@example.org"),
    ("Bob Builder", "bob@example.net"),
    ("Zoë Ångström", "zoe@example.se"),
    ("José Müller", "jose@example.de"),
    ("田中 太郎", "taro@example.jp"),
    ("Олег Петров", "oleg@example.ru"),
    ("", "noreply@lists.example.com"),
    ("Chloé Dubois", "chloe@example.fr"),
    ("Priya Nair", "priya@example.in"),
    ("Sam O'Neil", "sam@example.ie"),
]
TOPICS = [
    "Quarterly report",
    "Lunch on Friday?",
    "Release 2.4 planning",
    "Café meeting notes",
    "Über die Migration",
    "Résumé attached",
    "Build is red again",
    "Invoice #4471",
    "Trip to Kraków",
    "出張の件",
    "Welcome to the list",
    "Server maintenance tonight",
]
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "our",
    "build",
    "server",
    "compiles",
    "the",
    "next",
    "release",
    "and",
    "everyone",
    "waits",
    "for",
    "the",
    "tests",
    "to",
    "finish",
    "before",
    "lunch",
    "on",
    "a",
    "rainy",
    "friday",
]


@dataclass(frozen=True, slots=True)
class GeneratedMessage:
    """One generated message and the facts tests check against."""

    raw: bytes
    message_id: str
    subject: str
    seen: bool
    malformed: bool


def _encode_name(name: str, email: str) -> str:
    if not name:
        return email
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{email}>'
    return f"{Header(name, 'utf-8').encode()} <{email}>"


def _encode_subject(subject: str) -> str:
    return subject if subject.isascii() else Header(subject, "utf-8").encode()


_ENCODED_PEOPLE = [_encode_name(n, e) for n, e in PEOPLE]
_PDF = (
    base64.encodebytes(b"%PDF-1.4\n% tuimail test attachment\n" * 20).decode().replace("\n", "\r\n")
)


def _paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _body(rng: random.Random, kind: int, boundary: str, text: str) -> tuple[str, str]:
    """Content headers and body for one of four shapes: plain, alternative, attachment, HTML."""
    if kind == 0:
        return 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit', text
    html = "".join(f"<p>{line}</p>" for line in text.split("\r\n") if line)
    if kind == 1:
        return (
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
            f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f'<html><body>{html}<p><a href="https://example.org/x">details</a></p>'
            f"</body></html>\r\n--{boundary}--\r\n",
        )
    if kind == 2:
        return (
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
            f'--{boundary}\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
            f'Content-Disposition: attachment; filename="report.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{_PDF}\r\n--{boundary}--\r\n",
        )
    return (
        'Content-Type: text/html; charset="utf-8"',
        f"<html><body><h1>Newsletter</h1>{html}"
        f'<img src="https://tracker.example.com/pixel.gif"></body></html>',
    )


def generate(
    count: int,
    seed: int = 1,
    *,
    start: datetime | None = None,
    domain: str = "gen.example.org",
    malformed_every: int = 97,
    thread_ratio: float = 0.4,
) -> Iterator[GeneratedMessage]:
    """Yield ``count`` messages, oldest first, the same ones for the same seed."""
    rng = random.Random(seed)
    when = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    step = timedelta(minutes=7)
    recent: list[tuple[str, str, str]] = []  # (message id, references, subject) to reply to
    # A pool of bodies drawn once: drawing words per message would make 100k take ten seconds.
    texts = [
        "\r\n\r\n".join(_paragraph(rng, rng.randint(8, 40)) for _ in range(rng.randint(1, 4)))
        for _ in range(256)
    ]
    quotes = [_paragraph(rng, 12) + "\r\n> " + _paragraph(rng, 10) for _ in range(64)]
    for n in range(count):
        message_id = f"<{seed}.{n}@{domain}>"
        sender = rng.randrange(len(PEOPLE))
        rcpt = (sender + 1 + rng.randrange(len(PEOPLE) - 1)) % len(PEOPLE)
        threading = ""
        if recent and rng.random() < thread_ratio:
            parent_id, parent_refs, parent_subject = rng.choice(recent)
            refs = f"{parent_refs} {parent_id}".strip()
            subject = (
                parent_subject if parent_subject.startswith("Re: ") else f"Re: {parent_subject}"
            )
            threading = f"In-Reply-To: {parent_id}\r\nReferences: {refs}\r\n"
        else:
            refs = ""
            subject = f"{rng.choice(TOPICS)} ({n})"
        recent.append((message_id, refs, subject))
        if len(recent) > 50:
            recent.pop(0)
        text = rng.choice(texts)
        if threading:
            text += "\r\n\r\n> " + rng.choice(quotes)
        content_headers, body = _body(rng, rng.randrange(4), f"b{seed}x{n}", text)
        malformed = malformed_every > 0 and n % malformed_every == malformed_every - 1
        date = format_datetime(when + step * n)
        if malformed:
            # Broken in the ways real mail is: bad date, broken encoded word, lost boundary.
            date = "Mon, 32 Foo 2026 25:61:00 +9999"
            subject_header = "=?utf-8?B?broken base64?= tail"
            content_headers = 'Content-Type: multipart/mixed; boundary="nowhere"'
        else:
            subject_header = _encode_subject(subject)
        raw = (
            f"Return-Path: <{PEOPLE[sender][1]}>\r\n"
            f"From: {_ENCODED_PEOPLE[sender]}\r\n"
            f"To: {_ENCODED_PEOPLE[rcpt]}\r\n"
            f"Subject: {subject_header}\r\n"
            f"Date: {date}\r\n"
            f"Message-ID: {message_id}\r\n"
            f"{threading}"
            f"MIME-Version: 1.0\r\n"
            f"{content_headers}\r\n"
            f"\r\n{body}\r\n"
        ).encode()
        yield GeneratedMessage(raw, message_id, subject, rng.random() < 0.5, malformed)
