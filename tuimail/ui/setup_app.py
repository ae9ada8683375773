"""The setup form on its own: first run and ``tuimail account add``.

``run_setup`` shows the form and returns the name of the account it wrote, or None when the
user left without saving; the command line then opens the normal interface or stops.
"""

from __future__ import annotations

import logging
from pathlib import Path

from textual.app import App

from tuimail import paths
from tuimail.config import load_config
from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.onboarding import propose
from tuimail.ui.leaving import interface_session
from tuimail.ui.messages import JobFailed
from tuimail.ui.screens.setup import Finder, FormValues, SetupScreen
from tuimail.ui.themes import DEFAULT_THEME, load_themes

log = logging.getLogger(__name__)


class SetupApp(App[str | None]):
    """Shows the setup form; returns the saved account's name (None: cancelled)."""

    TITLE = "tuimail setup"
    CSS_PATH = "setup.tcss"

    def __init__(
        self,
        config_path: Path,
        *,
        values: FormValues | None = None,
        taken: frozenset[str] = frozenset(),
        finder: Finder = propose,
        theme: str = DEFAULT_THEME,
        user_themes: Path | None = None,
    ) -> None:
        super().__init__()
        self.form = SetupScreen(config_path, values=values, taken=taken, finder=finder)
        themes, _warnings = load_themes(user_themes)  # a broken user theme is the app's to report
        for registered in themes.values():
            self.register_theme(registered)
        self.theme = theme if theme in self.available_themes else DEFAULT_THEME

    def on_mount(self) -> None:
        self.push_screen(self.form, callback=self.exit)

    def on_job_failed(self, message: JobFailed) -> None:
        """A worker failed in a way the form did not expect: one line, the trace in the log."""
        log.error("%s failed", message.what, exc_info=message.error)
        text = f"{message.what} failed ({type(message.error).__name__}); see {paths.log_file()}"
        self.notify(sanitize_line(text), severity="error", markup=False)


def run_setup(config_path: Path, values: FormValues | None = None) -> str | None:
    """Show the form until the account is saved or the user leaves; the saved name or None."""
    taken: frozenset[str] = frozenset()
    theme = DEFAULT_THEME
    if config_path.exists():
        loaded = load_config(config_path)  # fix a broken file before adding to it
        taken = frozenset(loaded.accounts)
        theme = loaded.config.ui.theme
    app = SetupApp(config_path, values=values, taken=taken, theme=theme)
    with interface_session(app):  # a hangup or SIGTERM leaves as Esc does: nothing written
        return app.run()
