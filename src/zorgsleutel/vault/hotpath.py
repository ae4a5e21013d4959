"""The SQL of the vault's hot paths (verifying and sending codes), written out by hand.

Both run on every SMS login. Through the ORM a verification took 1.55 ms of CPU and a send about
7 ms, mostly query building and model instances; these statements take a fraction of that
(docs/benchmarks.md). They touch only the tables of models.py and are covered by the same tests
as the ORM paths were.
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


def add_event(
    cursor, *, client: str, action: str, enrolment_id: str, outcome: str, now: datetime, detail=""
):
    cursor.execute(
        "INSERT INTO vault_vaultevent (at, client, action, enrolment_ref, outcome, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [_at(now), client, action, enrolment_id, outcome, detail[:200]],
    )


def remember_nonce(cursor, *, client: str, nonce: str, now: datetime) -> bool:
    """Record a request nonce; False when it was seen before (a replay)."""
    cursor.execute(
        "INSERT INTO vault_usednonce (client, nonce, seen_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (client, nonce) DO NOTHING",
        [client, nonce, _at(now)],
    )
    return cursor.rowcount == 1


# --- sending a code (every login) ----------------------------------------------------------
# The enrolment with the challenge a send concerns: the open one (its code is renewed), or one
# blocked less than RESEND_AFTER ago (its wait still holds). Only the newest challenge of an
# enrolment can be either: a new challenge is only made when none is open.
_SEND_SELECT = (
    "SELECT e.id, e.number_ciphertext, e.key_version, e.number_index, e.hint, e.locale,"
    " e.status, c.id, c.status, c.code_hash, c.last_sent_at, c.expires_at, c.last_sent_at > %s"
    " FROM vault_enrolment e LEFT JOIN vault_challenge c"
    " ON c.enrolment_id = e.id AND c.status IN ('open', 'blocked')"
    " AND ((c.status = 'open' AND c.expires_at > %s) OR c.last_sent_at > %s)"
    " WHERE e.id = %s AND e.client = %s"
    " ORDER BY c.created_at DESC LIMIT 1"
)


class SendRow(NamedTuple):
    enrolment_id: str
    number_ciphertext: bytes
    key_version: str
    number_index: str
    hint: str
    locale: str
    enrolment_status: str
    challenge_id: str | None  # the open (or recently blocked) challenge, if any
    challenge_status: str | None
    code_hash: str | None
    last_sent_at: object  # as the database returns it: written back unchanged on a failed send
    expires_at: object
    too_soon: bool  # its code was sent less than RESEND_AFTER ago

    @property
    def confirmed(self) -> bool:
        return self.enrolment_status == "confirmed"

    @property
    def open_challenge(self) -> str | None:
        return self.challenge_id if self.challenge_status == "open" else None


def lock_enrolment(
    cursor, *, enrolment_id: str, client: str, now: datetime, resend_after: datetime
) -> SendRow | None:
    """The enrolment and its open or recently blocked challenge; the enrolment row is locked
    where the database can (PostgreSQL), so sends for one enrolment (and its caps) are
    serialised."""
    lock = " FOR UPDATE OF e" if connection.features.has_select_for_update_of else ""
    wait = _at(resend_after)
    cursor.execute(_SEND_SELECT + lock, [wait, _at(now), wait, enrolment_id, client])
    row = cursor.fetchone()
    if row is None:
        return None
    return SendRow(*row[:12], bool(row[12]))


def lock_number(cursor, *, number_index: str) -> None:
    """Serialise sends to one number's pending enrolments, so parallel enrolments cannot all
    slip under its cap: a transaction-scoped advisory lock on PostgreSQL (SQLite's writes are
    serialised already, writelock.py)."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(number_index[:15], 16)])


def sends_in_window(
    cursor, *, number_index: str, enrolment_status: str, enrolment_id: str, since: datetime
) -> tuple[int, int]:
    """(sends to this number for enrolments of this status, sends for this enrolment) with
    status sent since `since`."""
    cursor.execute(
        "SELECT COALESCE(SUM(CASE WHEN number_index = %s AND enrolment_status = %s"
        " THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN enrolment_ref = %s THEN 1 ELSE 0 END), 0)"
        " FROM vault_smssend WHERE sent_at >= %s AND status = 'sent'"
        " AND (number_index = %s OR enrolment_ref = %s)",
        [number_index, enrolment_status, enrolment_id, _at(since), number_index, enrolment_id],
    )
    by_number, by_enrolment = cursor.fetchone()
    return int(by_number), int(by_enrolment)


def new_challenge(
    cursor, *, challenge_id: str, enrolment_id: str, code_hash: str, now: datetime, expires
) -> None:
    cursor.execute(
        "INSERT INTO vault_challenge"
        " (id, enrolment_id, code_hash, status, attempts, created_at, last_sent_at, expires_at)"
        " VALUES (%s, %s, %s, 'open', 0, %s, %s, %s)",
        [challenge_id, enrolment_id, code_hash, _at(now), _at(now), _at(expires)],
    )


def renew_challenge(cursor, *, challenge_id: str, code_hash: str, sent_at, expires_at) -> None:
    """Set a challenge's code and times (a new code, or the old ones back after a failed send:
    then the values are written back exactly as lock_enrolment read them)."""
    if isinstance(sent_at, datetime):
        sent_at, expires_at = _at(sent_at), _at(expires_at)
    cursor.execute(
        "UPDATE vault_challenge SET code_hash = %s, last_sent_at = %s, expires_at = %s"
        " WHERE id = %s",
        [code_hash, sent_at, expires_at, challenge_id],
    )


def add_send(
    cursor,
    *,
    number_index: str,
    enrolment_id: str,
    enrolment_status: str,
    challenge_id: str,
    now: datetime,
) -> int:
    """Record a send before the gateway is called (it counts towards the caps at once). No
    challenge: a notice."""
    kind = "code" if challenge_id else "notice"
    params = [number_index, enrolment_id, enrolment_status, challenge_id, kind, _at(now)]
    sql = (
        "INSERT INTO vault_smssend (number_index, enrolment_ref, enrolment_status, challenge_ref,"
        " kind, status, gateway, sent_at) VALUES (%s, %s, %s, %s, %s, 'sent', '', %s)"
    )
    if connection.features.can_return_columns_from_insert:
        cursor.execute(sql + " RETURNING id", params)
        return cursor.fetchone()[0]
    cursor.execute(sql, params)  # pragma: no cover (SQLite < 3.35)
    return cursor.lastrowid  # pragma: no cover


def record_delivery(cursor, *, send_id: int, attempts, gateway: str) -> None:
    """What each gateway answered, and which one took the message ('' = none: failed)."""
    for a in attempts:  # nearly always one
        cursor.execute(
            "INSERT INTO vault_deliveryattempt (send_id, gateway, ok, reference, error, at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [send_id, a.gateway, a.ok, a.reference[:120], a.error[:300], _at(a.at)],
        )
    if gateway:
        cursor.execute("UPDATE vault_smssend SET gateway = %s WHERE id = %s", [gateway, send_id])
    else:
        cursor.execute("UPDATE vault_smssend SET status = 'failed' WHERE id = %s", [send_id])
