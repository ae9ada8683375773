"""The key table: every user action with its binding id, default keys, scope and words.

Kept free of Textual so that the command line can check ``[ui.keys]`` in the config without
loading the interface; ``tuimail/ui/keys.py`` turns these rows into Textual bindings, the
command palette and ``?`` help (its docstring says which keys belong to which pane).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal[
    "app",
    "main",
    "folders",
    "index",
    "view",
    "conversation",
    "attachments",
    "links",
    "compose",
    "address",
    "help",
]

SCOPE_TITLES: dict[Scope, str] = {
    "app": "Everywhere",
    "main": "Mail",
    "folders": "Folder list",
    "index": "Message index",
    "view": "Message view",
    "conversation": "Conversation",
    "attachments": "Attachment list",
    "links": "Link list",
    "compose": "Writing a message",
    "address": "Address field",
    "help": "This help",
}

_MOVING: tuple[Scope, ...] = ("folders", "index", "view", "conversation", "attachments", "help")
_MESSAGE: tuple[Scope, ...] = ("index", "view", "conversation")  # where a message is shown
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
    KeyAction(  # the thread of the message under the cursor on one screen
        "conversation",
        "C",
        "conversation",
        "The whole thread on one screen",
        _INDEX,
        on_screen=True,
    ),
    KeyAction(
        "expand",
        "enter",
        "toggle_message",
        "Unfold / fold the message under the cursor",
        ("conversation",),
        True,
        label="Unfold",
    ),
    KeyAction(
        "close_conversation",
        "q,escape",
        "close",
        "Back to the index (on the message chosen here)",
        ("conversation",),
        True,
        label="Index",
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
    KeyAction(
        "quotes", "z", "toggle_quotes", "Fold / unfold quoted text", ("view", "conversation")
    ),
    KeyAction("html", "H", "toggle_html", "HTML part / plain text part", ("view",)),
    KeyAction(
        "open_html", "O", "open_html", "Open the HTML part (mailcap, else browser)", ("view",)
    ),
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
    KeyAction("undo", "u", "undo", "Undo the last move, delete or send", _INDEX, on_screen=True),
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
    KeyAction(  # mutt's |; after ; every tagged message
        "pipe",
        "vertical_line",
        "pipe",
        "Pipe to a shell command (output in a pager)",
        _MESSAGE,
        on_screen=True,
    ),
    KeyAction(
        "save_to_file",
        "S",
        "save_to_file",
        "Save to a file (name.eml, or an mbox to append to)",
        _MESSAGE,
        on_screen=True,
    ),
    KeyAction("compose", "m", "compose", "New message", ("main",)),
    KeyAction(
        "outbox", "ctrl+o", "outbox", "The outbox: edit or reschedule a waiting message", ("main",)
    ),
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
    KeyAction("tag", "t", "tag", "Tag / untag message", ("index", "conversation"), on_screen=True),
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
        "Act on tagged messages (then d, s, c, N, F, | or S)",
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
        "send_later",
        "ctrl+l",
        "send_later",
        "Send later (asks when: tomorrow 9:00, mon 8am, +2h)",
        ("compose",),
    ),
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
