"""The status line: where you are, sync progress per account, offline, outbox, new mail."""

from __future__ import annotations

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import FolderState
from tuimail.sync.interface import SyncProgress

_ROLE_NAMES = {"inbox": "Inbox"}
NOTICE_SECONDS = 10.0  # a note ("demo: 144 new messages") stays this long, not all session


class StatusBar(Static):
    """One line at the bottom of the main screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._account = ""
        self._folder: FolderState | None = None
        self._syncing: dict[str, SyncProgress | None] = {}
        self._offline: set[str] = set()
        self._outbox = 0
        self._notice = ""
        self._notice_timer: Timer | None = None
        self.notice_seconds = NOTICE_SECONDS
        self._search: tuple[str, int] | None = None
        self._tagged = 0

    def set_tagged(self, count: int) -> None:
        """Messages tagged in the index (the next ``;`` acts on them)."""
        if count != self._tagged:
            self._tagged = count
            self._redraw()

    def set_search(self, label: str | None, found: int = 0) -> None:
        """A search or limit shown in the index instead of the folder (None: the folder)."""
        self._search = None if label is None else (sanitize_line(label), found)
        self._redraw()

    def set_location(self, account: str, folder: FolderState | None) -> None:
        """The open account and folder (with its counts)."""
        self._account, self._folder = account, folder
        self._redraw()

    def sync_started(self, account: str) -> None:
        """An account began to sync."""
        self._syncing[account] = None
        self._redraw()

    def sync_progress(self, progress: SyncProgress) -> None:
        """How far an account's sync is."""
        self._syncing[progress.account] = progress
        self._redraw()

    def sync_done(self, account: str, ok: bool) -> None:
        """An account finished syncing; a failure marks it offline until the next success."""
        self._syncing.pop(account, None)
        if ok:
            self._offline.discard(account)
        else:
            self._offline.add(account)
        self._redraw()

    def set_outbox(self, count: int) -> None:
        """Messages waiting to be sent."""
        self._outbox = count
        self._redraw()

    def set_notice(self, text: str) -> None:
        """A short note such as new mail, until the next one or ``notice_seconds`` later."""
        self._notice = sanitize_line(text)
        if self._notice_timer is not None:
            self._notice_timer.stop()
        self._notice_timer = self.set_timer(self.notice_seconds, self._clear_notice)
        self._redraw()

    def _clear_notice(self) -> None:
        self._notice, self._notice_timer = "", None
        self._redraw()

    @property
    def offline(self) -> frozenset[str]:
        """Accounts whose last sync failed."""
        return frozenset(self._offline)

    def _redraw(self) -> None:
        parts: list[str | tuple[str, str]] = []
        if self._search is not None:
            label, found = self._search
            parts.append((label, "bold"))
            parts.append(f"  {found} found")
        elif self._folder is not None:
            folder = self._folder
            name = _ROLE_NAMES.get(folder.role or "", sanitize_line(folder.name))
            parts.append((f"{sanitize_line(self._account)} › {name}", "bold"))
            total = folder.total_count
            parts.append(
                f"  {total} message{'' if total == 1 else 's'}, {folder.unread_count} unread"
            )
        if self._tagged:
            parts.append((f"  {self._tagged:,} tagged", "bold"))
        for account, progress in sorted(self._syncing.items()):
            if progress is None or not progress.total:
                parts.append((f"  ⟳ {sanitize_line(account)}", "$text-accent"))
            else:
                done = f"{progress.done}/{progress.total}"
                parts.append((f"  ⟳ {sanitize_line(account)} {done}", "$text-accent"))
        if self._offline:
            names = ", ".join(sanitize_line(a) for a in sorted(self._offline))
            parts.append((f"  offline: {names}", "$text-warning bold"))
        if self._outbox:
            parts.append((f"  outbox {self._outbox}", "$text-warning"))
        else:
            parts.append(("  outbox 0", "$text-muted"))
        if self._notice:
            parts.append((f"  {self._notice}", "$text-success bold"))
        self.update(Content.assemble(*parts))
