"""Saving and opening attachments: safe names, never outside the chosen folder, no shell.

The file name comes from the sender, so it is reduced to a plain name (``safe_filename``) and
the final path is checked to sit directly in the target folder. Opening writes the file into a
private temporary folder and starts the opener with an argument list, never through a shell.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from tuimail.errors import TuimailError
from tuimail.mail.render import attachment_bytes
from tuimail.mail.sanitize import safe_filename

OPENER: tuple[str, ...] = ("xdg-open",)


def downloads_dir() -> Path:
    """The user's Downloads folder (XDG ``DOWNLOAD`` dir, else ``~/Downloads``)."""
    return Path(platformdirs.user_downloads_dir())


def _free_path(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name (2).ext`` and so on when that exists already."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = name, "", ""
    candidate = directory / name
    number = 1
    while candidate.exists() or candidate.is_symlink():  # a dangling link counts as taken
        number += 1
        candidate = directory / f"{stem} ({number}){dot}{ext}"
    return candidate


def write_inside(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as a new file named after ``name`` directly inside ``directory``.

    Raises TuimailError if the name would land anywhere else or the file cannot be written.
    """
    directory = directory.expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        base = directory.resolve()
        path = _free_path(base, safe_filename(name))
        if path.parent != base:
            raise TuimailError(f"refusing to write {name!r} outside {base}")
        # O_EXCL: never follow a link planted under the chosen name, never overwrite.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise TuimailError(f"could not save {safe_filename(name)}: {exc.strerror or exc}") from exc
    return path


def save_attachment(raw: bytes, index: int, directory: Path) -> Path:
    """Save attachment ``index`` of a message into ``directory``; returns the new file."""
    name, data = attachment_bytes(raw, index)
    return write_inside(directory, name, data)


def open_attachment(raw: bytes, index: int, scratch: Path, opener: Sequence[str] = OPENER) -> Path:
    """Write attachment ``index`` into ``scratch`` and hand it to the desktop's opener."""
    path = save_attachment(raw, index, scratch)
    launch(opener, str(path), "save the attachment with s instead")
    return path


def launch(opener: Sequence[str], argument: str, otherwise: str) -> None:
    """Start the desktop's opener on ``argument`` (a file or a URL), detached; ``otherwise``
    tells the user what to do when there is no opener."""
    if shutil.which(opener[0]) is None:
        raise TuimailError(f"{opener[0]} is not installed; {otherwise}")
    try:
        subprocess.Popen(  # an argument list: the name or URL never meets a shell
            [*opener, argument],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise TuimailError(f"could not start {opener[0]}: {exc.strerror or exc}") from exc


def scratch_dir() -> Path:
    """A private (0700) temporary folder for opened attachments; remove it when done."""
    return Path(tempfile.mkdtemp(prefix="tuimail-"))
