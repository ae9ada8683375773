"""``python -m tuimail``."""

from tuimail.cli import main

main()
