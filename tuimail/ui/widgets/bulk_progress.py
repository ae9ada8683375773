"""One line above the status bar while an action runs on many messages: what, how far, how to
stop it. Hidden otherwise."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, ProgressBar

from tuimail.mail.sanitize import sanitize_line


class BulkProgress(Horizontal):
    """A label, a progress bar and ``done/total``."""

    done = 0
    total = 0

    def compose(self) -> ComposeResult:
        yield Label(id="bulk-label")
        # A total from the start: without one the bar is "indeterminate" and animates at
        # 15 frames a second even while hidden, which costs every cursor step its latency.
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="bulk-bar")
        yield Label(id="bulk-count")

    def on_mount(self) -> None:
        self.display = False

    def start(self, label: str, total: int) -> None:
        """Show the bar for ``total`` messages."""
        self.query_one("#bulk-label", Label).update(Content(sanitize_line(label)))
        self.query_one(ProgressBar).update(total=total, progress=0)
        self.done, self.total = 0, total
        self._count("Esc stops")
        self.display = True

    def advance(self, done: int, *, stopping: bool = False) -> None:
        """``done`` messages are changed."""
        self.done = done
        self.query_one(ProgressBar).update(progress=done)
        self._count("stopping after this batch" if stopping else "Esc stops")

    def stopping(self) -> None:
        """The user asked to stop: the running batch finishes first."""
        self._count("stopping after this batch")

    def finish(self) -> None:
        """Hide the bar."""
        self.display = False

    def _count(self, hint: str) -> None:
        text = f" {self.done:,}/{self.total:,}  {hint}"
        self.query_one("#bulk-count", Label).update(Content(text))
