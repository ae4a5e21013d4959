"""Indexes for listing and searching an organisation's people (bench/members.py)."""

import logging

from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)

# PostgreSQL: trigram indexes make `icontains` searches on name and e-mail use an index. They
# need the pg_trgm extension; where the database user may not create it, searches still work,
# only slower, and the migration says so instead of failing.
TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS user_name_trgm ON accounts_user USING gin (UPPER(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS user_email_trgm ON accounts_user USING gin (UPPER(email::text) gin_trgm_ops)",
]


def trigram(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            for statement in TRIGRAM:
                schema_editor.execute(statement)
    except DatabaseError as exc:
        logger.warning("pg_trgm indexes not created (%s); member search works without them", exc)


def untrigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS user_name_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS user_email_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_api_tokens")]
    operations = [
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["name", "email"], name="user_name_email"),
        ),
        migrations.RunPython(trigram, untrigram),
    ]
