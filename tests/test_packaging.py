"""The wheel (pyproject.toml): tuimail and its man pages, nothing else at the top level."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAN_PAGES = {
    "share/man/man1/tuimail.1": REPO / "man" / "tuimail.1",
    "share/man/man5/tuimail-config.5": REPO / "man" / "tuimail-config.5",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from this checkout (the build backend fetched as for any install)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        timeout=300,
    )
    [built] = out.glob("tuimail-*.whl")
    return built


@pytest.mark.timeout(300)
def test_the_wheel_installs_no_bench_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.startswith("tuimail-")}
    assert top == {"tuimail"}
    assert not [name for name in names if name.startswith("bench/")]


@pytest.mark.timeout(300)
def test_the_wheel_carries_the_man_pages_as_committed(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    data = next(n for n in archive.namelist() if n.endswith(".data/data/share/man/man1/tuimail.1"))
    prefix = data.removesuffix("share/man/man1/tuimail.1")
    for inside, committed in MAN_PAGES.items():
        assert archive.read(prefix + inside) == committed.read_bytes()


@pytest.mark.timeout(300)
def test_man_finds_the_pages_of_tuimail_installed_in_a_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # pip --python installs into that venv and leaves the one running the tests alone.
    into = ["--python", str(venv / "bin" / "python")]
    subprocess.run(
        [sys.executable, "-m", "pip", *into, "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
        timeout=120,
    )
    env = {**os.environ, "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    env.pop("MANPATH", None)
    found = subprocess.run(
        ["man", "-w", "tuimail", "tuimail-config"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert found.stdout.split() == [
        str(venv / "share/man/man1/tuimail.1"),
        str(venv / "share/man/man5/tuimail-config.5"),
    ]
