"""The main screen's tags and bulk actions: ``t`` marks messages, ``T`` all shown, ``;`` then an
action key acts on all of them.

A mixin of ``MainScreen``. The action keys after ``;`` are the user's own (``[ui.keys]``
applies); after the action the tags are cleared. An action on more than one batch of messages
runs in a worker batch by batch (``sync.bulk``) with a progress bar; Escape or Ctrl+C stops it
after the running batch, so every message is either changed or untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.screen import Screen

from tuimail.sync import bulk
from tuimail.sync.interface import MailAction, MailService
from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import ActionApplied, TagsChanged
from tuimail.ui.widgets.bulk_progress import BulkProgress
from tuimail.ui.widgets.message_index import MessageIndex
from tuimail.ui.widgets.status_bar import StatusBar

TAGGED_ACTIONS = ("delete", "move", "copy", "toggle_read", "flag", "pipe", "save_to_file")
_VERBS = {
    "seen": "Marking read",
    "unseen": "Marking unread",
    "flag": "Flagging",
    "unflag": "Unflagging",
    "delete": "Deleting",
    "move": "Moving",
    "copy": "Copying",
}


class TagActions(ReportsFailures, Screen[None]):
    """Tag messages and run one action on every tagged message."""

    service: MailService
    _act_on_tagged = False
    _bulk_running = False
    _bulk_stop = False

    def _targets(self) -> tuple[int, ...]:
        raise NotImplementedError  # MainScreen knows which message is meant

    def _tagged_targets(self) -> tuple[int, ...] | None:
        """The tagged ids if ``;`` armed this action (the tags are used up), else None."""
        if not self._act_on_tagged:
            return None
        self._act_on_tagged = False
        return self.query_one(MessageIndex).take_tagged()

    def on_tags_changed(self, message: TagsChanged) -> None:
        """The status line says how many messages are tagged."""
        self.query_one(StatusBar).set_tagged(message.count)

    def action_tag(self) -> None:
        """Tag or untag the message and move down to the next."""
        index = self.query_one(MessageIndex)
        ids = self._targets()
        if ids:
            index.toggle_tag(ids[0])
            index.action_cursor_down()

    def action_tag_all(self) -> None:
        """Tag every message the index shows (a folder, a search, a limit); again: untag."""
        tagged = self.query_one(MessageIndex).tag_all()
        self.notify(f"{bulk.count_text(tagged)} tagged" if tagged else "Tags cleared", timeout=2)

    def action_tag_prefix(self) -> None:
        """Ask which action to run on the tagged messages."""
        count = len(self.query_one(MessageIndex).tagged)
        if not count:
            self.notify("No tagged messages (t tags one, T all).", timeout=3)
            return
        overrides: Mapping[str, str] = getattr(self.app, "overrides", {})
        answers: dict[str, str] = {}
        by_key: dict[str, keys.KeyAction] = {}
        for binding_id in TAGGED_ACTIONS:
            entry = keys.BY_ID[binding_id]
            key = keys.key_label(keys.effective_keys(entry, overrides).split(",")[0])
            if len(key) == 1:
                answers[key] = entry.description
                by_key[key] = entry

        def answered(answer: str | None) -> None:
            entry = by_key.get(answer or "")
            if entry is not None:
                self._act_on_tagged = True
                getattr(self, f"action_{entry.action}")()
                self._act_on_tagged = False

        many = "1 tagged message" if count == 1 else f"{count:,} tagged messages"
        from tuimail.ui.screens.choice import ChoiceScreen

        self.app.push_screen(ChoiceScreen(f"Act on {many}:", answers), answered)

    # -- bulk actions ------------------------------------------------------------------------

    def run_bulk(self, action: MailAction) -> None:
        """Apply an action on many messages in a worker, with progress, stoppable."""
        if self._bulk_running:
            self.notify("Another bulk action is still running.", severity="warning")
            return
        self._bulk_running, self._bulk_stop = True, False
        total = len(action.message_ids)
        self.query_one(BulkProgress).start(
            f"{_VERBS.get(action.kind, 'Changing')} {bulk.count_text(total)}", total
        )
        self.run_worker(
            self._bulk(action),
            group="bulk",
            description="changing messages",
            exit_on_error=False,
        )

    async def _bulk(self, action: MailAction) -> None:
        progress = self.query_one(BulkProgress)

        def advanced(done: int, _total: int) -> None:
            progress.advance(done, stopping=self._bulk_stop)

        try:
            result = await bulk.apply_in_batches(
                self.service, action, advanced, lambda: self._bulk_stop
            )
        finally:
            self._bulk_running = False
            progress.finish()
        self.post_message(ActionApplied(result))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape and Ctrl+C stop a bulk action only while one runs; otherwise they pass on."""
        if action == "cancel_bulk":
            return self._bulk_running
        return True

    def action_cancel_bulk(self) -> None:
        """Stop the running bulk action after the batch in progress."""
        if self._bulk_running and not self._bulk_stop:
            self._bulk_stop = True
            self.query_one(BulkProgress).stopping()
