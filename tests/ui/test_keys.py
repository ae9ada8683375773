"""The one table of actions: every row is bound, runnable where it applies, and remappable."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

from tuimail.errors import ConfigError
from tuimail.ui import keys
from tuimail.ui.app import TuimailApp
from tuimail.ui.screens.compose import ComposeScreen
from tuimail.ui.screens.conversation import ConversationScreen
from tuimail.ui.screens.help import HelpScreen, help_content
from tuimail.ui.screens.link_picker import LinkPicker
from tuimail.ui.screens.main import MainScreen
from tuimail.ui.widgets.address_input import AddressInput
from tuimail.ui.widgets.folder_tree import FolderTree
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.message_view import AttachmentList, MessageView

SCOPE_CLASSES: dict[keys.Scope, type[DOMNode]] = {
    "app": TuimailApp,
    "main": MainScreen,
    "folders": FolderTree,
    "index": MessageIndex,
    "view": MessageView,
    "conversation": ConversationScreen,
    "attachments": AttachmentList,
    "links": LinkPicker,
    "compose": ComposeScreen,
    "address": AddressInput,
    "help": HelpScreen,
}


def test_binding_ids_are_unique() -> None:
    ids = [entry.id for entry in keys.ACTIONS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", keys.ACTIONS, ids=lambda entry: entry.id)
def test_every_action_exists_on_each_class_of_its_scopes(entry: keys.KeyAction) -> None:
    name = entry.action if entry.ready else "not_ready"
    for scope in entry.scopes:
        cls = SCOPE_CLASSES[scope]
        runner = MainScreen if entry.on_screen else cls  # bound on the widget, run by the screen
        assert callable(getattr(runner, f"action_{name}", None)), f"{runner.__name__} lacks {name}"
        assert scope == getattr(cls, "KEY_SCOPE", None)


@pytest.mark.parametrize("scope", list(SCOPE_CLASSES))
def test_each_class_binds_exactly_its_rows_with_their_ids(scope: keys.Scope) -> None:
    bound = {
        binding.id for binding in SCOPE_CLASSES[scope].BINDINGS if isinstance(binding, Binding)
    }
    assert bound == {entry.id for entry in keys.in_scope(scope)}


def test_no_two_rows_of_one_scope_share_a_key() -> None:
    for scope in SCOPE_CLASSES:
        seen: dict[str, str] = {}
        for entry in keys.in_scope(scope):
            for key in entry.keys.split(","):
                assert key not in seen, f"{scope}: {key} bound to {seen.get(key)} and {entry.id}"
                seen[key] = entry.id


def test_keymap_accepts_known_ids_and_strips_spaces() -> None:
    assert keys.keymap({"delete": "x, ctrl+d"}) == {"delete": "x,ctrl+d"}


def test_keymap_rejects_an_unknown_id_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown binding id 'dlete'.*delete"):
        keys.keymap({"dlete": "x"})


def test_keymap_rejects_an_empty_key() -> None:
    with pytest.raises(ConfigError, match=r"ui.keys.delete"):
        keys.keymap({"delete": " "})


LATER = keys.KeyAction("later", "ctrl+b", "later", "A later feature", ("main",), ready=False)


def test_later_features_are_bound_to_a_not_available_note() -> None:
    assert keys.action_string(LATER) == "not_ready('later')"


def test_help_shows_overridden_keys_and_marks_later_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys, "ACTIONS", (*keys.ACTIONS, LATER))
    text = help_content(["index", "main", "app"], {"delete": "x"}).plain
    delete = next(line for line in text.splitlines() if "Delete" in line)
    assert delete.startswith("x ")
    assert "A later feature (not available yet)" in text
    assert "All headers" not in text


def test_key_labels_read_as_characters() -> None:
    assert keys.key_label("question_mark") == "?"
    assert keys.key_label("j,down") == "j ↓"
    assert keys.key_label("ctrl+t") == "Ctrl+t"


def test_help_lists_the_copy_link_draft_and_bulk_keys_where_they_apply() -> None:
    main = help_content(["index", "main", "app"], {}).plain
    for line in (
        "Copy the message text (OSC 52)",
        "Copy the sender's address",
        "Forward as attachment",
        "Postponed drafts: reopen one",
        "Stop a running bulk action",
        "Tag every message shown",
    ):
        assert line in main
    assert "Links: open or copy one" in help_content(["view", "main", "app"], {}).plain
    links = help_content(["links", "app"], {}).plain
    assert "Open link (over SSH: copy it)" in links and "Copy link (OSC 52)" in links
