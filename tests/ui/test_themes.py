"""Themes: the shipped three, user themes, runtime switching, NO_COLOR."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.ui.pilot import notifications, settle
from tuimail.ui import themes
from tuimail.ui.widgets.message_index import MessageIndex

# The window buttons and title of Rich's SVG frame, drawn around the screen by the exporter.
SVG_WINDOW_CHROME = {"ff5f57", "febc2e", "28c840", "c5c8c6"}


def test_the_three_shipped_themes_load_and_basic16_uses_terminal_colours() -> None:
    loaded, warnings = themes.load_themes(Path("/nonexistent"))
    assert {"dark", "light", "basic16"} <= set(loaded) and not warnings
    assert loaded["basic16"].ansi and loaded["dark"].dark and not loaded["light"].dark


def test_shipped_themes_are_found_in_a_checkout_and_in_an_installed_wheel(tmp_path: Path) -> None:
    assert (themes.shipped_themes_dir() / "dark.toml").is_file()
    wheel = tmp_path / "site-packages" / "tuimail"
    shutil.copytree(themes.shipped_themes_dir(), wheel / "_themes")
    assert themes.shipped_themes_dir(wheel) == wheel / "_themes"


def test_user_themes_add_and_replace_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "dark.toml").write_text('primary = "#ff0000"\n')
    (tmp_path / "mine.toml").write_text('primary = "#00ff00"\ndark = false\n')
    loaded, warnings = themes.load_themes(tmp_path)
    assert loaded["dark"].primary == "#ff0000" and not loaded["mine"].dark and not warnings


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('primary = "#fff"\ncolour = "red"\n', "colour: unknown key"),
        ("dark = true\n", "primary: this key is required"),
        ('primary = "not-a-colour"\n', "not a colour"),
        ('primary = "#fff"\ndark = "yes"\n', "dark: expected true or false"),
        ("primary = ", "not valid TOML"),
    ],
)
def test_a_broken_user_theme_is_skipped_with_one_line_naming_it(
    tmp_path: Path, body: str, problem: str
) -> None:
    (tmp_path / "broken.toml").write_text(body)
    loaded, warnings = themes.load_themes(tmp_path)
    assert "broken" not in loaded and "dark" in loaded
    assert len(warnings) == 1 and "broken.toml" in warnings[0] and problem in warnings[0]


async def test_the_configured_theme_is_used_and_an_unknown_one_falls_back(
    picture_app: Any,
) -> None:
    assert picture_app(theme="light").theme == "light"
    app = picture_app(theme="nosuch")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "dark"
        assert any("no theme named 'nosuch'" in note for note in notifications(app))


async def test_every_theme_renders_the_main_screen(picture_app: Any) -> None:
    app = picture_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for name in [*app.our_themes, "textual-light"]:
            app.theme = name
            await pilot.pause()
            assert app.screen.query_one(MessageIndex).rows_painted


async def test_no_color_leaves_only_shades_of_grey(
    picture_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = picture_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        svg = app.export_screenshot()
    colours = set(re.findall(r"#([0-9a-fA-F]{6})\b", svg)) - SVG_WINDOW_CHROME
    assert colours
    assert all(c[0:2] == c[2:4] == c[4:6] for c in colours), "NO_COLOR: no hue anywhere"
