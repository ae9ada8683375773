"""The main screen's keys from a message to the shell: ``|`` pipes it to a command, ``S`` saves
it to a file.

A mixin of ``MainScreen``. Both act on the message meant (the open one in the view, the one
under the cursor in the index) or, after ``;``, on every tagged message. ``[ui] pipe_split``
says whether tagged messages go to one run of the command as an mbox stream or to one run
each; ``[ui] pipe_decode`` whether the prompt starts on the decoded text (Tab switches).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.screen import Screen

from tuimail.config import UIConfig
from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import MessageRow
from tuimail.sync import bulk
from tuimail.sync.interface import MailService
from tuimail.sync.pipe_history import history_file, read_history, remember
from tuimail.sync.save_messages import save_messages
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.screens.pipe_prompt import PipeRequest


class PipeActions(ReportsFailures, Screen[None]):
    """Pipe messages to a shell command, or save them to an mbox or .eml file."""

    service: MailService
    ui: UIConfig
    _save_path = "~/"  # the file saved to last, offered again (an mbox grows by appending)

    def _targets(self) -> tuple[int, ...]:
        raise NotImplementedError  # MainScreen knows which message is meant

    def action_pipe(self) -> None:
        """Ask for a command and pipe the message(s) to it; its output shows in a pager."""
        ids = self._targets()
        if not ids:
            return
        path = history_file()
        history = read_history(path)

        def chosen(request: PipeRequest | None) -> None:
            if request is None:
                return
            remember(path, history, request.command)
            from tuimail.ui.screens.pipe_output import PipeOutput

            self.app.push_screen(PipeOutput(self.service, ids, request, split=self.ui.pipe_split))

        from tuimail.ui.screens.pipe_prompt import PipePrompt

        prompt = PipePrompt(bulk.count_text(len(ids)), history, decode=self.ui.pipe_decode)
        self.app.push_screen(prompt, chosen)

    def action_save_to_file(self) -> None:
        """Ask for a file and save the message(s) there: .eml for one, else an mbox."""
        ids = self._targets()
        if not ids:
            return

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._save_path = str(path)
                self.run_worker(
                    self._save(ids, path),
                    group="save_file",
                    description="saving to a file",
                    exit_on_error=False,
                )

        from tuimail.ui.screens.save_messages_prompt import SaveMessagesPrompt

        what = bulk.count_text(len(ids))
        self.app.push_screen(SaveMessagesPrompt(what, len(ids), self._save_path), chosen)

    async def _save(self, ids: tuple[int, ...], path: Path) -> None:
        rows = {row.id: row for row in await self.service.rows(ids)}
        messages: list[tuple[MessageRow, bytes]] = [
            (rows[message_id], await self.service.open_message(message_id))
            for message_id in ids
            if message_id in rows
        ]
        fmt = await asyncio.to_thread(save_messages, path, messages)
        kind = "an .eml file" if fmt == "eml" else "mbox"
        text = f"Saved {bulk.count_text(len(messages))} to {path} ({kind})"
        self.notify(sanitize_line(text), markup=False, timeout=4)
