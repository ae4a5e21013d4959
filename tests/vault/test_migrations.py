"""Upgrading: sends made before sends were counted by enrolment status keep counting right."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("vault", target)])


def test_earlier_sends_of_confirmed_enrolments_count_as_confirmed():
    _migrate("0001_initial")
    try:
        with connection.cursor() as cursor:
            for ident, status in [("enr_owner", "confirmed"), ("enr_other", "pending")]:
                cursor.execute(
                    "INSERT INTO vault_enrolment (id, client, number_ciphertext, key_version,"
                    " number_index, hint, region, locale, status, created_at)"
                    " VALUES (%s, 'portal', %s, '1', 'idx', '06 •• •• •• 78', 'NL', 'nl', %s,"
                    " '2026-12-01 08:00:00')",
                    [ident, b"x", status],
                )
                cursor.execute(
                    "INSERT INTO vault_smssend (number_index, enrolment_ref, challenge_ref,"
                    " status, gateway, sent_at)"
                    " VALUES ('idx', %s, 'chl_x', 'sent', 'dev', '2026-12-01 08:00:00')",
                    [ident],
                )
    finally:
        _migrate("0002_sends_by_enrolment_status")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT enrolment_ref, enrolment_status, kind FROM vault_smssend ORDER BY enrolment_ref"
        )
        rows = cursor.fetchall()
    assert rows == [("enr_other", "pending", "code"), ("enr_owner", "confirmed", "code")]
