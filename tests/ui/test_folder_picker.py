"""The move/copy dialog (issue 17, item 2): nothing chosen at first, filters as you type,
``j``/``k`` move, Tab completes, the last folder is remembered, and the status line says where
the message went. On mail downloaded by POP3 from the private Dovecot, with local folders."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import screen_text, settle
from tests.ui.store_state import add_local_folders, changed, folder_ids, message_states
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.folder_picker import FolderPicker, fuzzy_rank
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.message_index import MessageIndex

LOCAL = ("Archive", "Lists/arch-dev", "Lists/python")


@pytest.fixture
async def with_folders(synced: SyncedMailbox) -> SyncedMailbox:
    await add_local_folders(synced.path, "home", LOCAL)
    return synced


def listed(app: TuimailApp) -> list[str]:
    return [str(option.prompt) for option in app.screen.query_one(OptionList).options]


def status_line(app: TuimailApp) -> str:
    return next(line for line in screen_text(app).splitlines() if "outbox" in line)


def where(mailbox: SyncedMailbox, message_id: int) -> str:
    names = {pk: name for name, pk in folder_ids(mailbox.path).items()}
    return names[message_states(mailbox.path)[message_id][0]]


async def test_the_move_dialog_starts_with_nothing_chosen_and_enter_moves_nothing(
    with_folders: SyncedMailbox,
) -> None:
    before = message_states(with_folders.path)
    app = with_folders.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, FolderPicker)
        assert app.screen.query_one(OptionList).highlighted is None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FolderPicker), "Enter with nothing chosen keeps the dialog"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert message_states(with_folders.path) == before


async def test_typing_filters_the_folders_fuzzily_and_the_status_line_says_where(
    with_folders: SyncedMailbox,
) -> None:
    app = with_folders.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        moving = app.screen.query_one(MessageIndex).current_id
        await pilot.press("s", "a", "r", "c")
        await settle(pilot)
        assert listed(app) == ["Archive", "Lists/arch-dev"], "best match first"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert "1 message moved to Archive" in status_line(app)
    assert moving is not None and where(with_folders, moving) == "Archive"


async def test_j_and_k_move_in_the_dialog(with_folders: SyncedMailbox) -> None:
    app = with_folders.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        moving = app.screen.query_one(MessageIndex).current_id
        await pilot.press("s")
        await settle(pilot)
        names = listed(app)
        await pilot.press("j", "j", "j", "k")
        await pilot.press("enter")
        await settle(pilot)
        assert f"1 message moved to {names[1]}" in status_line(app)
    assert moving is not None and where(with_folders, moving) == names[1]


async def test_tab_completes_and_the_next_move_starts_on_the_last_folder(
    with_folders: SyncedMailbox,
) -> None:
    before = message_states(with_folders.path)
    app = with_folders.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        index = app.screen.query_one(MessageIndex)
        first = index.current_id
        await pilot.press("s", "l", "p", "y", "tab")
        await settle(pilot)
        assert app.screen.query_one("#picker-filter").value == "Lists/python"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        second = index.current_id
        await pilot.press("c")  # a copy: the dialog remembers the folder of this account
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        assert picker.chosen is not None and picker.chosen.name == "Lists/python"
        await pilot.press("enter")
        await settle(pilot)
        assert "1 message copied to Lists/python" in status_line(app)
    assert first is not None and second is not None and first != second
    assert where(with_folders, first) == "Lists/python"
    assert changed(before, message_states(with_folders.path)) == {first}
    python = folder_ids(with_folders.path)["Lists/python"]
    copies = [pk for pk, state in message_states(with_folders.path).items() if pk not in before]
    assert [message_states(with_folders.path)[pk][0] for pk in copies] == [python]


def test_fuzzy_rank_puts_the_start_of_a_name_or_part_first() -> None:
    names = ["Drafts", "Lists/arch-dev", "Archive", "Trash", "Mail/Old Archive", "Xarc"]
    assert [names[i] for i in fuzzy_rank("arc", names)] == [
        "Archive",
        "Lists/arch-dev",
        "Mail/Old Archive",
        "Xarc",
    ]
    assert [names[i] for i in fuzzy_rank("dts", names)] == ["Drafts"]
    assert fuzzy_rank("", names) == list(range(len(names)))
    assert fuzzy_rank("zzz", names) == []
