"""Every user action's row (``tuimail/keytable.py``) made into bindings, palette and ``?`` help.

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

from textual.binding import Binding

from tuimail.errors import ConfigError
from tuimail.keytable import ACTIONS as ACTIONS
from tuimail.keytable import BY_ID as BY_ID
from tuimail.keytable import SCOPE_TITLES as SCOPE_TITLES
from tuimail.keytable import KeyAction as KeyAction
from tuimail.keytable import Scope as Scope

# The table itself lives in tuimail/keytable.py (no Textual there: the CLI checks ids).
_KEY_NAMES = {
    "question_mark": "?",
    "dollar_sign": "$",
    "slash": "/",
    "semicolon": ";",
    "backslash": "\\",
    "vertical_line": "|",
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
