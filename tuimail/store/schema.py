"""The store's schema at its newest revision, for creating a new store without Alembic.

Running the migrations one after another took 35-60 ms for each new store (a first start,
every store a test or a benchmark makes); these statements take a few. They are what the
migrations leave in ``sqlite_master`` (FTS5 shadow tables and automatic indexes come with their
owners), in the order they were created, and the rows the migrations seed.
``tests/store/test_schema.py`` checks them against the migrations and writes this file anew:
``python -m tests.store.test_schema > tuimail/store/schema.py && ruff format tuimail/store``.
"""

from __future__ import annotations

REVISION = "0007"

STATEMENTS: tuple[str, ...] = (
    (
        "CREATE TABLE alembic_version (\n"
        "\tversion_num VARCHAR(32) NOT NULL, \n"
        "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
        ")"
    ),
    (
        "CREATE TABLE accounts (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tname VARCHAR NOT NULL, \n"
        "\tkind VARCHAR NOT NULL, \n"
        "\temail VARCHAR NOT NULL, \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (name)\n"
        ")"
    ),
    (
        "CREATE TABLE folders (\n"
        "\tid INTEGER NOT NULL, \n"
        "\taccount_id INTEGER NOT NULL, \n"
        "\tname VARCHAR NOT NULL, \n"
        "\tdelimiter VARCHAR, \n"
        "\trole VARCHAR, \n"
        "\tsubscribed BOOLEAN NOT NULL, \n"
        "\tis_local BOOLEAN NOT NULL, \n"
        "\tuidvalidity INTEGER, \n"
        "\tuidnext INTEGER, \n"
        "\thighestmodseq INTEGER, \n"
        "\ttotal_count INTEGER NOT NULL, \n"
        "\tunread_count INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (account_id, name), \n"
        "\tFOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE\n"
        ")"
    ),
    (
        "CREATE TABLE messages (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tfolder_id INTEGER NOT NULL, \n"
        "\tuid INTEGER, \n"
        "\tuidl VARCHAR, \n"
        "\tmessage_id VARCHAR, \n"
        "\tin_reply_to VARCHAR, \n"
        '\t"references" TEXT NOT NULL, \n'
        "\tthread_id INTEGER, \n"
        "\tdate INTEGER NOT NULL, \n"
        "\tinternal_date INTEGER, \n"
        "\tfrom_name VARCHAR NOT NULL, \n"
        "\tfrom_email VARCHAR NOT NULL, \n"
        "\tto_addrs TEXT NOT NULL, \n"
        "\tcc_addrs TEXT NOT NULL, \n"
        "\tsubject TEXT NOT NULL, \n"
        "\tseen BOOLEAN NOT NULL, \n"
        "\tanswered BOOLEAN NOT NULL, \n"
        "\tflagged BOOLEAN NOT NULL, \n"
        "\tdeleted BOOLEAN NOT NULL, \n"
        "\tdraft BOOLEAN NOT NULL, \n"
        "\tforwarded BOOLEAN NOT NULL, \n"
        "\tkeywords TEXT NOT NULL, \n"
        "\tsize INTEGER NOT NULL, \n"
        "\thas_attachments BOOLEAN NOT NULL, \n"
        "\tpreview TEXT NOT NULL, \n"
        "\tmodseq INTEGER, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(folder_id) REFERENCES folders (id) ON DELETE CASCADE\n"
        ")"
    ),
    "CREATE INDEX ix_messages_folder_date ON messages (folder_id, date, id)",
    "CREATE UNIQUE INDEX ix_messages_folder_uid ON messages (folder_id, uid)",
    "CREATE INDEX ix_messages_folder_seen ON messages (folder_id, seen)",
    (
        "CREATE TABLE message_bodies (\n"
        "\tmessage_pk INTEGER NOT NULL, \n"
        "\traw BLOB NOT NULL, \n"
        "\tPRIMARY KEY (message_pk), \n"
        "\tFOREIGN KEY(message_pk) REFERENCES messages (id) ON DELETE CASCADE\n"
        ")"
    ),
    (
        "CREATE TABLE pop3_uidls (\n"
        "\tid INTEGER NOT NULL, \n"
        "\taccount_id INTEGER NOT NULL, \n"
        "\tuidl VARCHAR NOT NULL, \n"
        "\tmessage_pk INTEGER, \n"
        "\tstored_at INTEGER NOT NULL, \n"
        "\tdeleted_on_server BOOLEAN NOT NULL, \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (account_id, uidl), \n"
        "\tFOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(message_pk) REFERENCES messages (id) ON DELETE SET NULL\n"
        ")"
    ),
    (
        "CREATE TABLE outbox (\n"
        "\tid INTEGER NOT NULL, \n"
        "\taccount_id INTEGER NOT NULL, \n"
        "\traw BLOB NOT NULL, \n"
        "\tsender VARCHAR NOT NULL, \n"
        "\trecipients TEXT NOT NULL, \n"
        "\tmessage_id VARCHAR NOT NULL, \n"
        "\tstatus VARCHAR NOT NULL, \n"
        "\tattempts INTEGER NOT NULL, \n"
        "\tlast_error TEXT NOT NULL, \n"
        "\tnext_attempt_at INTEGER NOT NULL, \n"
        "\tcreated_at INTEGER NOT NULL, \n"
        "\torigin_pk INTEGER, \n"
        "\torigin_action VARCHAR, send_at INTEGER, draft_raw BLOB, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(origin_pk) REFERENCES messages (id) ON DELETE SET NULL\n"
        ")"
    ),
    (
        "CREATE TABLE drafts (\n"
        "\tid INTEGER NOT NULL, \n"
        "\taccount_id INTEGER NOT NULL, \n"
        "\traw BLOB NOT NULL, \n"
        "\tupdated_at INTEGER NOT NULL, \n"
        "\tremote_message_pk INTEGER, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(remote_message_pk) REFERENCES messages (id) ON DELETE SET NULL\n"
        ")"
    ),
    (
        "CREATE TABLE pending_actions (\n"
        "\tid INTEGER NOT NULL, \n"
        "\taccount_id INTEGER NOT NULL, \n"
        "\tfolder_id INTEGER NOT NULL, \n"
        "\tkind VARCHAR NOT NULL, \n"
        "\tpayload TEXT NOT NULL, \n"
        "\tcreated_at INTEGER NOT NULL, \n"
        "\tattempts INTEGER NOT NULL, \n"
        "\tlast_error TEXT NOT NULL, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(folder_id) REFERENCES folders (id) ON DELETE CASCADE\n"
        ")"
    ),
    (
        "CREATE VIRTUAL TABLE messages_fts USING fts5(subject, addresses, body, tokenize "
        "= 'unicode61 remove_diacritics 2')"
    ),
    (
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN DELETE FROM "
        "messages_fts WHERE rowid = old.id; END"
    ),
    (
        "CREATE TABLE addresses (\n"
        "\temail VARCHAR NOT NULL, \n"
        "\tname VARCHAR NOT NULL, \n"
        "\tsearch_text VARCHAR NOT NULL, \n"
        "\twritten_count INTEGER NOT NULL, \n"
        "\twritten_last INTEGER NOT NULL, \n"
        "\tseen_count INTEGER NOT NULL, \n"
        "\tseen_last INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (email)\n"
        ")"
    ),
    ("CREATE INDEX ix_addresses_written ON addresses (written_count) WHERE written_count > 0"),
    "CREATE INDEX ix_addresses_seen ON addresses (seen_count, seen_last)",
    (
        "CREATE TABLE address_words (\n"
        "\tword VARCHAR NOT NULL, \n"
        "\temail VARCHAR NOT NULL, \n"
        "\tPRIMARY KEY (word, email)\n"
        ")\n"
        " WITHOUT ROWID\n"
        "\n"
        ""
    ),
    (
        "CREATE TABLE address_state (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tcounted_up_to INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (id)\n"
        ")"
    ),
    (
        "CREATE TRIGGER address_state_delete AFTER DELETE ON messages WHEN old.id <= "
        "(SELECT counted_up_to FROM address_state WHERE id = 1) BEGIN UPDATE "
        "address_state SET counted_up_to = min(counted_up_to, coalesce((SELECT max(id) "
        "FROM messages), 0)) WHERE id = 1; END"
    ),
    (
        "CREATE TABLE fts_pending (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tfirst_id INTEGER NOT NULL, \n"
        "\tlast_id INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (id)\n"
        ")"
    ),
    (
        "CREATE TABLE body_pending (\n"
        "\tmessage_pk INTEGER NOT NULL, \n"
        "\tPRIMARY KEY (message_pk), \n"
        "\tFOREIGN KEY(message_pk) REFERENCES messages (id) ON DELETE CASCADE\n"
        ")"
    ),
    "INSERT INTO alembic_version (version_num) VALUES ('0007')",
    "INSERT INTO address_state (id, counted_up_to) VALUES (1, 0)",
)
