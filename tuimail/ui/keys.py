"""Every user action in one table: it makes the bindings, the command palette and ``?`` help.

Each row has a stable binding id. ``[ui.keys]`` in the config maps ids to keys, and the app
hands that mapping to Textual's own ``App.set_keymap``; there is no remapping layer of ours.
A scope says where a row applies: the whole app, the main screen, or one widget (the widget's
``BINDINGS`` are ``bindings(scope)``).

The rule for scopes: a key belongs to the widget that shows what it acts on. Textual looks a
key up from the focused widget outwards, so a key of the index cannot fire, nor show in the
footer, while the folder tree has focus.
- Keys that act on a message (delete, move, flag, reply, copy its text...) are bound on the
  message index and the message view: in the index they take the message under the cursor,
  in the view the open one. They run the main screen's action (``on_screen``: the binding's
  action is ``screen.<action>``), which knows both.
- Keys that act on the index's list (tags, ``;``, limit) are bound on the index alone.
- The main screen keeps what is the same in every pane and touches no message: back, panes,
  layout, new message, drafts, the searches (their results open in the index), stopping a
  bulk action. The app keeps help, sync and the theme.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding

from tuimail.errors import ConfigError

Scope = Literal[
    "app", "main", "folders", "index", "view", "attachments", "links", "compose", "address", "help"
]

SCOPE_TITLES: dict[Scope, str] = {
    "app": "Everywhere",
    "main": "Mail",
    "folders": "Folder list",
    "index": "Message index",
    "view": "Message view",
    "attachments": "Attachment list",
    "links": "Link list",
    "compose": "Writing a message",
    "address": "Address field",
    "help": "This help",
}

_MOVING: tuple[Scope, ...] = ("folders", "index", "view", "attachments", "help")
_MESSAGE: tuple[Scope, ...] = ("index", "view")  # where a message is shown
_INDEX: tuple[Scope, ...] = ("index",)


@dataclass(frozen=True, slots=True)
class KeyAction:
    """One named action: binding id, default keys, the action it runs, where it applies."""

    id: str
    keys: str  # Textual key names, comma-separated
    action: str  # the ``action_*`` method name without its prefix
    description: str
    scopes: tuple[Scope, ...]
    show: bool = False  # listed in the footer
    ready: bool = True  # False: bound now, the feature itself arrives in a later version
    label: str = ""  # the footer's short word, when the row is shown there
    on_screen: bool = False  # the action is the main screen's, bound on the widgets of scopes


ACTIONS: tuple[KeyAction, ...] = (
    KeyAction(
        "help", "question_mark", "help", "Help: keys that apply here", ("app",), True, label="Help"
    ),
    KeyAction("sync", "dollar_sign", "sync", "Sync all accounts now", ("app",), True, label="Sync"),
    KeyAction("theme", "ctrl+t", "cycle_theme", "Next theme", ("app",)),
    KeyAction("back", "q", "back", "Back (quit from the index)", ("main",), True, label="Back"),
    KeyAction("next_pane", "tab", "next_pane", "Next pane", ("main",)),
    KeyAction("previous_pane", "shift+tab", "previous_pane", "Previous pane", ("main",)),
    KeyAction("layout", "w", "toggle_layout", "Message view right / below", ("main",)),
    KeyAction("down", "j,down", "cursor_down", "Down", _MOVING),
    KeyAction("up", "k,up", "cursor_up", "Up", _MOVING),
    KeyAction("page_down", "pagedown", "page_down", "Page down", _MOVING),
    KeyAction("page_up", "pageup", "page_up", "Page up", _MOVING),
    KeyAction("first", "g,home", "first", "First", _MOVING),
    KeyAction("last", "G,end", "last", "Last", _MOVING),
    KeyAction(
        "open_folder", "enter", "open_folder", "Open folder", ("folders",), True, label="Open"
    ),
    KeyAction(  # the screen's: the open takes its turn among changes typed after it
        "open",
        "enter",
        "open_message",
        "Open message",
        ("index",),
        True,
        label="Open",
        on_screen=True,
    ),
    KeyAction(
        "threads", "o", "toggle_threads", "Order: date / threads", ("index",), True, label="Threads"
    ),
    KeyAction("collapse", "z", "collapse_thread", "Fold / unfold this thread", ("index",)),
    KeyAction("collapse_all", "Z", "collapse_all", "Fold / unfold all threads", ("index",)),
    KeyAction("headers", "h", "toggle_headers", "All headers / the usual five", ("view",)),
    KeyAction(  # mutt's h in the index
        "index_headers",
        "h",
        "open_with_headers",
        "Open the message with all headers",
        _INDEX,
        on_screen=True,
    ),
    KeyAction("quotes", "z", "toggle_quotes", "Fold / unfold quoted text", ("view",)),
    KeyAction("html", "H", "toggle_html", "HTML part / plain text part", ("view",)),
    KeyAction("attachments", "v", "attachments", "Go to the attachment list", ("view",)),
    KeyAction("links", "u", "links", "Links: open or copy one", ("view",)),
    KeyAction(
        "save",
        "s",
        "save_attachment",
        "Save attachment (asks where)",
        ("attachments",),
        True,
        label="Save",
    ),
    KeyAction(
        "open_attachment",
        "o,enter",
        "open_attachment",
        "Open attachment",
        ("attachments",),
        True,
        label="Open",
    ),
    KeyAction(
        "attachments_back",
        "q",
        "back_to_text",
        "Back to the message text",
        ("attachments",),
        True,
        label="Back",
    ),
    KeyAction(
        "delete",
        "d",
        "delete",
        "Delete (to Trash; for good in Trash)",
        _MESSAGE,
        True,
        label="Delete",
        on_screen=True,
    ),
    KeyAction("undo", "u", "undo", "Undo the last move or delete", _INDEX, on_screen=True),
    KeyAction("move", "s", "move", "Move to folder", _MESSAGE, on_screen=True),
    KeyAction("copy", "c", "copy", "Copy to folder", _MESSAGE, on_screen=True),
    KeyAction("toggle_read", "N", "toggle_read", "Mark read / unread", _MESSAGE, on_screen=True),
    KeyAction("flag", "F", "flag", "Flag / unflag", _MESSAGE, on_screen=True),
    KeyAction("reply", "r", "reply", "Reply", _MESSAGE, on_screen=True),
    KeyAction("group_reply", "R", "group_reply", "Reply to all", _MESSAGE, on_screen=True),
    KeyAction("list_reply", "L", "list_reply", "Reply to the list", _MESSAGE, on_screen=True),
    KeyAction("forward", "f", "forward", "Forward (inline)", _MESSAGE, on_screen=True),
    KeyAction(
        "forward_attached",
        "ctrl+f",
        "forward_attached",
        "Forward as attachment",
        _MESSAGE,
        on_screen=True,
    ),
    KeyAction("drafts", "P", "drafts", "Postponed drafts: reopen one", ("main",)),
    KeyAction(
        "copy_text", "y", "copy_text", "Copy the message text (OSC 52)", _MESSAGE, on_screen=True
    ),
    KeyAction(
        "copy_sender", "Y", "copy_sender", "Copy the sender's address", _MESSAGE, on_screen=True
    ),
    KeyAction("compose", "m", "compose", "New message", ("main",)),
    KeyAction("search", "slash", "search", "Search this folder", ("main",)),
    KeyAction("search_all", "backslash", "search_all", "Search all folders", ("main",)),
    KeyAction(
        "limit",
        "l",
        "limit",
        "Limit the index to a query (again: show all)",
        _INDEX,
        on_screen=True,
    ),
    KeyAction("tag", "t", "tag", "Tag / untag message", _INDEX, on_screen=True),
    KeyAction(
        "tag_all",
        "T",
        "tag_all",
        "Tag every message shown (again: untag all)",
        _INDEX,
        on_screen=True,
    ),
    KeyAction(
        "tag_prefix",
        "semicolon",
        "tag_prefix",
        "Act on tagged messages (then d, s, c, N or F)",
        _INDEX,
        on_screen=True,
    ),
    KeyAction(
        "cancel_bulk", "escape,ctrl+c", "cancel_bulk", "Stop a running bulk action", ("main",)
    ),
    KeyAction("open_link", "enter,o", "open_link", "Open link (over SSH: copy it)", ("links",)),
    KeyAction("copy_link", "y", "copy_link", "Copy link (OSC 52)", ("links",)),
    KeyAction("close_links", "escape,q", "close", "Close the link list", ("links",)),
    KeyAction("send", "ctrl+s", "send", "Send", ("compose",), True, label="Send"),
    KeyAction(
        "postpone", "ctrl+o", "postpone", "Postpone to Drafts", ("compose",), True, label="Postpone"
    ),
    KeyAction(
        "external_editor",
        "ctrl+g",
        "external_editor",
        "Edit in $VISUAL / $EDITOR",
        ("compose",),
        True,
        label="Editor",
    ),
    KeyAction("attach", "ctrl+f", "attach", "Attach a file", ("compose",), True, label="Attach"),
    KeyAction(
        "drop_attachment", "ctrl+r", "drop_attachment", "Drop the chosen attachment", ("compose",)
    ),
    KeyAction("discard", "ctrl+n", "discard", "Discard this message", ("compose",)),
    KeyAction(
        "close_compose", "escape", "close", "Close (asks about unsaved changes)", ("compose",)
    ),
    KeyAction(
        "complete_address",
        "tab",
        "complete",
        "Take the suggested address (none: next field)",
        ("address",),
    ),
    KeyAction("next_address", "down", "next_suggestion", "Next suggestion", ("address",)),
    KeyAction("previous_address", "up", "previous_suggestion", "Previous suggestion", ("address",)),
    KeyAction(
        "close_help",
        "q,escape,question_mark",
        "close",
        "Close help",
        ("help",),
        True,
        label="Close",
    ),
)

BY_ID: dict[str, KeyAction] = {entry.id: entry for entry in ACTIONS}

# How Textual names keys that are characters; shown as the characters in help.
_KEY_NAMES = {
    "question_mark": "?",
    "dollar_sign": "$",
    "slash": "/",
    "semicolon": ";",
    "backslash": "\\",
    "down": "↓",
    "up": "↑",
    "enter": "Enter",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "escape": "Esc",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
}


def in_scope(scope: Scope) -> list[KeyAction]:
    """The table's rows that apply in ``scope``."""
    return [entry for entry in ACTIONS if scope in entry.scopes]


