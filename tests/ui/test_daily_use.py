"""Small things a daily user trips over: help that scrolls, the attachment list's keys and way
back, the new-mail note that goes away, a blank line under the headers."""

from __future__ import annotations

from textual.containers import VerticalScroll

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import open_with_attachment, screen_text, settle, wait_for
from tuimail.ui.screens.help import HelpScreen
from tuimail.ui.widgets.message_view import AttachmentList, MessageView
from tuimail.ui.widgets.status_bar import StatusBar


async def test_j_down_and_G_scroll_the_help(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 2, "the help is longer than the screen"
        await pilot.press("j")
        await pilot.press("down")
        await pilot.pause()
        assert body.scroll_y == 2
        await pilot.press("G")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert body.scroll_y == 0


async def test_the_attachment_list_footer_shows_its_keys(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_with_attachment(app, pilot)
        await pilot.press("tab", "v")
        assert isinstance(app.focused, AttachmentList)
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "Save" in footer and "Open" in footer, footer


async def test_q_in_the_attachment_list_goes_back_to_the_message(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_with_attachment(app, pilot)
        await pilot.press("tab", "v")
        assert isinstance(app.focused, AttachmentList)
        await pilot.press("q")
        await pilot.pause()
        view = app.screen.query_one(MessageView)
        focused: object = app.focused
        assert focused is view.body, "back in the message text, not out of the view"
        assert app.is_running


async def test_the_new_mail_note_goes_away(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusBar)
        status.notice_seconds = 0.2
        status.set_notice("demo: 144 new messages")
        await pilot.pause()
        assert "144 new messages" in screen_text(app)
        await wait_for(pilot, lambda: "144 new messages" not in screen_text(app), 5)


async def test_a_blank_line_separates_the_headers_from_the_body(synced: SyncedMailbox) -> None:
    app = synced.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(MessageView)
        headers = app.screen.query_one("#view-headers")
        below = headers.region.bottom
        lines = screen_text(app).splitlines()
        assert lines[below][view.region.x + 1 :].strip() == "", lines[below]
        assert lines[below - 1][view.region.x + 1 :].strip() != "", "the last header line"
