"""Themes: ``themes/*.toml`` and ``~/.config/tuimail/themes/*.toml`` into Textual themes.

A theme file holds the fields of Textual's ``Theme`` (colours, ``dark``, ``ansi``) and a
``[variables]`` table for any theme variable; its name is the file name without ``.toml``. A user
theme with the name of a shipped one replaces it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from textual.color import ColorParseError
from textual.filter import LineFilter, Monochrome, NoColor
from textual.theme import Theme

from tuimail import paths
from tuimail.errors import ConfigError

DEFAULT_THEME = "dark"
_COLOURS = {
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
}
_FLOATS = {"luminosity_spread", "text_alpha"}
_BOOLS = {"dark", "ansi"}
_ALLOWED = _COLOURS | _FLOATS | _BOOLS | {"variables"}
assert _ALLOWED - {"variables"} <= {f.name for f in fields(Theme)}


def shipped_themes_dir(package: Path | None = None) -> Path:
    """The shipped themes: ``tuimail/_themes`` in a wheel, ``<repo>/themes`` in a checkout."""
    package = package or Path(__file__).resolve().parents[1]
    installed = package / "_themes"
    return installed if installed.is_dir() else package.parent / "themes"


def user_themes_dir() -> Path:
    """Where users put their own themes."""
    return paths.config_dir() / "themes"


def load_theme(path: Path) -> Theme:
    """Read one theme file; any problem is one ConfigError naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the theme: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values = _checked(path, data)
    theme = Theme(name=path.stem, **values)
    try:
        theme.to_color_system().generate()
    except ColorParseError as exc:
        raise ConfigError(f"{path}: not a colour: {exc}") from None
    return theme


def _checked(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (check the spelling)")
    if "primary" not in data:
        raise ConfigError(f"{path}: primary: this key is required")
    for key, value in data.items():
        if key in _COLOURS and not isinstance(value, str):
            raise ConfigError(f'{path}: {key}: expected a colour such as "#5f9ea0"')
        if key in _BOOLS and not isinstance(value, bool):
            raise ConfigError(f"{path}: {key}: expected true or false")
        if key in _FLOATS and not isinstance(value, int | float):
            raise ConfigError(f"{path}: {key}: expected a number")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ConfigError(f"{path}: variables: expected a table of names and colour strings")
    return data


def load_themes(user_dir: Path | None = None) -> tuple[dict[str, Theme], list[str]]:
    """Shipped themes, then the user's; returns the themes and one warning per broken file.

    A broken shipped theme is a bug and raises; a broken user theme is skipped with a warning
    so that the app still starts.
    """
    themes = {path.stem: load_theme(path) for path in sorted(shipped_themes_dir().glob("*.toml"))}
    warnings: list[str] = []
    directory = user_dir if user_dir is not None else user_themes_dir()
    if directory.is_dir():
        for path in sorted(directory.glob("*.toml")):
            try:
                themes[path.stem] = load_theme(path)
            except ConfigError as exc:
                warnings.append(str(exc))
    return themes, warnings


_NO_COLOR = NoColor()


def without_colour(filters: Sequence[LineFilter]) -> list[LineFilter]:
    """The line filters for NO_COLOR: Textual's own turns every colour into a 256-colour or
    true-colour grey; this one writes the terminal's default colours. The cursors show by
    reverse video instead (``:nocolor`` rules in app.tcss)."""
    return [_NO_COLOR if isinstance(f, Monochrome) else f for f in filters]
