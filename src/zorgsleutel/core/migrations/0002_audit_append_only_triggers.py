"""Database triggers that refuse UPDATE and DELETE on audit events, below the application."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
    """DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent""",
    """CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
       FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only()""",
    """DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent""",
    """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only()""",
]
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS core_auditevent_no_update",
        "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
        "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
        "DROP FUNCTION IF EXISTS core_auditevent_append_only()",
    ],
}


def create(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