def bindings(scope: Scope) -> list[Binding]:
    """Textual bindings for one scope, each carrying its binding id for the keymap."""
    return [
        Binding(
            entry.keys,
            action_string(entry),
            entry.label or entry.description,
            show=entry.show,
            id=entry.id,
            key_display=key_label(entry.keys.split(",")[0]),
            tooltip=entry.description,
        )
        for entry in in_scope(scope)
    ]


def action_string(entry: KeyAction) -> str:
    """What the binding runs: the action (the screen's for ``on_screen`` rows), or a "not
    available yet" note for later features."""
    action = entry.action if entry.ready else f"not_ready({entry.id!r})"
    return f"screen.{action}" if entry.on_screen else action


def key_label(keys: str) -> str:
    """Textual key names as a person reads them: ``question_mark`` -> ``?``."""
    shown = []
    for key in keys.split(","):
        key = key.strip()
        shown.append(_KEY_NAMES.get(key, key.replace("ctrl+", "Ctrl+")))
    return " ".join(shown)


def keymap(overrides: Mapping[str, str]) -> dict[str, str]:
    """The ``[ui.keys]`` table checked against the binding ids, ready for ``App.set_keymap``."""
    unknown = sorted(set(overrides) - set(BY_ID))
    if unknown:
        known = ", ".join(sorted(BY_ID))
        raise ConfigError(f"ui.keys: unknown binding id {unknown[0]!r} (ids: {known})")
    for binding_id, keys in overrides.items():
        if not keys.strip() or any(not key.strip() for key in keys.split(",")):
            raise ConfigError(f"ui.keys.{binding_id}: give one key or several, comma-separated")
    return {binding_id: keys.replace(" ", "") for binding_id, keys in overrides.items()}


def effective_keys(entry: KeyAction, overrides: Mapping[str, str]) -> str:
    """The keys that run ``entry`` once the user's overrides apply."""
    return overrides.get(entry.id, entry.keys)


def help_rows(
    scopes: Iterable[Scope], overrides: Mapping[str, str]
) -> list[tuple[Scope, KeyAction, str]]:
    """(scope, row, keys) for the scopes in effect, in table order, each row listed once."""
    rows: list[tuple[Scope, KeyAction, str]] = []
    listed: set[str] = set()
    for scope in scopes:
        for entry in in_scope(scope):
            if entry.id not in listed:
                listed.add(entry.id)
                rows.append((scope, entry, key_label(effective_keys(entry, overrides))))
    return rows
