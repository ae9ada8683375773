"""Hostile mail through the Textual message view, the last step before the terminal: random and
mutated messages (the hypothesis strategies of tests/mail/strategies.py) and named extremes
never raise out of the view, and the bytes the app would write to the terminal carry no
control sequence of the message's making. Showing a message never touches the network.

The renderer and the sanitiser have their own property tests (tests/mail/test_render.py,
test_sanitize.py, test_parse.py); this adds the widget and the terminal on top of them.
"""

from __future__ import annotations

import socket
import time
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from tests.mail.strategies import ATTACKS, assert_text_safe, raw_messages
from tests.ui.pilot import notifications, screen_text, settle
from tests.ui.test_safety import assert_defused
from tuimail.mail.render import render_message
from tuimail.ui.widgets.message_view import MessageView

pytestmark = pytest.mark.timeout(60)

T = TypeVar("T")
ESCAPES = "".join(ATTACKS)


def sample(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """``count`` values drawn the same way on every run (so CI failures reproduce)."""
    drawn: list[T] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn


def encoded(text: str) -> str:
    """``text`` as an RFC 2047 word: escapes hidden where a naive decoder lets them out."""
    import base64

    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


NESTED = b"".join(
    b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(1100)
)
EXTREMES = {
    "10 MB single line": b"Subject: long\r\n\r\n" + b"A" * 10_000_000,
    "deeply nested multiparts": b"Subject: deep\r\n" + NESTED + b"\r\nleaf",
    "NUL bytes everywhere": b"Subj\x00ect: n\x00ul\r\nFrom: a\x00@b\r\n\r\nbo\x00dy\x00\r\n" * 3,
    "RFC 2047 words decoding to escapes": (
        f"Subject: {encoded(ESCAPES)}\r\nFrom: {encoded('Mallory ' + ESCAPES)} <m@x>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{ESCAPES}\r\n"
    ).encode(),
    "empty body": b"Subject: nothing\r\n\r\n",
    "empty message": b"",
    "unknown charset with C1 bytes": (
        b"Subject: x\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n\x9b2J\x9d0;t\x07\x1b[5m"
    ),
    "latin-1 body with 8-bit CSI": (
        b"Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nhi \x9b31m red\r\n"
    ),
    "broken multipart boundary": (
        b'Subject: x\r\nContent-Type: multipart/mixed; boundary="\x1b[m"\r\n\r\n'
        b"--\x1b[m\r\nContent-Type: text/html\r\n\r\n<p>\x1b]8;;http://e\x07x</p>\r\n--wrong--\r\n"
    ),
    "HTML with escape entities and bidi": (
        b"Subject: x\r\nContent-Type: text/html\r\n\r\n<p>&#27;[2J&#x9b;31m&#8238;gnp.exe"
        b'<a href="https://a.example/&#27;]52;c;eA==&#7;">l</a></p>'
    ),
}


class Viewer(App[None]):
    """Just the message view, at the size of a large terminal."""

    def compose(self) -> ComposeResult:
        yield MessageView()


async def assert_view_survives(messages: dict[str, bytes]) -> None:
    app = Viewer()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(MessageView)
        for number, (name, raw) in enumerate(messages.items()):
            before = view.rendered
            view.show(number, raw)
            await settle(pilot)
            assert view.rendered is not None and view.rendered is not before, name
            assert view.rendered.note == "", f"{name}: rendering fell back ({view.rendered.note})"
            assert_defused(app)  # type: ignore[arg-type]
            assert not notifications(app), name  # type: ignore[arg-type]
        assert app.is_running


async def test_named_extremes_are_shown_defused() -> None:
    await assert_view_survives(EXTREMES)


async def test_random_and_mutated_messages_are_shown_defused() -> None:
    drawn = sample(raw_messages(), 30)
    await assert_view_survives({f"example {n}: {raw[:80]!r}": raw for n, raw in enumerate(drawn)})


def test_a_ten_megabyte_single_line_renders_whole_and_safe() -> None:
    # The whole line reaches the renderer's text (``tuimail read`` prints it); the view shows
    # its first MAX_SHOWN_LINE characters and says how many more there are.
    line = "x" * 10_000_000 + ESCAPES
    started = time.monotonic()
    rendered = render_message(b"Subject: huge\r\n\r\n" + line.encode())
    assert time.monotonic() - started < 10
    assert rendered.body.startswith("x" * 10_000_000)
    assert_text_safe(rendered.body)


REMOTE = (
    b"Subject: newsletter\r\nContent-Type: text/html\r\n\r\n"
    b'<link rel="stylesheet" href="https://t.example/s.css">'
    b'<link rel="dns-prefetch" href="//prefetch.example"><link rel="prefetch" href="https://p.example/">'
    b'<img src="https://t.example/pixel.gif?u=ann"><img srcset="https://t.example/2x.png 2x">'
    b'<iframe src="https://t.example/frame"></iframe><video poster="https://t.example/v.jpg">'
    b'<p style="background:url(https://t.example/bg)">Big sale</p>'
    b"<style>@import url(https://t.example/i.css); p{background:url(//t.example/b)}</style>"
    b'<a href="https://shop.example/deal">the deal</a><object data="https://t.example/o"></object>'
)


async def test_showing_a_message_full_of_remote_content_never_touches_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[tuple[str, Any]] = []

    def refuse(what: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            attempts.append((what, args))
            raise OSError(f"{what} is not allowed while showing a message")

        return record

    app = Viewer()
    async with app.run_test(size=(120, 40)) as pilot:
        # Patched once the app runs: the event loop's own socketpair is made before this.
        monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
        monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
        monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
        monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
        view = app.query_one(MessageView)
        view.show(1, REMOTE)
        await settle(pilot)
        shown = screen_text(app)  # type: ignore[arg-type]
        assert "Big sale" in shown and "the deal" in shown
        assert view.rendered is not None and view.rendered.links == ("https://shop.example/deal",)
    assert attempts == []
