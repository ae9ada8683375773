"""An address field that completes the address being typed (the text after the last comma).

As the user types, the field asks the compose service for addresses starting with that text:
the best one shows inline after the cursor (Textual's ``Input`` suggester; Right takes it as
shown), and the first few are listed under the fields (``CompletionList``). Tab takes the
chosen one as ``Name <address>``, Down and Up choose another; with nothing offered Tab moves
on to the next field as usual.

With ``[ui] address_book_command``, the command is asked too, aside: a moment after the typing
stops (each key cancels the question before, and its process), its answer merged with the
store's when it comes, dropped when the text changed meanwhile or it took too long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static

from tuimail.mail.sanitize import sanitize_line
from tuimail.sync.interface import AddressSuggestion
from tuimail.ui import keys
from tuimail.ui.jobs import ReportsFailures

log = logging.getLogger(__name__)

Lookup = Callable[[str], Awaitable[list[AddressSuggestion]]]
SlowLookup = Callable[[str], Awaitable[list[AddressSuggestion] | None]]
ASK_AFTER = 0.15  # seconds of no typing before the address book command is asked
_SOURCE_NOTES = {
    "written": "written to {uses}×",
    "own": "you",
    "contacts": "contacts",
    "received": "received",
}


def split_fragment(value: str) -> tuple[str, str]:
    """(what comes before the address being typed, that address); commas in quotes don't count."""
    quoted = False
    cut = -1
    for position, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            cut = position
    head, fragment = value[: cut + 1], value[cut + 1 :]
    typed = fragment.lstrip()
    return head + fragment[: len(fragment) - len(typed)], typed


def inline_rest(fragment: str, suggestion: AddressSuggestion) -> str | None:
    """What to show after the cursor for ``suggestion``, if it continues what was typed."""
    for whole in (suggestion.text, suggestion.email):
        if whole.casefold().startswith(fragment.casefold()) and len(whole) > len(fragment):
            return whole[len(fragment) :]
    return None


class AddressSuggester(Suggester):
    """Asks the field's lookup; uncached, since the store changes while one writes."""

    def __init__(self, field: AddressInput) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.field = field

    async def get_suggestion(self, value: str) -> str | None:
        """The whole field value with the best address completed, if it continues the text."""
        return await self.field.look_up(value)


