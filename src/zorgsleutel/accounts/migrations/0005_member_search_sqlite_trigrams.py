"""SQLite: a trigram index of people's names and e-mail addresses for member search.

PostgreSQL has pg_trgm indexes for this (0004). On SQLite a search for a rare fragment
("00042", "ruben y") otherwise tests `LIKE '%…%'` on every person: 35 ms for 100,000 people,
where the FTS5 trigram table answers in 0.2–2.5 ms (docs/benchmarks.md). accounts/queries.py
uses it only to find candidates and re-checks them with the same `icontains` as before, so the
results are identical with or without it.

The table is external-content (it stores no copy of the text) and kept current by triggers on
accounts_user. Caution: when a later migration makes Django rebuild accounts_user on SQLite
(most AlterField/AddConstraint operations), the triggers are dropped with the old table; that
migration must then run `create_search_index` again (a test checks the triggers exist), and
until it does, queries.py falls back to testing every person.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

TRIGGERS = (
    "accounts_user_search_insert",
    "accounts_user_search_delete",
    "accounts_user_search_update",
)
DROP = [
    *(f"DROP TRIGGER IF EXISTS {trigger}" for trigger in TRIGGERS),
    "DROP TABLE IF EXISTS accounts_user_search",
]
CREATE = [
    *DROP,
    """CREATE VIRTUAL TABLE accounts_user_search USING fts5(
        name, email, content='accounts_user', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER accounts_user_search_insert AFTER INSERT ON accounts_user BEGIN
        INSERT INTO accounts_user_search(rowid, name, email) VALUES (new.id, new.name, new.email);
    END""",
    """CREATE TRIGGER accounts_user_search_delete AFTER DELETE ON accounts_user BEGIN
        INSERT INTO accounts_user_search(accounts_user_search, rowid, name, email)
        VALUES ('delete', old.id, old.name, old.email);
    END""",
    """CREATE TRIGGER accounts_user_search_update
    AFTER UPDATE OF name, email ON accounts_user BEGIN
        INSERT INTO accounts_user_search(accounts_user_search, rowid, name, email)
        VALUES ('delete', old.id, old.name, old.email);
        INSERT INTO accounts_user_search(rowid, name, email) VALUES (new.id, new.name, new.email);
    END""",
    "INSERT INTO accounts_user_search(accounts_user_search) VALUES ('rebuild')",
]


def create_search_index(apps, schema_editor):
    """Create (or re-create and fill) the trigram table and its triggers; SQLite only."""
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            for statement in CREATE:
                schema_editor.execute(statement)
    except DatabaseError as exc:  # no FTS5, or SQLite older than 3.34 (no trigram tokenizer)
        logger.warning("member search index not created (%s); search works without it", exc)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_member_list_indexes")]
    operations = [migrations.RunPython(create_search_index, drop_search_index)]
