"""The main screen's undo, like mutt's undelete: ``u`` in the index puts back what the last move
or delete (one message or a bulk action) took away, and a delete that cannot be undone (in
Trash, or where there is no Trash) asks first.

A mixin of ``MainScreen``. The service moves the messages back in the store at once and queues
the move back for the server, behind the move being undone (``sync.actions.move_back``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual.screen import Screen

from tuimail.store.records import FolderState
from tuimail.sync import bulk
from tuimail.sync.interface import AccountFolders, ActionResult, MailService, Moved
from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import ActionApplied
from tuimail.ui.widgets.message_index import MessageIndex


class UndoActions(ReportsFailures, Screen[None]):
    """Remember the last move, put it back on ``u``; ask before deleting for good."""

    service: MailService
    accounts: list[AccountFolders]
    folder: FolderState | None
    _reload_if_changed: bool
    _undo: tuple[Moved, ...] = ()

    def undoable(self, result: ActionResult) -> str:
        """The line to show for ``result``; a move is remembered for undo and says so."""
        if not result.moved:
            return result.summary
        self._undo = result.moved
        overrides: Mapping[str, str] = getattr(self.app, "overrides", {})
        key = keys.key_label(keys.effective_keys(keys.BY_ID["undo"], overrides).split(",")[0])
        return f"{result.summary} — {key} to undo"

    def action_undo(self) -> None:
        """Move the messages of the last move or delete back where they were."""
        moved, self._undo = self._undo, ()
        if not moved:
            self.notify("Nothing to undo.", timeout=3)
            return
        self.run_worker(
            self._move_back(moved),
            group="actions",
            description="undoing the last move",
            exit_on_error=False,
        )

    async def _move_back(self, moved: tuple[Moved, ...]) -> None:
        result = await self.service.undo(moved)
        self._reload_if_changed = True  # the open folder's order gets them back
        self.post_message(ActionApplied(result))

    def confirm_delete(self, ids: tuple[int, ...], delete: Callable[[], None]) -> None:
        """Run ``delete`` at once when it moves to Trash; ask first when it deletes for good."""
        self.with_folders_of(ids, lambda homes: self._ask_if_for_good(homes, delete))

    def with_folders_of(self, ids: tuple[int, ...], then: Callable[[list[int]], None]) -> None:
        """Call ``then`` with the folder of each message of ``ids`` that still exists.

        From the index's cached rows; rows that left the cache (tagged far away, or in All
        inboxes, where the open folder says nothing of a message's account) are read from the
        store first, so that no action judges a message by the open folder or by the others.
        """
        index = self.query_one(MessageIndex)
        homes = [row.folder_id for pk in ids if (row := index.cached(pk)) is not None]
        if len(homes) == len(ids):
            then(homes)
            return

        async def read() -> None:
            then([row.folder_id for row in await self.service.rows(ids)])

        self.run_worker(
            read(),
            group="folders-of",
            description="reading the messages' folders",
            exit_on_error=False,
        )

    def _ask_if_for_good(self, homes: list[int], delete: Callable[[], None]) -> None:
        for_good = sum(1 for folder_id in homes if self._deletes_for_good(folder_id))
        if not for_good:
            delete()
            return

        def answered(answer: str | None) -> None:
            if answer == "y":
                delete()

        question = f"Delete {bulk.count_text(for_good)} for good? This cannot be undone."
        from tuimail.ui.screens.choice import ChoiceScreen

        self.app.push_screen(ChoiceScreen(question, {"y": "delete", "n": "keep"}), answered)

    def _deletes_for_good(self, folder_id: int) -> bool:
        """Whether a delete in this folder removes the message for good (no Trash, or in it)."""
        for account in self.accounts:
            if any(folder.id == folder_id for folder in account.folders):
                trash = next((f for f in account.folders if f.role == "trash"), None)
                return trash is None or trash.id == folder_id
        return True  # a folder no account knows (gone meanwhile): ask rather than not
