"""The main screen's searches: ``/`` in the open folder, ``\\`` everywhere, ``l`` to limit.

A mixin of ``MainScreen``: the matches replace the index's order like a virtual folder (every
action works on them); ``q`` or ``l`` goes back to the folder with the cursor kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from tuimail.mail.query import Query
from tuimail.store.records import FolderState
from tuimail.sync.interface import AccountFolders, MailService
from tuimail.ui.all_accounts import folder_names, line_owners
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import SearchLoaded
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tuimail.ui.screens.search import SearchRequest

SEARCH_RESULTS = -1  # the index's folder id while it shows search results (no real folder)


class SearchActions(ReportsFailures, Screen[None]):
    """Search and limit, with the results shown in the message index."""

    service: MailService
    folder: FolderState | None
    search: SearchLoaded | None
    accounts: list[AccountFolders]

    def open_folder(self, folder_id: int, keep: int | None = None) -> None:
        raise NotImplementedError  # MainScreen opens folders

    def _show_index(self) -> None:
        raise NotImplementedError  # MainScreen knows the panes

    def action_search(self) -> None:
        """Search the open folder; the results show in the index."""
        if self.folder is not None:
            self._ask("Search this folder", self.folder.id, limited=False)

    def action_search_all(self) -> None:
        """Search every folder of every account."""
        self._ask("Search all folders", None, limited=False)

    def action_limit(self) -> None:
        """Show only the open folder's messages that match a query; again: show them all."""
        if self.search is not None and self.search.limited:
            self._leave_search()
        elif self.folder is not None:
            self._ask("Limit this folder to", self.folder.id, limited=True)

    def _ask(self, title: str, folder_id: int | None, *, limited: bool) -> None:
        def asked(request: SearchRequest | None) -> None:
            if request is not None:
                self._run_search(request.text, request.query, folder_id, limited)

        from tuimail.ui.screens.search import QueryPrompt

        previous = self.search.text if self.search is not None else ""
        self.app.push_screen(QueryPrompt(title, previous), asked)

    def _run_search(self, text: str, query: Query, folder_id: int | None, limited: bool) -> None:
        self.run_worker(
            self._search(text, query, folder_id, limited),
            group="folder",  # a search and opening a folder replace each other
            exclusive=True,
            description="searching",
            exit_on_error=False,
        )

    async def _search(self, text: str, query: Query, folder_id: int | None, limited: bool) -> None:
        ids = await self.service.search(query, folder_id)
        self.post_message(SearchLoaded(text, query, folder_id, limited, ids))

    def on_search_loaded(self, message: SearchLoaded) -> None:
        """Show the matches in the index, like a folder one can act on."""
        self.search = message
        keep = self.query_one(MessageIndex).current_id
        self.query_one(MessageIndex).set_order(SEARCH_RESULTS, message.ids, None, keep)
        self.query_one(MessageIndex).name_folders(
            folder_names(self.accounts)
            if message.folder_id is None
            else line_owners(self.accounts, message.folder_id)  # All inboxes: the accounts
        )
        where = "Limit" if message.limited else "Search"
        if message.folder_id is None:
            where += " (all folders)"
        self.query_one(StatusBar).set_search(f"{where}: {message.text}", len(message.ids))
        self._show_index()

    def _leave_search(self) -> None:
        """Back to the open folder's full index, the cursor on the same message."""
        keep = self.query_one(MessageIndex).current_id
        self.search = None
        self.query_one(StatusBar).set_search(None)
        self.query_one(MessageIndex).name_folders(None)
        if self.folder is not None:
            self.open_folder(self.folder.id, keep=keep)
