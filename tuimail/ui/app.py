"""The Textual application: global bindings and screen routing."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Header, Static

from tuimail.config import LoadedConfig


class TuimailApp(App[None]):
    """The terminal interface."""

    TITLE = "tuimail"
    BINDINGS: ClassVar[list[BindingType]] = [("q", "quit", "Quit")]

    def __init__(self, config: LoadedConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        yield Header()
        names = ", ".join(self.config.accounts) or "no accounts"
        yield Static(f"Accounts: {names}", id="accounts")
        yield Footer()


def run_app(config: LoadedConfig) -> None:
    """Run the interface until the user quits."""
    TuimailApp(config).run()
