"""The Textual application: themes, keymap, the store, background sync, error reporting."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tuimail import collector

# The collector waits while the interface's modules load (see ``collector``).
with collector.paused_for_imports():
    import asyncio
    import importlib
    import logging
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime
    from functools import partial
    from pathlib import Path

    from textual import events
    from textual.app import App, SystemCommand
    from textual.binding import BindingType
    from textual.dom import DOMNode
    from textual.filter import LineFilter
    from textual.screen import Screen

    from tuimail import paths
    from tuimail.collector import CHECK_SECONDS, QuietCollector
    from tuimail.config import LoadedConfig
    from tuimail.errors import TuimailError
    from tuimail.mail.sanitize import sanitize_line
    from tuimail.sync.interface import ComposeService, MailService
    from tuimail.sync.startup import Startup
    from tuimail.ui import keys
    from tuimail.ui.jobs import ReportsFailures
    from tuimail.ui.leaving import interface_session
    from tuimail.ui.messages import IndexPainted, JobFailed
    from tuimail.ui.screens.main import FIRST_LINES, MainScreen
    from tuimail.ui.themes import DEFAULT_THEME, load_themes, without_colour

if TYPE_CHECKING:
    from tuimail.store.db import Store
    from tuimail.sync.service import StoreMailService

log = logging.getLogger(__name__)
# Screens only a key opens: imported after the first paint, in a thread, so the first screen
# does not wait for them and the first key that opens one does not either.
KEY_SCREENS = (
    "tuimail.ui.screens.compose",
    "tuimail.ui.screens.search",
    "tuimail.ui.screens.folder_picker",
    "tuimail.ui.screens.draft_picker",
    "tuimail.ui.screens.link_picker",
    "tuimail.ui.screens.save_prompt",
    "tuimail.ui.screens.choice",
    "tuimail.ui.screens.help",
)
# The store opens behind the first screen (``sync.startup``); if the index paints nothing (an
# empty folder), it opens after this many seconds at the latest.
OPEN_STORE_AFTER = 0.5


def local_now() -> datetime:
    """The time now in the local time zone (the index's idea of "today")."""
    return datetime.now().astimezone()


def scope_chain(screen: Screen[object]) -> list[tuple[keys.Scope, DOMNode]]:
    """The key scopes in effect from the focused widget outwards, each with its node."""
    start: DOMNode = screen.focused if screen.focused is not None else screen
    chain: list[tuple[keys.Scope, DOMNode]] = []
    for node in start.ancestors_with_self:
        scope = getattr(node, "KEY_SCOPE", None)
        if scope is not None:
            chain.append((scope, node))
    return chain


class TuimailApp(ReportsFailures, App[None]):
    """The terminal interface."""

    TITLE = "tuimail"
    CSS_PATH = "app.tcss"
    KEY_SCOPE: ClassVar[keys.Scope] = "app"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("app"))

    def __init__(
        self,
        config: LoadedConfig,
        *,
        service: MailService | None = None,
        store_path: Path | None = None,
        clock: Callable[[], datetime] = local_now,
        start_sync: bool = True,
        user_themes: Path | None = None,
        composer: ComposeService | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.service = service
        self.composer = composer
        self.store_path = store_path
        self.clock = clock
        self.start_sync = start_sync
        self.startup_error: TuimailError | None = None
        self.overrides = keys.keymap(config.config.ui.keys)  # a bad [ui.keys] fails at start
        self._store: Store | None = None
        self._opened: StoreMailService | None = None
        self._startup: Startup | None = None
        self._syncing: set[str] = set()
        self.collector = QuietCollector()
        themes, self._theme_warnings = load_themes(user_themes)
        self.our_themes = list(themes)
        for theme in themes.values():
            self.register_theme(theme)
        wanted = config.config.ui.theme
        if wanted not in self.available_themes:
            self._theme_warnings.append(f"no theme named {wanted!r}; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted

    async def on_mount(self) -> None:
        # What the imports made lives as long as the app: frozen out of the collector's sight
        # before the first screen is built, so the collections while it paints stay small.
        self.collector.start()
        self.set_keymap(self.overrides)
        for warning in self._theme_warnings + self.config.warnings:
            self.notify(sanitize_line(warning), severity="warning", markup=False)
        starting = self.service is None  # else the caller (a test) brought its own services
        first = None
        if self.service is None:
            self._startup = Startup(self.store_path or paths.store_file(), self.config, FIRST_LINES)
            try:
                self._startup.begin()
            except TuimailError as exc:
                self.startup_error = exc
                self.exit(return_code=1)
                return
            self.service, self.composer = self._startup.mail, self._startup.composer
            first = self._startup.first
            if first and first.head:
                self.set_timer(OPEN_STORE_AFTER, self._open_store)
            else:  # nothing to paint first (no store yet, or an older one to migrate)
                self.call_after_refresh(self._open_store)
        elif self.composer is None:
            from tuimail.sync.service import StoreMailService

            if isinstance(self.service, StoreMailService):
                from tuimail.sync.composing import StoreComposer

                self.composer = StoreComposer(self.service.store, self.config, self.service)
        await self.push_screen(
            MainScreen(
                self.service,
                self.config.config.ui,
                self.clock,
                self.composer,
                watch=self.start_sync,
                first=first,
            )
        )
        if not starting:
            self._settle()
        if self.start_sync:
            for name, account in self.config.accounts.items():
                self.sync_account(name)
                self.set_interval(account.poll_interval, partial(self.sync_account, name))

    def get_line_filters(self) -> Sequence[LineFilter]:
        """NO_COLOR means no colour at all, not greys."""
        filters = super().get_line_filters()
        return without_colour(filters) if self.no_color else filters

    def _settle(self) -> None:
        # What exists now (Textual, the store, the screen) lives as long as the app: frozen out
        # of the collector's sight. Full collections wait for a moment without input.
        self.collector.start()
        self.set_interval(CHECK_SECONDS, self.collector.tick)

    def on_index_painted(self, _message: IndexPainted) -> None:
        """The first screen is up: open the store behind it."""
        self.call_after_refresh(self._open_store)

    def _open_store(self) -> None:
        startup, self._startup = self._startup, None
        if startup is not None:
            # No full collection while the store layer loads: it would stop keys for a frame
            # or more (the objects it makes are frozen once it is open).
            self.collector.start()
            self.run_worker(
                self._finish_startup(startup), description="opening the store", exit_on_error=False
            )

    async def _finish_startup(self, startup: Startup) -> None:
        try:
            self._store = await startup.finish()
            self._opened = startup.opened
        except TuimailError as exc:
            self.startup_error = exc
            self.exit(return_code=1)
            return
        self._settle()
        for name in KEY_SCREENS:
            await asyncio.to_thread(importlib.import_module, name)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseEvent):
            self.collector.input_seen()
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.collector.stop()
        if self._startup is not None:
            self._startup.abandon()
        if self._opened is not None:
            await self._opened.close()  # LOGOUT of the kept IMAP connections
        if self._store is not None:
            await self._store.close()

    def on_job_failed(self, message: JobFailed) -> None:
        """The one place a failure becomes a notification (one line) and a log record (trace)."""
        error = message.error
        if isinstance(error, TuimailError):
            log.info("%s: %s", message.what, error, exc_info=error)
            text = str(error)
        else:
            log.error("%s failed", message.what, exc_info=error)
            text = f"{message.what} failed ({type(error).__name__}); details in {paths.log_file()}"
        self.notify(sanitize_line(text), severity="error", markup=False)

    # -- sync -------------------------------------------------------------------------------

    def sync_account(self, name: str) -> None:
        """Start one sync pass of an account unless one is running."""
        if name in self._syncing or self.service is None:
            return
        self._syncing.add(name)
        self.run_worker(
            self._sync(self.service, name),
            group=f"sync-{name}",
            description=f"syncing {name}",
            exit_on_error=False,
        )

    async def _sync(self, service: MailService, name: str) -> None:
        try:
            await service.sync(name)
        finally:
            self._syncing.discard(name)

    def action_sync(self) -> None:
        """Sync every account now."""
        if not self.config.accounts:
            self.notify("No accounts configured.")
        for name in self.config.accounts:
            self.sync_account(name)

    # -- look and help ----------------------------------------------------------------------

    def action_cycle_theme(self) -> None:
        """The next of tuimail's themes (all themes are in the command palette)."""
        names = self.our_themes
        position = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(position + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2, markup=False)

    def action_help(self) -> None:
        """Keys for where you are."""
        from tuimail.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        scopes = [scope for scope, _ in scope_chain(self.screen)]
        self.push_screen(HelpScreen(scopes, self.overrides))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands, then every action that applies where the palette was opened."""
        yield from super().get_system_commands(screen)
        listed: set[str] = set()
        for scope, node in scope_chain(screen):
            for entry in keys.in_scope(scope):
                if entry.id in listed or scope == "help":
                    continue
                listed.add(entry.id)
                shown = keys.key_label(keys.effective_keys(entry, self.overrides))
                yield SystemCommand(
                    entry.description,
                    f"{shown}  ·  {entry.id}",
                    partial(self.run_action, keys.action_string(entry), node),
                )


def run_app(config: LoadedConfig) -> None:
    """Run the interface until the user quits; a start-up failure is raised as one error."""
    app = TuimailApp(config)
    with interface_session(app):  # stderr elsewhere, SIGHUP and SIGTERM: see ui/leaving.py
        app.run()
    if app.startup_error is not None:
        raise app.startup_error
