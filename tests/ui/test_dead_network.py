"""The interface on a network that died silently: keys still act at once, and the server
follows once the network is back, without a key pressed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness.accounts import config, imap_table
from tests.harness.dovecot import Dovecot, MailUser
from tests.harness.relay import SilentRelay
from tests.ui.conftest import deliver_generated
from tests.ui.mailstore import fixed_clock
from tests.ui.pilot import settle, wait_for
from tests.ui.test_action_races import drawn_flags, pending, server_flags
from tuimail.store.db import open_store
from tuimail.sync.service import StoreMailService
from tuimail.sync.watch import FolderWatcher
from tuimail.ui.app import TuimailApp
from tuimail.ui.widgets.message_index import MessageIndex

pytestmark = pytest.mark.timeout(90)


async def test_flag_and_delete_during_a_silent_outage_show_at_once_and_reach_the_server_after(
    data_dir: Path, dovecot: Dovecot, mail_user: MailUser
) -> None:
    deliver_generated(dovecot, mail_user, 3, seed=31)
    path = data_dir / "mail.sqlite3"
    watchers: list[FolderWatcher] = []

    def quick(*args: Any, **kwargs: Any) -> FolderWatcher:
        # One-second keepalive and deadline: the outage is found out in seconds.
        watchers.append(FolderWatcher(*args, **kwargs, keepalive=1.0, deadline=1.0))
        return watchers[-1]

    async with SilentRelay(dovecot.imaps_port) as relay:
        table = {**imap_table(dovecot, mail_user, port=relay.port), "poll_interval": 3600}
        loaded = config(work=table)
        store = await open_store(path)
        try:
            service = StoreMailService(store, loaded, watcher=quick)
            app = TuimailApp(loaded, service=service, clock=fixed_clock)
            async with app.run_test(size=(160, 48)) as pilot:
                await settle(pilot)
                await wait_for(pilot, lambda: bool(watchers) and watchers[-1].idling.is_set(), 20)
                index = app.screen.query_one(MessageIndex)
                assert index.count == 3
                flagged = index.current_row
                assert flagged is not None and not flagged.flagged
                accepted = relay.accepted
                relay.pause()
                await pilot.press("F")
                await wait_for(pilot, lambda: drawn_flags(app)[flagged.id][1], 2)
                await pilot.press("j", "d")
                await wait_for(pilot, lambda: index.count == 2, 2)
                assert drawn_flags(app)[flagged.id][1], "the flag stays on screen"
                assert pending(path) == 2, "both changes wait in the store for the server"
                # The watcher finds the connection dead and tries again, still in the outage.
                await wait_for(pilot, lambda: relay.accepted > accepted, 15)
                assert pending(path) == 2
                relay.resume()
                await wait_for(pilot, lambda: pending(path) == 0, 30)
                await wait_for(pilot, lambda: watchers[-1].idling.is_set(), 30)
                assert len(watchers) == 1, "the same watcher came back by itself"
        finally:
            await store.close()
    on_server = server_flags(dovecot, mail_user)
    assert len(on_server) == 2, "the deleted message left the server's INBOX"
    assert sorted(flagged for _seen, flagged in on_server.values()) == [False, True]