class AddressInput(ReportsFailures, Input):
    """To, Cc or Bcc: comma-separated addresses, the one being typed completed."""

    KEY_SCOPE: ClassVar[keys.Scope] = "address"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("address"))

    @dataclass
    class Offered(Message):
        """The addresses offered for the field changed (none: hide the list)."""

        field: AddressInput
        suggestions: list[AddressSuggestion]
        chosen: int

    @dataclass
    class Found(Message, bubble=False):
        """A lookup for ``value`` came back (posted to the field itself)."""

        value: str
        suggestions: list[AddressSuggestion]

    def __init__(
        self,
        value: str,
        lookup: Lookup | None,
        *,
        id: str,
        ask_address_book: SlowLookup | None = None,
    ) -> None:
        super().__init__(value, id=id, select_on_focus=False)
        self.lookup = lookup
        self.ask_address_book = ask_address_book
        if lookup is not None:
            self.suggester = AddressSuggester(self)
        self.suggestions: list[AddressSuggestion] = []
        self.chosen = 0
        self._offered_for = value  # the field's value the suggestions were found for

    async def look_up(self, value: str) -> str | None:
        """Find addresses for the text being typed (called by the suggester on each change)."""
        _head, fragment = split_fragment(value)
        if not fragment:
            return None
        found = await self._find(fragment)
        self.post_message(self.Found(value, found))
        if self.ask_address_book is not None:
            # Exclusive: starting it cancels the question for the text before (and ends its
            # process), so a slow command never piles up behind the typing.
            self.run_worker(
                self._ask_aside(value, fragment),
                group="address-book-command",
                exclusive=True,
                exit_on_error=False,
            )
        rest = inline_rest(fragment, found[0]) if found else None
        return value + rest if rest is not None else None

    async def _find(self, fragment: str) -> list[AddressSuggestion]:
        if self.lookup is None:
            return []
        try:
            return await self.lookup(fragment)
        except Exception:  # completion is a help, never a reason to lose the message
            log.warning("address completion failed", exc_info=True)
            return []

    async def _ask_aside(self, value: str, fragment: str) -> None:
        await asyncio.sleep(ASK_AFTER)  # typing on cancels this before the command starts
        if value != self.value or self.ask_address_book is None:
            return
        try:
            found = await self.ask_address_book(fragment)
        except Exception:  # completion is a help, never a reason to lose the message
            log.warning("address book command failed", exc_info=True)
            return
        if found is not None:
            self.post_message(self.Found(value, found))

    def on_address_input_found(self, message: Found) -> None:
        """Offer what was found, unless the text changed meanwhile."""
        if message.value == self.value:
            self._offer(message.suggestions)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Nothing typed after the last comma: nothing to offer."""
        if event.input is self and not split_fragment(event.value)[1]:
            self._offer([])

    def _offer(self, suggestions: list[AddressSuggestion]) -> None:
        self.suggestions, self.chosen, self._offered_for = suggestions, 0, self.value
        self.post_message(self.Offered(self, suggestions if self.has_focus else [], 0))

    # Input's own focus and blur handlers run as well (Textual calls each class's handler).
    def on_focus(self, _event: events.Focus) -> None:
        """Show what is offered for this field."""
        self.post_message(self.Offered(self, self.suggestions, self.chosen))

    def on_blur(self, _event: events.Blur) -> None:
        """Hide the list while another field has focus."""
        self.post_message(self.Offered(self, [], 0))

    def _choose(self, step: int) -> None:
        if not self.suggestions:
            return
        self.chosen = (self.chosen + step) % len(self.suggestions)
        _head, fragment = split_fragment(self.value)
        rest = inline_rest(fragment, self.suggestions[self.chosen])
        # The inline hint follows the choice; Input keeps it in a reactive of its own.
        self._suggestion = self.value + rest if rest is not None else ""
        self.post_message(self.Offered(self, self.suggestions, self.chosen))

    def action_next_suggestion(self) -> None:
        """Choose the next address offered."""
        self._choose(1)

    def action_previous_suggestion(self) -> None:
        """Choose the previous address offered."""
        self._choose(-1)

    async def action_complete(self) -> None:
        """Put the chosen address in place of the text typed; with none offered, move on."""
        head, fragment = split_fragment(self.value)
        if fragment and self._offered_for != self.value:
            # Tab came before the lookup for the text as it is now: look it up here, so that
            # Tab does the same however fast it is typed (keys wait for this action).
            self._offer(await self._find(fragment))
        if not fragment or not self.suggestions:
            self.screen.focus_next()
            return
        chosen = self.suggestions[self.chosen]
        if fragment.casefold() == chosen.email.casefold():  # typed in full: keep it as typed
            self.screen.focus_next()
            return
        self.value = head + chosen.text
        self.cursor_position = len(self.value)
        self._offer([])


class CompletionList(Static):
    """The addresses offered for the focused field, the chosen one marked."""

    def show(self, suggestions: list[AddressSuggestion], chosen: int) -> None:
        """List ``suggestions`` (hidden when empty)."""
        parts: list[str | tuple[str, str]] = []
        for number, suggestion in enumerate(suggestions):
            mark = "▸ " if number == chosen else "  "
            style = "bold $text-accent" if number == chosen else "$foreground"
            note = _SOURCE_NOTES[suggestion.source].format(uses=suggestion.uses)
            parts.append((mark + sanitize_line(suggestion.text), style))
            parts.append((f"  {note}\n", "$text-muted"))
        self.update(Content.assemble(*parts).rstrip() if parts else Content(""))
        self.display = bool(suggestions)
