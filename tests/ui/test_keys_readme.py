"""The README's key tables and the footers agree with the one table in ``ui/keys.py``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widget import Widget

from tests.ui.conftest import SyncedMailbox
from tests.ui.pilot import screen_text, settle
from tuimail.ui import keys
from tuimail.ui.app import TuimailApp, scope_chain
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import MessageView

README = Path(__file__).parents[2] / "README.md"
HEADER = "| id | keys | where | action |"
# The README's words for the scopes, in its "where" column.
WHERE: dict[str, keys.Scope] = {
    "everywhere": "app",
    "all panes": "main",
    "folders": "folders",
    "index": "index",
    "view": "view",
    "conversation": "conversation",
    "attachments": "attachments",
    "link list": "links",
    "compose": "compose",
    "address fields": "address",
    "help": "help",
}


def readme_rows() -> dict[str, tuple[tuple[str, ...], tuple[keys.Scope, ...]]]:
    """Binding id -> (keys as the README shows them, scopes), from every key table."""
    rows: dict[str, tuple[tuple[str, ...], tuple[keys.Scope, ...]]] = {}
    in_table = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line == HEADER:
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
        if not in_table or line.startswith("|---"):
            continue
        ids, shown, where = (cell.strip() for cell in line.strip("|").split(" | ")[:3])
        groups = shown.split(" / ")
        names = ids.split(" / ")
        assert len(groups) == len(names), f"README: ids and keys do not pair up in {line!r}"
        scopes = tuple(WHERE[word] for word in where.split(", "))
        for name, group in zip(names, groups, strict=True):
            assert name not in rows, f"README lists {name} twice"
            # A | in a table cell is written \| (else it ends the cell).
            shown_keys = (key.replace("\\|", "|") for key in re.findall(r"`([^`]+)`", group))
            rows[name] = (tuple(shown_keys), scopes)
    return rows


def test_the_readme_lists_every_binding_with_its_keys_and_where_it_applies() -> None:
    listed = readme_rows()
    assert set(listed) == {entry.id for entry in keys.ACTIONS}
    for entry in keys.ACTIONS:
        shown, scopes = listed[entry.id]
        assert shown == tuple(keys.key_label(entry.keys).split(" ")), entry.id
        assert set(scopes) == set(entry.scopes), entry.id


def footer_line(app: TuimailApp) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


def footer_words(entry: keys.KeyAction) -> str:
    return f"{keys.key_label(entry.keys.split(',')[0])} {entry.label or entry.description}"


@pytest.mark.parametrize("pane", [FolderTree, MessageIndex, MessageView])
async def test_each_pane_footer_shows_exactly_the_shown_rows_of_its_scopes(
    synced: SyncedMailbox, pane: type[Widget]
) -> None:
    app = synced.app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        target = screen.view.body if pane is MessageView else screen.query_one(pane)
        target.focus()
        await settle(pilot)
        chain = [scope for scope, _node in scope_chain(app.screen)]
        assert chain[0] == getattr(pane, "KEY_SCOPE", None)
        footer = footer_line(app)
        applies = {e.id for scope in chain for e in keys.in_scope(scope)}
        for entry in keys.ACTIONS:
            if not entry.show:
                continue
            if entry.id in applies:
                assert footer_words(entry) in footer, f"{entry.id} missing: {footer!r}"
            elif not any(entry.keys == e.keys for e in keys.ACTIONS if e.id in applies):
                assert footer_words(entry) not in footer, f"{entry.id} shown: {footer!r}"
