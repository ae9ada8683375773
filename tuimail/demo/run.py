"""``tuimail --demo``: embedded loopback servers, a generated mailbox, a throwaway data dir.

The run is a sandwich whose bottom layer always runs: a temporary directory becomes the config
and data location (through ``TUIMAIL_CONFIG``/``TUIMAIL_DATA_DIR``, so nothing of the user's is
read or written), the servers start in their own thread, the interface runs on their accounts,
and then, on a normal quit, an error or Ctrl-C alike, the servers stop and the directory goes.

Set ``TUIMAIL_DEMO_INFO`` to a file path to have the ports and the temporary directory written
there as JSON once the servers listen (the end-to-end test reads it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tuimail.demo.servers import DemoServers
from tuimail.logs import setup_logging

log = logging.getLogger(__name__)

INFO_VARIABLE = "TUIMAIL_DEMO_INFO"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block and restore what was there before."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _close_log_file() -> None:
    """Detach tuimail's log handlers, so the log file in the temporary dir can go."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_tuimail", False)]:
        root.removeHandler(handler)
        handler.close()


@contextlib.contextmanager
def demo_sandbox(log_level: int | None = None) -> Iterator[Path]:
    """A private temporary directory as config and data location, removed afterwards.

    The log file goes there too, at ``log_level`` (default: the level already in force).
    """
    root = Path(tempfile.mkdtemp(prefix="tuimail-demo-"))
    data = root / "data"
    try:
        with _environment(
            {"TUIMAIL_CONFIG": str(root / "config.toml"), "TUIMAIL_DATA_DIR": str(data)}
        ):
            level = logging.getLogger().getEffectiveLevel() if log_level is None else log_level
            setup_logging(level, path=data / "tuimail.log")
            try:
                yield root
            finally:
                _close_log_file()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_demo(log_level: int | None = None) -> None:
    """Start the demo servers, run the interface on them, and clean up on exit."""
    from tuimail.ui.app import run_app  # Textual loads only when an interface is wanted

    with demo_sandbox(log_level) as root:
        servers = DemoServers()
        try:
            servers.start()
            info = os.environ.get(INFO_VARIABLE)
            if info:
                servers.write_info(Path(info), root)
            run_app(servers.loaded_config())
        finally:
            servers.stop()
            log.info("demo finished; %s is removed next", root)
