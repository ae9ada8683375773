"""The main screen's side of the conversation view: ``C`` opens it, and the message keys
pressed there run the main screen's own actions on the conversation's message.

A mixin of ``MainScreen``. The conversation screen owns no action of its own for a message:
``act_on`` points ``_targets`` at the message under the conversation's cursor for the length
of one action, so delete, flag, reply... behave exactly as in the index (the same queue, the
same questions, the same undo). Each result is passed on to the listeners (the open
conversation) so it can redraw what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from tuimail.store.records import FolderState
from tuimail.sync.interface import ActionResult
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import SearchLoaded
from tuimail.ui.widgets.message_index import MessageIndex

if TYPE_CHECKING:
    from tuimail.ui.screens.main import MainScreen

ResultListener = Callable[[ActionResult], None]


class ConversationActions(ReportsFailures, Screen[None]):
    """Open the conversation of the message under the cursor; act on its messages."""

    folder: FolderState | None
    search: SearchLoaded | None
    _chosen: tuple[int, ...] | None = None  # the conversation's message, during act_on
    _result_listeners: list[ResultListener] | None = None

    def open_folder(self, folder_id: int, keep: int | None = None) -> None:
        raise NotImplementedError  # MainScreen's

    def action_conversation(self) -> None:
        """The whole thread of the message under the index's cursor, on one screen."""
        message_id = self.query_one(MessageIndex).current_id
        if message_id is None:
            return
        from tuimail.ui.screens.conversation import ConversationScreen

        self.app.push_screen(ConversationScreen(cast("MainScreen", self), message_id))

    def act_on(self, message_id: int, action: str) -> None:
        """Run the main screen's ``action_<action>`` on ``message_id`` (the message under the
        conversation's cursor) instead of the index's or the view's message."""
        self._chosen = (message_id,)
        try:
            getattr(self, f"action_{action}")()
        finally:
            self._chosen = None

    def listen_to_results(self, listener: ResultListener) -> Callable[[], None]:
        """Call ``listener`` with every action's result; returns the function that stops it."""
        if self._result_listeners is None:
            self._result_listeners = []
        listeners = self._result_listeners
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    def tell_listeners(self, result: ActionResult) -> None:
        """Pass an action's result on to whoever listens (an open conversation)."""
        for listener in list(self._result_listeners or ()):
            listener(result)

    def select_message(self, message_id: int) -> None:
        """Put the index's cursor on ``message_id`` (back from a conversation)."""
        index = self.query_one(MessageIndex)
        if index.current_id == message_id or self.folder is None or self.search is not None:
            return
        # The index finds the line by reading its order again with ``keep`` (a folded thread
        # shows its first message's line instead).
        self.open_folder(self.folder.id, keep=message_id)
