"""No dead code in the package: vulture finds nothing it does not know to be used.

Only ``tuimail/`` is read, not the tests: a function the tests alone call (like the old
``queries.search_ids``) is dead in the program. What vulture cannot see being used is named
below, each with the reason, so a new finding is either removed or explained here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Called by a framework by name, never by our code.
FRAMEWORK_NAMES = {
    # Textual: message handlers, actions, reactive watchers, widget hooks and class settings
    "on_*": "Textual message handlers",
    "_on_*": "Textual event handlers",
    "action_*": "Textual actions",
    "watch_*": "Textual reactive watchers",
    "compose": "Textual",
    "render_line": "Textual Line API",
    "check_action": "Textual",
    "get_suggestion": "Textual Suggester",
    "TITLE": "Textual App",
    "CSS_PATH": "Textual App",
    "BINDINGS": "Textual",
    "DEFAULT_CSS": "Textual",
    "COMMANDS": "Textual command palette",
    "KEY_SCOPE": "our key table, read with getattr by keys.py",
    "COMPONENT_CLASSES": "Textual widget",
    "show_root": "Textual Tree setting",
    "auto_expand": "Textual Tree setting",
    "allow_expand": "Textual TreeNode setting",
    "cursor_position": "Textual Input setting",
    "suggester": "Textual Input setting",
    "_suggestion": "Textual Input state",
    # asyncio protocols, aiosmtpd handlers, logging, sqlite3, pydantic, alembic
    "connection_made": "asyncio.Protocol",
    "data_received": "asyncio.Protocol",
    "eof_received": "asyncio.Protocol",
    "connection_lost": "asyncio.Protocol",
    "pause_writing": "asyncio.Protocol",
    "resume_writing": "asyncio.Protocol",
    "handle_*": "aiosmtpd handler hooks",
    "handleError": "logging.Handler",
    "row_factory": "sqlite3.Connection setting",
    "isolation_level": "sqlite3.Connection setting",
    "model_config": "pydantic",
    "upgrade": "alembic",
    "downgrade": "alembic",
    "down_revision": "alembic",
    "branch_labels": "alembic",
    "depends_on": "alembic",
    # __exit__/__aexit__ signatures
    "exc_type": "context manager protocol",
    "traceback": "context manager protocol",
}

# Used, but in a way vulture cannot follow.
INDIRECT_NAMES = {
    "KnownAddress": "ORM table: Base.metadata creates it; the store speaks to it in SQL",
    "AddressWord": "ORM table, as above",
    "AddressState": "ORM table, as above",
    "FtsPending": "ORM table, as above",
    "BodyPending": "ORM table, as above",
    "search_text": "ORM column",
    "counted_up_to": "ORM column",
    "first_id": "ORM column",
    "last_id": "ORM column",
    "imap_port": "setup FormValues field, read with getattr(values, f'{kind}_port')",
    "imap_security": "setup FormValues field, read with getattr",
    "smtp_host": "setup FormValues field, read with getattr",
    "smtp_port": "setup FormValues field, read with getattr",
    "smtp_security": "setup FormValues field, read with getattr",
    "seq": "IMAP event records: the message sequence number the server sent",
    "permanent_flags": "SELECT result field, part of the record the client returns",
    "unseen": "SELECT result field, part of the record the client returns",
    "has_children": "thread node field for the index's tree drawing",
    "bytes_total": "Pop3Progress field for progress bars",
    "preauthenticated": "ImapClient state: the server logged us in itself (PREAUTH)",
    "full_collections": "collector counter read by the UI tests",
}

# Public API kept for callers outside the program: the tests and the CLI's checks.
API_NAMES = {
    "dele": "Pop3Client: RFC 1939 command (the fetcher sends DELEs with dele_many)",
    "rset": "Pop3Client: RFC 1939 command",
    "folder_message_ids": "store probe used by the tests",
    "pending_count": "store probe used by the tests",
    "count_pending": "store probe: actions waiting for a server",
    "current_revision": "store schema probe used by the tests",
    "head_revision": "store schema probe used by the tests",
    "sync_connection": "store probe used by the tests",
    "REVISION": "the schema's Alembic revision, checked by the tests",
    "FTS_TABLE": "documents the FTS5 table the models cannot declare",
    "FTS_COLUMNS": "documents the FTS5 table the models cannot declare",
    "to_draft": "Outbox: move a message back to the drafts",
    "sync_started": "StatusBar: an account began to sync",
}

# Click commands, pydantic validators, Textual handlers and workers; properties (a dead one is
# one line, and Textual reads many by name).
DECORATORS = [
    "@*.command",
    "@*.group",
    "@model_validator",
    "@field_validator",
    "@on",
    "@work",
    "@property",
    "@*.setter",
]


def test_vulture_finds_no_dead_code_in_the_package() -> None:
    ignored = {**FRAMEWORK_NAMES, **INDIRECT_NAMES, **API_NAMES}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vulture",
            "tuimail",
            "--min-confidence",
            "60",
            "--ignore-names",
            ",".join(sorted(ignored)),
            "--ignore-decorators",
            ",".join(DECORATORS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        "dead code (remove it, or name it in tests/test_dead_code.py with the reason):\n"
        + result.stdout
        + result.stderr
    )


def reassigned_names(source: str) -> list[str]:
    """Module-level names assigned more than once (the first value is dead: nothing can read it
    before the second replaces it, as a second ``_UID_RANGE`` once did)."""
    counts: Counter[str] = Counter()
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
        else:
            continue
        counts.update(t.id for t in targets if isinstance(t, ast.Name))
    return sorted(name for name, count in counts.items() if count > 1)


def test_no_module_level_name_is_assigned_twice() -> None:
    # ruff has no rule for this (F811 covers imports, functions and classes only).
    found = {
        str(path.relative_to(ROOT)): names
        for path in sorted((ROOT / "tuimail").rglob("*.py"))
        if (names := reassigned_names(path.read_text(encoding="utf-8")))
    }
    assert found == {}
