"""The ``[ui]`` table's names checked without loading Textual: binding ids and theme names.

Every command validates the whole config file before it does anything, and the command line
must not import Textual (the layers contract). The binding ids come from the key table
(``tuimail/keytable.py``, free of Textual); the theme names Textual brings are listed here, and
a test holds ``TEXTUAL_THEMES`` to Textual's built-in themes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tuimail import paths
from tuimail.errors import ConfigError
from tuimail.keytable import BY_ID

BINDING_IDS: frozenset[str] = frozenset(BY_ID)

# Textual's own themes, which the interface offers beside ours (textual.theme.BUILTIN_THEMES).
TEXTUAL_THEMES: frozenset[str] = frozenset(
    {
        "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe",
        "catppuccin-latte", "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki",
        "gruvbox", "monokai", "nord", "rose-pine", "rose-pine-dawn", "rose-pine-moon",
        "solarized-dark", "solarized-light", "textual-dark", "textual-light", "tokyo-night",
    }
)  # fmt: skip


def check_keys(where: str, overrides: Mapping[str, str]) -> None:
    """Refuse a ``[ui.keys]`` id the interface does not have, or an empty key list."""
    unknown = sorted(set(overrides) - BINDING_IDS)
    if unknown:
        raise ConfigError(
            f"{where}: ui.keys.{unknown[0]}: unknown binding id (`?` in the app and the "
            "README's key tables list the ids)"
        )
    for binding_id, keys in overrides.items():
        if not keys.strip() or any(not key.strip() for key in keys.split(",")):
            raise ConfigError(
                f"{where}: ui.keys.{binding_id}: give one key or several, comma-separated"
            )


def shipped_themes_dir() -> Path:
    """The shipped themes: ``tuimail/_themes`` in a wheel, ``<repo>/themes`` in a checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "_themes"
    return installed if installed.is_dir() else package.parent / "themes"


def theme_names() -> set[str]:
    """Every theme name the interface can show: ours, the user's files, Textual's."""
    names = set(TEXTUAL_THEMES)
    user_dir = paths.config_dir() / "themes"
    for directory in (shipped_themes_dir(), user_dir):
        if directory.is_dir():
            names.update(path.stem for path in directory.glob("*.toml"))
    return names


def check_theme(where: str, theme: str) -> None:
    """Refuse a ``ui.theme`` no file and no built-in theme provides."""
    names = theme_names()
    if theme not in names:
        ours = ", ".join(sorted(names - TEXTUAL_THEMES))
        raise ConfigError(
            f"{where}: ui.theme: no theme named {theme!r} (ours: {ours}; Textual's built-in "
            "themes and files in ~/.config/tuimail/themes/ work too)"
        )
