"""Where tuimail keeps its files: config, data (store, logs) and cache.

Each location can be overridden by an environment variable so that tests, the demo and users
with unusual set-ups never touch the default directories.
"""

from __future__ import annotations

import os
from pathlib import Path

# platformdirs loads only where no variable names the place: scripts and tests set them.

APP = "tuimail"


def config_file() -> Path:
    """The config file: ``$TUIMAIL_CONFIG`` or ``~/.config/tuimail/config.toml``."""
    override = os.environ.get("TUIMAIL_CONFIG")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def config_dir() -> Path:
    """The directory that holds the config file and user themes."""
    return config_file().parent


def data_dir() -> Path:
    """Store and logs: ``$TUIMAIL_DATA_DIR`` or the platform's user data dir."""
    override = os.environ.get("TUIMAIL_DATA_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def store_file() -> Path:
    """The SQLite database."""
    return data_dir() / "mail.sqlite3"


def log_file() -> Path:
    """The log file that holds the traces behind one-line errors."""
    return data_dir() / "tuimail.log"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700; mail and secrets live below it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path
