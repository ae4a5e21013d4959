"""The SQL of the code-verification path, written out by hand.

Verification is the vault's hottest request (every login). Through the ORM it took 1.55 ms of
CPU, mostly query building; these statements take about a quarter of that (docs/benchmarks.md).
They touch only the tables of models.py and are covered by the same tests as the ORM path was.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import connection

_SELECT = (
    "SELECT c.code_hash, c.status, c.attempts, c.expires_at > %s, e.id, e.status"
    " FROM vault_challenge c JOIN vault_enrolment e ON e.id = c.enrolment_id"
    " WHERE c.id = %s AND e.client = %s"
)


class ChallengeRow(NamedTuple):
    code_hash: str
    status: str
    attempts: int
    fresh: bool
    enrolment_id: str
    enrolment_status: str


def _at(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def lock_challenge(cursor, *, challenge_id: str, client: str, now: datetime) -> ChallengeRow | None:
    """The challenge and its enrolment, row-locked where the database can (PostgreSQL)."""
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    cursor.execute(_SELECT + lock, [_at(now), challenge_id, client])
    row = cursor.fetchone()
    return ChallengeRow(row[0], row[1], row[2], bool(row[3]), row[4], row[5]) if row else None


def set_challenge(cursor, *, challenge_id: str, status: str, attempts: int) -> None:
    cursor.execute(
        "UPDATE vault_challenge SET status = %s, attempts = %s WHERE id = %s",
        [status, attempts, challenge_id],
    )


def confirm_enrolment(cursor, *, enrolment_id: str, now: datetime) -> None:
    cursor.execute(
        "UPDATE vault_enrolment SET status = 'confirmed', confirmed_at = %s"
        " WHERE id = %s AND status = 'pending'",
        [_at(now), enrolment_id],
    )


def add_event(cursor, *, client: str, action: str, enrolment_id: str, outcome: str, now: datetime):
    cursor.execute(
        "INSERT INTO vault_vaultevent (at, client, action, enrolment_ref, outcome, detail)"
        " VALUES (%s, %s, %s, %s, %s, '')",
        [_at(now), client, action, enrolment_id, outcome],
    )


def remember_nonce(cursor, *, client: str, nonce: str, now: datetime) -> bool:
    """Record a request nonce; False when it was seen before (a replay)."""
    cursor.execute(
        "INSERT INTO vault_usednonce (client, nonce, seen_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (client, nonce) DO NOTHING",
        [client, nonce, _at(now)],
    )
    return cursor.rowcount == 1
