"""An action on many messages, applied in batches so it can report progress and be stopped.

Each batch is one ``MailService.apply`` call: one store transaction, so a stop (between
batches) leaves every message either fully changed or untouched and the folder counts right.
For an IMAP folder each batch queues one action, replayed as one UID command with all of its
UIDs; a batch of BATCH messages keeps that to a handful of commands even for 10,000 messages.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from tuimail.sync.interface import ActionResult, MailAction, MailService, Moved

BATCH = 1000
_COUNT = re.compile(r"^\d+ messages? ")


def count_text(count: int) -> str:
    """``1 message``, ``2,000 messages``."""
    return "1 message" if count == 1 else f"{count:,} messages"


async def apply_in_batches(
    service: MailService,
    action: MailAction,
    progress: Callable[[int, int], None],
    stop_requested: Callable[[], bool],
    batch: int = BATCH,
) -> ActionResult:
    """Apply ``action`` batch by batch; ``progress(done, total)`` after each; stops before the
    next batch once ``stop_requested()`` says so. The result covers what was done."""
    ids = action.message_ids
    removed: list[int] = []
    changed: list[int] = []
    folders: set[int] = set()
    moved: list[Moved] = []
    summary = ""
    done = 0
    for start in range(0, len(ids), batch):
        if stop_requested():
            break
        chunk = ids[start : start + batch]
        result = await service.apply(dataclasses.replace(action, message_ids=chunk))
        removed.extend(result.removed)
        changed.extend(result.changed)
        folders |= result.folders
        moved.extend(result.moved)
        summary = result.summary
        done += len(chunk)
        progress(done, len(ids))
    # The service words one batch ("1,000 messages moved to Archive"); say it for all of them.
    if _COUNT.match(summary):
        summary = f"{count_text(done)} {_COUNT.sub('', summary, count=1)}"
    if done < len(ids):
        what = summary or f"{count_text(done)} changed"
        summary = f"Stopped after {done:,} of {len(ids):,}: {what}"
    return ActionResult(tuple(removed), tuple(changed), frozenset(folders), summary, tuple(moved))
