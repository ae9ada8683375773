"""Opening a part of a message through the user's mailcap, as mutt does, before the desktop's
opener: ``~/.mailcap`` then the system's (or the files ``MAILCAPS`` lists).

The part is written to a file of our own naming (``part`` plus a plain ending), 0600 in a
private 0700 folder; the attachment's name never reaches the command. An entry marked
``copiousoutput`` runs in the background and its output is shown in a pager inside the app; one
marked ``needsterminal`` gets the terminal (the app suspends until it ends); both files are
removed when the command ends. Any other viewer is started detached, like the desktop's opener,
and its file stays in the private folder until the message view closes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tuimail.errors import TuimailError
from tuimail.mail import mailcap
from tuimail.mail.mailcap import MailcapEntry
from tuimail.mail.parse import parse_message, part_payload, walk_leaves
from tuimail.mail.sanitize import sanitize_text

TEST_SECONDS = 2.0  # a test= command that takes longer fails
COPIOUS_SECONDS = 30.0  # a copiousoutput command that takes longer is stopped
OUTPUT_LIMIT = 2_000_000  # characters of output shown
SYSTEM_FILES = ("/etc/mailcap", "/usr/etc/mailcap", "/usr/local/etc/mailcap")


@dataclass(frozen=True, slots=True)
class Part:
    """A part of a message to open: its decoded bytes, type and (stranger-chosen) name."""

    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """The mailcap entry chosen for a part, and the file the part was written to."""

    entry: MailcapEntry
    path: Path
    content_type: str

    @property
    def argv(self) -> list[str]:
        """The program and its arguments (no shell unless the entry needs one)."""
        return mailcap.command_argv(self.entry.command, str(self.path), self.content_type)


def mailcap_files() -> list[Path]:
    """Where mailcap entries are read from, first match wins: ``$MAILCAPS`` (colon-separated),
    else ``~/.mailcap`` and the system's files."""
    listed = os.environ.get("MAILCAPS")
    if listed is not None:
        return [Path(p).expanduser() for p in listed.split(":") if p]
    return [Path.home() / ".mailcap", *map(Path, SYSTEM_FILES)]


def read_entries(files: list[Path]) -> list[MailcapEntry]:
    """The entries of the files that exist and can be read, in order."""
    texts = []
    for path in files:
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue  # a missing or unreadable file: as if empty, as mutt does
    return mailcap.all_entries(texts)


def html_part(raw: bytes) -> Part | None:
    """The first HTML part of a message that is not an attachment (an alternative's)."""
    for part, facts in walk_leaves(parse_message(raw)):
        if facts.content_type == "text/html" and not facts.filename:
            return Part(part_payload(part), "text/html", "message.html")
    return None


def find_viewer(part: Part, scratch: Path) -> Viewer | None:
    """Write ``part`` into a private folder under ``scratch`` and choose the first mailcap
    entry for its type whose test passes; None (and nothing left behind) when none does."""
    entries = mailcap.matching(read_entries(mailcap_files()), part.content_type)
    if not entries:
        return None
    folder = Path(tempfile.mkdtemp(prefix="mailcap-", dir=scratch))
    for entry in entries:
        path = folder / f"part{mailcap.file_suffix(entry, part.filename)}"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(part.data)
        if entry.test is None or _passes(entry.test, path, part.content_type):
            return Viewer(entry, path, part.content_type)
    discard(folder)
    return None


def _passes(test: str, path: Path, content_type: str) -> bool:
    argv = mailcap.command_argv(test, str(path), content_type)
    try:
        status, _out, _err = _run_bounded(argv, None, TEST_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return status == 0


def _run_bounded(argv: list[str], stdin: int | None, seconds: float) -> tuple[int, bytes, bytes]:
    """Run ``argv`` to its end or for ``seconds`` at most; on time, the whole process group is
    killed (a shell's children too, which would otherwise hold the output pipe open)."""
    with subprocess.Popen(
        argv,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return process.returncode, out, err


def _run_input(viewer: Viewer) -> int | None:
    """An open descriptor of the file for a command without ``%s``, else None."""
    if mailcap.reads_stdin(viewer.entry.command):
        return os.open(viewer.path, os.O_RDONLY)
    return None


def run_copious(viewer: Viewer) -> tuple[str, int]:
    """Run a ``copiousoutput`` viewer; its output made safe to show, and its exit status.
    The part's file is removed afterwards."""
    fd = _run_input(viewer)
    try:
        status, out, err = _run_bounded(viewer.argv, fd, COPIOUS_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise TuimailError(f"{viewer.argv[0]} took over {COPIOUS_SECONDS:.0f} s") from exc
    except OSError as exc:
        raise TuimailError(f"could not start {viewer.argv[0]}: {exc.strerror or exc}") from exc
    finally:
        if fd is not None:
            os.close(fd)
        discard(viewer.path.parent)
    text = out.decode("utf-8", errors="replace")[:OUTPUT_LIMIT]
    if status != 0 and not text.strip():
        text = err.decode("utf-8", errors="replace")[:OUTPUT_LIMIT]
    return sanitize_text(text), status


def run_in_terminal(viewer: Viewer) -> int:
    """Run a ``needsterminal`` viewer in this terminal (the caller suspends the app) and wait;
    the part's file is removed afterwards. Returns the exit status."""
    fd = _run_input(viewer)
    try:
        return subprocess.call(viewer.argv, stdin=fd)
    except OSError as exc:
        raise TuimailError(f"could not start {viewer.argv[0]}: {exc.strerror or exc}") from exc
    finally:
        if fd is not None:
            os.close(fd)
        discard(viewer.path.parent)


def start_detached(viewer: Viewer) -> None:
    """Start a graphical viewer and let it run; its file stays until the view closes."""
    fd = _run_input(viewer)
    try:
        subprocess.Popen(
            viewer.argv,
            stdin=fd if fd is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise TuimailError(f"could not start {viewer.argv[0]}: {exc.strerror or exc}") from exc
    finally:
        if fd is not None:
            os.close(fd)


def safe_type(part: Part) -> str:
    """The part's content type as it may be shown."""
    return mailcap.safe_type(part.content_type)


def discard(folder: Path) -> None:
    """Remove a part's private folder and what is in it."""
    shutil.rmtree(folder, ignore_errors=True)
