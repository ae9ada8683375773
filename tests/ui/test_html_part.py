"""``H`` in the message view shows the HTML alternative (as text) instead of the plain one."""

from __future__ import annotations

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import screen_text, settle
from tuimail.ui.screens.link_picker import LinkPicker
from tuimail.ui.widgets.message_view import MessageView

ALTERNATIVE = (
    b"From: a@example.org\r\nSubject: both\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nplain words, no links\r\n"
    b"--b\r\nContent-Type: text/html\r\n\r\n"
    b'<p>rich words <a href="https://example.org/only-in-html">here</a></p>\r\n--b--\r\n'
)


async def test_h_shows_the_html_part_and_u_lists_its_links(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        assert view.message_id is not None
        view.show(view.message_id, ALTERNATIVE)
        await settle(pilot)
        await pilot.press("tab")  # the view
        assert "plain words" in screen_text(app)
        await pilot.press("H")
        await settle(pilot)
        assert "rich words" in screen_text(app) and "plain words" not in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, LinkPicker)
        assert "https://example.org/only-in-html" in screen_text(app)
        await pilot.press("escape", "H")  # back to the plain part
        await settle(pilot)
        assert "plain words" in screen_text(app)
