"""Writing a message: From, To, Cc, Bcc, Subject, the body, attachments; send or postpone.

The draft is autosaved to the store every few seconds while it changes, so a crash loses at
most that much typing. Sending commits the message to the outbox here (a store write) and hands
the network part to whoever opened the screen (see ``MessageSubmitted``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from tuimail.errors import TuimailError
from tuimail.mail.compose import Attachment, Draft, Identity, format_address
from tuimail.mail.editable import draft_from_text, draft_to_text, split_addresses
from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import AddressSuggestion, ComposeService, Origin
from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures
from tuimail.ui.messages import DraftSaved, MessageSubmitted
from tuimail.ui.screens.choice import ChoiceScreen
from tuimail.ui.widgets.address_input import AddressInput, CompletionList
from tuimail.ui.widgets.path_suggester import PathSuggester

ADDRESS_FIELDS = ("to", "cc", "bcc")


def human_size(size: int) -> str:
    """``512 B``, ``12 KB``, ``3.4 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_label(attachment: Attachment) -> tuple[str, int]:
    """An attachment's file name and size in bytes."""
    if isinstance(attachment, Path):
        return attachment.name, attachment.stat().st_size
    name, data, _type = attachment
    return name, len(data)


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi, split like a shell would."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


class ComposeScreen(ReportsFailures, Screen[str | None]):
    """Write one message; dismissed with its Message-ID once in the outbox, else ``None``."""

    KEY_SCOPE: ClassVar[keys.Scope] = "compose"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("compose"))
    AUTOSAVE_SECONDS: ClassVar[float] = 5.0

    def __init__(
        self,
        composer: ComposeService,
        account: str,
        draft: Draft,
        *,
        origin: Origin | None = None,
        draft_id: int | None = None,
    ) -> None:
        super().__init__()
        self.composer = composer
        self.account = account
        self.origin = origin
        self.draft_id = draft_id
        self.identities = composer.identities(account)
        self.initial = draft
        self.saved = draft  # what the store has (or the prefill, before the first save)
        self._identity = draft.from_identity
        self._attachments: list[Attachment] = list(draft.attachments)
        self._busy = False
        # Saving, sending and discarding take turns and none is cancelled halfway: a save
        # cut off after its commit would leave a draft the screen no longer knows about.
        self._store_turn = asyncio.Lock()

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        draft = self.initial
        with Vertical(id="compose-fields"):
            if len(self.identities) > 1:
                with Horizontal(classes="compose-row"):
                    yield Label("From", classes="compose-label")
                    yield Select(
                        [(self._identity_text(i), n) for n, i in enumerate(self.identities)],
                        value=self._identity_index(),
                        allow_blank=False,
                        id="compose-from",
                    )
            else:
                with Horizontal(classes="compose-row"):
                    yield Label("From", classes="compose-label")
                    yield Static(
                        Content(self._identity_text(self._identity)), id="compose-from-fixed"
                    )
            for name in ADDRESS_FIELDS:
                with Horizontal(classes="compose-row"):
                    yield Label(name.capitalize(), classes="compose-label")
                    value = ", ".join(getattr(draft, name))
                    yield AddressInput(
                        value,
                        self._complete,
                        id=f"compose-{name}",
                        ask_address_book=self.composer.ask_address_book,
                    )
            with Horizontal(classes="compose-row"):
                yield Label("Subject", classes="compose-label")
                yield Input(draft.subject, id="compose-subject", select_on_focus=False)
        yield CompletionList(id="compose-completions")
        yield TextArea(draft.body, id="compose-body", soft_wrap=True)
        yield OptionList(id="compose-attachments")
        yield Input(
            placeholder="Path of the file to attach (Right completes)",
            id="compose-attach-path",
            suggester=PathSuggester(),
        )
        yield Static("", id="compose-state")
        yield Footer()

    def _identity_text(self, identity: Identity) -> str:
        return sanitize_line(format_address(identity.display_name, identity.email))

    def _identity_index(self) -> int:
        for n, identity in enumerate(self.identities):
            if identity == self._identity:
                return n
        return 0

    def on_mount(self) -> None:
        self.query_one(CompletionList).display = False
        self.run_worker(
            self.composer.prepare_completion(),
            group="completion",
            exclusive=True,
            description="reading addresses for completion",
            exit_on_error=False,
        )
        self._show_attachments()
        # set_focus at once, not focus(): that is deferred, and Tabs typed ahead (m, Tab, Tab)
        # moved on from the first field only to be sent back to it.
        first = "#compose-to" if not self.initial.to else "#compose-body"
        self.set_focus(self.query_one(first))
        self.set_interval(self.AUTOSAVE_SECONDS, self.autosave)

    # -- address completion ------------------------------------------------------------------

    async def _complete(self, fragment: str) -> list[AddressSuggestion]:
        return await self.composer.complete(fragment)

    def on_address_input_offered(self, message: AddressInput.Offered) -> None:
        """List the addresses offered for the focused field (or hide the list)."""
        listing = self.query_one(CompletionList)
        if message.field.has_focus:
            listing.show(message.suggestions, message.chosen)
        elif not isinstance(self.focused, AddressInput):  # a focused field posts its own
            listing.show([], 0)

    # -- the draft as the fields show it -----------------------------------------------------

    @property
    def draft(self) -> Draft:
        """The message as the fields show it now."""

        def field(name: str) -> str:
            return self.query_one(f"#compose-{name}", Input).value

        return dataclasses.replace(
            self.initial,
            from_identity=self._identity,
            to=split_addresses(field("to")),
            cc=split_addresses(field("cc")),
            bcc=split_addresses(field("bcc")),
            subject=field("subject"),
            body=self.query_one("#compose-body", TextArea).text,
            attachments=tuple(self._attachments),
        )

    def _fill(self, draft: Draft) -> None:
        self._identity = draft.from_identity
        for name in ADDRESS_FIELDS:
            self.query_one(f"#compose-{name}", Input).value = ", ".join(getattr(draft, name))
        self.query_one("#compose-subject", Input).value = draft.subject
        self.query_one("#compose-body", TextArea).text = draft.body
        if draft.from_identity in self.identities and len(self.identities) > 1:
            self.query_one("#compose-from", Select).value = self._identity_index()

    @property
    def changed(self) -> bool:
        """Whether the user changed anything since the screen opened."""
        return self.draft != self.initial

    def on_select_changed(self, event: Select.Changed) -> None:
        """Another From identity."""
        if isinstance(event.value, int):
            self._identity = self.identities[event.value]

    def _state(self, text: str) -> None:
        self.query_one("#compose-state", Static).update(Content(sanitize_line(text)))

    # -- attachments -------------------------------------------------------------------------

    def _show_attachments(self) -> None:
        listing = self.query_one("#compose-attachments", OptionList)
        listing.clear_options()
        for attachment in self._attachments:
            name, size = attachment_label(attachment)
            listing.add_option(Option(Content(f"📎 {sanitize_line(name)}  ({human_size(size)})")))
        listing.display = bool(self._attachments)

    def action_attach(self) -> None:
        """Ask for a path to attach."""
        path_input = self.query_one("#compose-attach-path", Input)
        path_input.add_class("-open")
        path_input.value = ""
        path_input.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A path to attach was given (Enter in the other fields does nothing)."""
        if event.input.id != "compose-attach-path":
            return
        event.stop()
        event.input.remove_class("-open")
        text = event.value.strip()
        self.query_one("#compose-body", TextArea).focus()
        if not text:
            return
        path = Path(text).expanduser()
        if not path.is_file():
            self.notify(sanitize_line(f"No file {text}"), severity="error", markup=False)
            return
        self._attachments.append(path)
        self._show_attachments()

    def action_drop_attachment(self) -> None:
        """Drop the attachment highlighted in the list (the last one when none is)."""
        if not self._attachments:
            return
        chosen = self.query_one("#compose-attachments", OptionList).highlighted
        position = chosen if chosen is not None else len(self._attachments) - 1
        name, _ = attachment_label(self._attachments.pop(position))
        self._show_attachments()
        self._state(f"Dropped {name}")

    # -- the external editor -----------------------------------------------------------------

    def action_external_editor(self) -> None:
        """Edit the whole message, headers included, in $VISUAL or $EDITOR."""
        text = draft_to_text(self.draft)
        with tempfile.TemporaryDirectory(prefix="tuimail-") as folder:
            path = Path(folder) / "message.eml"
            path.write_text(text, encoding="utf-8")
            try:
                with self.app.suspend():
                    code = subprocess.call([*editor_command(), str(path)])
            except SuspendNotSupported:
                # Headless (tests) has no terminal to give away; the editor runs all the same.
                code = subprocess.call([*editor_command(), str(path)])
            edited = path.read_text(encoding="utf-8")
        if code != 0:
            self.notify(f"The editor exited with status {code}; nothing changed", severity="error")
            return
        try:
            self._fill(draft_from_text(edited, self.draft, self.identities))
        except TuimailError as exc:
            self.notify(sanitize_line(str(exc)), severity="error", markup=False)

    # -- saving ------------------------------------------------------------------------------

    def autosave(self) -> None:
        """Save to the store when the message changed since the last save (timer)."""
        draft = self.draft
        if draft != self.saved and not self._busy:
            self._save(draft, postpone=False)

    @work(group="draft-save", exit_on_error=False, description="saving the draft")
    async def _save(self, draft: Draft, postpone: bool) -> None:
        save = self.composer.postpone if postpone else self.composer.autosave
        try:
            async with self._store_turn:
                if self._busy and not postpone:
                    return  # sent or thrown away while this save waited its turn
                draft_id = await save(self.account, draft, self.draft_id)
                self.draft_id, self.saved = draft_id, draft
        except BaseException:
            if postpone:
                self._busy = False  # the screen stays open: let the user try again
            raise
        self.post_message(DraftSaved(draft_id, draft, postpone))

    async def save_before_exit(self) -> None:
        """One last save when the app is made to leave with this message open (SIGHUP, SIGTERM)."""
        draft = self.draft
        async with self._store_turn:
            if draft != self.saved and not self._busy:
                self.draft_id = await self.composer.autosave(self.account, draft, self.draft_id)
                self.saved = draft

    def on_draft_saved(self, message: DraftSaved) -> None:
        """The store has the draft (the worker noted its id); a postponed one closes the screen."""
        if message.postponed:
            self.notify("Postponed to Drafts", timeout=3)
            self.dismiss(None)
        else:
            self._state("Draft saved")

    def action_postpone(self) -> None:
        """Save to the Drafts folder and close."""
        self._busy = True
        self._save(self.draft, postpone=True)

    # -- sending -----------------------------------------------------------------------------

    def action_send(self) -> None:
        """Commit to the outbox (the screen closes); the sending itself happens behind."""
        if self._busy:
            return
        self._busy = True
        self._state("Sending…")
        self._submit(self.draft)

    def action_send_later(self) -> None:
        """Ask when, say it back in words, then commit to the outbox due at that time."""
        if self._busy:
            return
        from tuimail.ui.screens.send_later_prompt import SendLaterPrompt

        def chosen(send_at: int | None) -> None:
            if send_at is not None and not self._busy:
                self._busy = True
                self._state("Scheduling…")
                self._submit(self.draft, send_at)

        self.app.push_screen(SendLaterPrompt(), chosen)

    @work(group="draft-send", exclusive=True, exit_on_error=False, description="sending")
    async def _submit(self, draft: Draft, send_at: int | None = None) -> None:
        try:
            async with self._store_turn:
                message_id = await self.composer.submit(
                    self.account, draft, self.draft_id, self.origin, send_at
                )
                self.draft_id = None  # submit dropped the saved draft
        except BaseException:
            self._busy = False  # not sent: the screen stays, autosave goes on
            raise
        # Still busy: no autosave between here and the screen closing may save a sent message.
        self.post_message(MessageSubmitted(message_id))

    def on_message_submitted(self, message: MessageSubmitted) -> None:
        """In the outbox: close with its Message-ID, the opener sends."""
        self.dismiss(message.message_id)

    # -- leaving -----------------------------------------------------------------------------

    def action_discard(self) -> None:
        """Throw the message away, after asking."""

        def answered(answer: str | None) -> None:
            if answer == "y":
                self._throw_away()

        self.app.push_screen(
            ChoiceScreen("Discard this message?", {"y": "yes", "n": "no"}), answered
        )

    def action_close(self) -> None:
        """Close; with unsaved changes ask whether to postpone or discard them."""
        if not self.changed and self.draft_id is None:
            self.dismiss(None)
            return

        def answered(answer: str | None) -> None:
            if answer == "p":
                self.action_postpone()
            elif answer == "d":
                self._throw_away()

        self.app.push_screen(
            ChoiceScreen("This message is not sent.", {"p": "postpone to Drafts", "d": "discard"}),
            answered,
        )

    def _throw_away(self) -> None:
        if self.draft_id is None and not self._store_turn.locked():
            self.dismiss(None)
            return
        self._busy = True
        self._discard()

    @work(group="draft-send", exclusive=True, exit_on_error=False, description="discarding")
    async def _discard(self) -> None:
        async with self._store_turn:  # after a save in flight, so its draft goes too
            if self.draft_id is not None:
                await self.composer.discard(self.draft_id)
                self.draft_id = None
        self.app.call_later(self.dismiss, None)
