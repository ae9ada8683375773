"""``tuimail --demo``: embedded loopback servers, a generated mailbox, a throwaway data dir."""

from __future__ import annotations

from tuimail.errors import TuimailError


def run_demo() -> None:
    """Start the demo servers, run the interface on them, and clean up on exit."""
    raise TuimailError("the demo is not built yet")
