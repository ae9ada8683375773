"""The layout pinned as pictures, at 80x24 and 160x48, from a generated store and a fixed clock.

After an intended change of the look, regenerate with ``pytest tests/ui --snapshot-update`` and
look at the pictures before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tests.ui.pilot import settle

SnapCompare = Callable[..., bool]


def after(*keys: str) -> Callable[[Pilot[None]], Any]:
    """Wait for the store, press keys (waiting after each), then the picture is taken."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def test_main_screen_three_panes_at_160x48(snap_compare: SnapCompare, picture_app: Any) -> None:
    assert snap_compare(picture_app(), terminal_size=(160, 48), run_before=after("j", "enter"))


def test_main_screen_threads_with_view_below_at_160x48(
    snap_compare: SnapCompare, picture_app: Any
) -> None:
    app = picture_app(layout="below", threads=True)
    assert snap_compare(app, terminal_size=(160, 48), run_before=after("j", "enter"))


def test_main_screen_narrow_index_at_80x24(snap_compare: SnapCompare, picture_app: Any) -> None:
    assert snap_compare(picture_app(), terminal_size=(80, 24), run_before=after())


def test_main_screen_narrow_message_view_at_80x24(
    snap_compare: SnapCompare, picture_app: Any
) -> None:
    assert snap_compare(picture_app(), terminal_size=(80, 24), run_before=after("enter"))


def test_help_screen_at_80x24(snap_compare: SnapCompare, picture_app: Any) -> None:
    assert snap_compare(picture_app(), terminal_size=(80, 24), run_before=after("question_mark"))
