"""The main screen's tags: ``t`` marks messages, ``;`` then an action key acts on all of them.

A mixin of ``MainScreen``. The action keys after ``;`` are the user's own (``[ui.keys]``
applies); after the action the tags are cleared.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.screen import Screen

from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.widgets.message_index import MessageIndex

TAGGED_ACTIONS = ("delete", "move", "copy", "toggle_read", "flag")


class TagActions(ReportsFailures, Screen[None]):
    """Tag messages and run one action on every tagged message."""

    _act_on_tagged = False

    def _targets(self) -> tuple[int, ...]:
        raise NotImplementedError  # MainScreen knows which message is meant

    def _tagged_targets(self) -> tuple[int, ...] | None:
        """The tagged ids if ``;`` armed this action (the tags are used up), else None."""
        if not self._act_on_tagged:
            return None
        self._act_on_tagged = False
        return self.query_one(MessageIndex).take_tagged()

    def action_tag(self) -> None:
        """Tag or untag the message and move down to the next."""
        index = self.query_one(MessageIndex)
        ids = self._targets()
        if ids:
            index.toggle_tag(ids[0])
            index.action_cursor_down()

    def action_tag_prefix(self) -> None:
        """Ask which action to run on the tagged messages."""
        count = len(self.query_one(MessageIndex).tagged)
        if not count:
            self.notify("No tagged messages (t tags one).", timeout=3)
            return
        overrides: Mapping[str, str] = getattr(self.app, "overrides", {})
        answers: dict[str, str] = {}
        by_key: dict[str, keys.KeyAction] = {}
        for binding_id in TAGGED_ACTIONS:
            entry = keys.BY_ID[binding_id]
            key = keys.effective_keys(entry, overrides).split(",")[0]
            if len(key) == 1:
                answers[key] = entry.description
                by_key[key] = entry

        def answered(answer: str | None) -> None:
            entry = by_key.get(answer or "")
            if entry is not None:
                self._act_on_tagged = True
                getattr(self, f"action_{entry.action}")()
                self._act_on_tagged = False

        many = "1 tagged message" if count == 1 else f"{count} tagged messages"
        self.app.push_screen(ChoiceScreen(f"Act on {many}:", answers), answered)
