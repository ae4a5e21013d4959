"""Refuse UPDATE and DELETE on audit events in the database itself (see core/dbguard.py)."""

from django.conf import settings
from django.db import migrations

from zorgsleutel.core import dbguard


def create(apps, schema_editor):
    if getattr(settings, "AUDIT_DATABASE_GUARD", True):
        dbguard.install(schema_editor.connection)


def drop(apps, schema_editor):
    dbguard.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
