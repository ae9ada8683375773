"""Search across all folders names each result's folder; the status line counts the tags."""

from __future__ import annotations

from pathlib import Path

from tests.ui.pilot import screen_text, settle
from tests.ui.test_search import index_of, make_app, search_for
from tuimail.ui.app import TuimailApp

FOLDERS = ("INBOX", "Archive", "Sent", "Drafts", "Trash")


def index_lines(app: TuimailApp, count: int) -> list[str]:
    index = index_of(app)
    return [index.render_line(y).text for y in range(count)]


async def test_results_of_a_search_of_all_folders_name_their_folder(
    generated_store: Path,
) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert not any("Archive" in line for line in index_lines(app, 10)), "a folder: no names"
        await search_for(pilot, "backslash", "before:2026-03-01")
        index = index_of(app)
        lines = index_lines(app, index.count)
        assert sum("Archive" in line for line in lines) == 5  # the 5 archived ones
        assert sum("INBOX" in line for line in lines) == index.count - 5  # the old ones
        assert all(any(name in line for name in FOLDERS) for line in lines)
        await pilot.press("q")  # back to the folder: no folder names
        await settle(pilot)
        assert not any("INBOX" in line for line in index_lines(app, 10))


async def test_the_status_line_counts_tagged_messages(generated_store: Path) -> None:
    app = make_app(generated_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("t", "t", "t")
        await settle(pilot)
        assert "3 tagged" in screen_text(app)
        await pilot.press("t")
        await settle(pilot)
        assert "4 tagged" in screen_text(app)
        await pilot.press("semicolon", "N")  # the action uses the tags up
        await settle(pilot)
        assert "4 tagged" not in screen_text(app)
