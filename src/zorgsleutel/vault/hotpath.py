"""The SQL of the vault's hot paths (verifying and sending codes), written out by hand.

Both run on every SMS login. Through the ORM a verification took 1.55 ms of CPU and a send about
7 ms, mostly query building and model instances; these statements take a fraction of that
(docs/benchmarks.md). They touch only the tables of models.py and are covered by the same tests
as the ORM paths were. Each statement is built once per process from the models' metadata: the
tables, the columns and the states in it are the models' (tests/vault/test_hotpath_names.py);
every value is a query parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.db import connection
from django.db.models import Model

from zorgsleutel.vault.models import (
    Challenge,
    DeliveryAttempt,
    Enrolment,
    SmsSend,
    UsedNonce,
    VaultEvent,
)

STATEMENTS: list[Callable[[], str]] = []


def _statement(build: Callable[[], str]) -> Callable[[], str]:
    """Build a statement on first use and keep it; listed in STATEMENTS for the tests."""
    built = cache(build)
    STATEMENTS.append(built)
    return built


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(model: type[Model], alias: str = "") -> Callable[[str], str]:
    """A field's name → its quoted column (`alias.column` when an alias is given)."""
    prefix = f"{alias}." if alias else ""

    def column(name: str) -> str:
        return prefix + connection.ops.quote_name(model._meta.get_field(name).column)

    return column


def _state(value: str) -> str:
    """A model's state constant as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _at(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


# --- verifying a code ----------------------------------------------------------------------
# The enrolment is locked before the challenge, in the order a send locks them (the enrolment,
# then the challenge it renews): locking the challenge alone, a verification that confirmed a
# pending enrolment deadlocked with a parallel send of a new code (tests/vault/test_concurrency.py).
@_statement
def _lock_challenge() -> str:
    c, e = _columns(Challenge, "c"), _columns(Enrolment, "e")
    lock = " FOR UPDATE OF e, c" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {c('code_hash')}, {c('status')}, {c('attempts')}, {c('expires_at')} > %s,"  # noqa: S608
        f" {e('id')}, {e('status')}"
        f" FROM {_table(Challenge)} c JOIN {_table(Enrolment)} e ON {e('id')} = {c('enrolment')}"
        f" WHERE {c('id')} = %s AND {e('client')} = %s{lock}"
    )


class ChallengeRow(NamedTuple):
    code_hash: str
    status: str
    attempts: int
    fresh: bool
    enrolment_id: str
    enrolment_status: str


def lock_challenge(cursor, *, challenge_id: str, client: str, now: datetime) -> ChallengeRow | None:
    """The challenge and its enrolment, both row-locked where the database can (PostgreSQL)."""
    cursor.execute(_lock_challenge(), [_at(now), challenge_id, client])
    row = cursor.fetchone()
    return ChallengeRow(row[0], row[1], row[2], bool(row[3]), row[4], row[5]) if row else None


@_statement
def _set_challenge() -> str:
    c = _columns(Challenge)
    return (
        f"UPDATE {_table(Challenge)} SET {c('status')} = %s, {c('attempts')} = %s"  # noqa: S608
        f" WHERE {c('id')} = %s"
    )


def set_challenge(cursor, *, challenge_id: str, status: str, attempts: int) -> None:
    cursor.execute(_set_challenge(), [status, attempts, challenge_id])


@_statement
def _confirm_enrolment() -> str:
    e = _columns(Enrolment)
    return (
        f"UPDATE {_table(Enrolment)} SET {e('status')} = {_state(Enrolment.CONFIRMED)},"  # noqa: S608
        f" {e('confirmed_at')} = %s"
        f" WHERE {e('id')} = %s AND {e('status')} = {_state(Enrolment.PENDING)}"
    )


def confirm_enrolment(cursor, *, enrolment_id: str, now: datetime) -> None:
    cursor.execute(_confirm_enrolment(), [_at(now), enrolment_id])


# The send whose code was typed is the challenge's newest one that did not fail: a new code
# replaces the previous one, and a failed send gives the previous one back (service.deliver).
@_statement
def _answer_send() -> str:
    s = _columns(SmsSend)
    sent, answered = _state(SmsSend.SENT), _state(SmsSend.ANSWERED)
    return (
        f"UPDATE {_table(SmsSend)} SET {s('status')} = {answered}"  # noqa: S608
        f" WHERE {s('status')} = {sent} AND {s('id')} = (SELECT {s('id')} FROM {_table(SmsSend)}"
        f" WHERE {s('enrolment_ref')} = %s AND {s('challenge_ref')} = %s"
        f" AND {s('status')} IN ({sent}, {answered})"
        f" ORDER BY {s('sent_at')} DESC, {s('id')} DESC LIMIT 1)"
    )


def answer_send(cursor, *, enrolment_id: str, challenge_id: str) -> bool:
    """Mark the send of the code just verified `answered`: it no longer counts towards the caps.
    Called once per challenge (verify holds its row lock and verifies it once); should it be
    called again, the newest send is answered already and nothing else is given back."""
    cursor.execute(_answer_send(), [enrolment_id, challenge_id])
    return cursor.rowcount == 1


@_statement
def _add_event() -> str:
    v = _columns(VaultEvent)
    return (
        f"INSERT INTO {_table(VaultEvent)} ({v('at')}, {v('client')}, {v('action')},"  # noqa: S608
        f" {v('enrolment_ref')}, {v('outcome')}, {v('detail')})"
        " VALUES (%s, %s, %s, %s, %s, %s)"
    )


def add_event(
    cursor, *, client: str, action: str, enrolment_id: str, outcome: str, now: datetime, detail=""
):
    cursor.execute(_add_event(), [_at(now), client, action, enrolment_id, outcome, detail[:200]])


@_statement
def _remember_nonce() -> str:
    n = _columns(UsedNonce)
    return (
        f"INSERT INTO {_table(UsedNonce)} ({n('client')}, {n('nonce')}, {n('seen_at')})"  # noqa: S608
        f" VALUES (%s, %s, %s) ON CONFLICT ({n('client')}, {n('nonce')}) DO NOTHING"
    )


def remember_nonce(cursor, *, client: str, nonce: str, now: datetime) -> bool:
    """Record a request nonce; False when it was seen before (a replay)."""
    cursor.execute(_remember_nonce(), [client, nonce, _at(now)])
    return cursor.rowcount == 1


# --- sending a code (every login) ----------------------------------------------------------
# The enrolment with the challenge a send concerns: the open one (its code is renewed), or one
# blocked less than RESEND_AFTER ago (its wait still holds). Only the newest challenge of an
# enrolment can be either: a new challenge is only made when none is open.
@_statement
def _lock_enrolment() -> str:
    e, c = _columns(Enrolment, "e"), _columns(Challenge, "c")
    lock = " FOR UPDATE OF e" if connection.features.has_select_for_update_of else ""
    is_open, blocked = _state(Challenge.OPEN), _state(Challenge.BLOCKED)
    return (
        f"SELECT {e('id')}, {e('number_ciphertext')}, {e('key_version')}, {e('number_index')},"  # noqa: S608
        f" {e('hint')}, {e('locale')}, {e('status')}, {c('id')}, {c('status')}, {c('code_hash')},"
        f" {c('last_sent_at')}, {c('expires_at')}, {c('last_sent_at')} > %s"
        f" FROM {_table(Enrolment)} e LEFT JOIN {_table(Challenge)} c"
        f" ON {c('enrolment')} = {e('id')} AND {c('status')} IN ({is_open}, {blocked})"
        f" AND (({c('status')} = {is_open} AND {c('expires_at')} > %s) OR {c('last_sent_at')} > %s)"
        f" WHERE {e('id')} = %s AND {e('client')} = %s"
        f" ORDER BY {c('created_at')} DESC LIMIT 1{lock}"
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
        return self.enrolment_status == Enrolment.CONFIRMED

    @property
    def open_challenge(self) -> str | None:
        return self.challenge_id if self.challenge_status == Challenge.OPEN else None


def lock_enrolment(
    cursor, *, enrolment_id: str, client: str, now: datetime, resend_after: datetime
) -> SendRow | None:
    """The enrolment and its open or recently blocked challenge; the enrolment row is locked
    where the database can (PostgreSQL), so sends for one enrolment (and its caps) are
    serialised."""
    wait = _at(resend_after)
    cursor.execute(_lock_enrolment(), [wait, _at(now), wait, enrolment_id, client])
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


@_statement
def _sends_in_window() -> str:
    s = _columns(SmsSend)
    return (
        f"SELECT COALESCE(SUM(CASE WHEN {s('number_index')} = %s AND {s('enrolment_status')} = %s"  # noqa: S608
        " THEN 1 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN {s('enrolment_ref')} = %s THEN 1 ELSE 0 END), 0)"
        f" FROM {_table(SmsSend)} WHERE {s('sent_at')} >= %s"
        f" AND {s('status')} = {_state(SmsSend.SENT)}"
        f" AND ({s('number_index')} = %s OR {s('enrolment_ref')} = %s)"
    )


def sends_in_window(
    cursor, *, number_index: str, enrolment_status: str, enrolment_id: str, since: datetime
) -> tuple[int, int]:
    """(sends to this number for enrolments of this status, sends for this enrolment) with
    status sent since `since`: unanswered codes and notices (answered codes do not count)."""
    cursor.execute(
        _sends_in_window(),
        [number_index, enrolment_status, enrolment_id, _at(since), number_index, enrolment_id],
    )
    by_number, by_enrolment = cursor.fetchone()
    return int(by_number), int(by_enrolment)


@_statement
def _new_challenge() -> str:
    c = _columns(Challenge)
    return (
        f"INSERT INTO {_table(Challenge)} ({c('id')}, {c('enrolment')}, {c('code_hash')},"  # noqa: S608
        f" {c('status')}, {c('attempts')}, {c('created_at')}, {c('last_sent_at')},"
        f" {c('expires_at')}) VALUES (%s, %s, %s, {_state(Challenge.OPEN)}, 0, %s, %s, %s)"
    )


def new_challenge(
    cursor, *, challenge_id: str, enrolment_id: str, code_hash: str, now: datetime, expires
) -> None:
    cursor.execute(
        _new_challenge(),
        [challenge_id, enrolment_id, code_hash, _at(now), _at(now), _at(expires)],
    )


@_statement
def _renew_challenge() -> str:
    c = _columns(Challenge)
    return (
        f"UPDATE {_table(Challenge)} SET {c('code_hash')} = %s, {c('last_sent_at')} = %s,"  # noqa: S608
        f" {c('expires_at')} = %s WHERE {c('id')} = %s"
    )


def renew_challenge(cursor, *, challenge_id: str, code_hash: str, sent_at, expires_at) -> None:
    """Set a challenge's code and times (a new code, or the old ones back after a failed send:
    then the values are written back exactly as lock_enrolment read them)."""
    if isinstance(sent_at, datetime):
        sent_at, expires_at = _at(sent_at), _at(expires_at)
    cursor.execute(_renew_challenge(), [code_hash, sent_at, expires_at, challenge_id])


@_statement
def _add_send() -> str:
    s = _columns(SmsSend)
    returning = (
        f" RETURNING {s('id')}" if connection.features.can_return_columns_from_insert else ""
    )
    return (
        f"INSERT INTO {_table(SmsSend)} ({s('number_index')}, {s('enrolment_ref')},"  # noqa: S608
        f" {s('enrolment_status')}, {s('challenge_ref')}, {s('kind')}, {s('status')},"
        f" {s('gateway')}, {s('sent_at')})"
        f" VALUES (%s, %s, %s, %s, %s, {_state(SmsSend.SENT)}, '', %s){returning}"
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
    kind = SmsSend.CODE if challenge_id else SmsSend.NOTICE
    params = [number_index, enrolment_id, enrolment_status, challenge_id, kind, _at(now)]
    cursor.execute(_add_send(), params)
    if connection.features.can_return_columns_from_insert:
        return cursor.fetchone()[0]
    return cursor.lastrowid  # pragma: no cover (SQLite < 3.35)


@_statement
def _add_attempt() -> str:
    d = _columns(DeliveryAttempt)
    return (
        f"INSERT INTO {_table(DeliveryAttempt)} ({d('send')}, {d('gateway')}, {d('ok')},"  # noqa: S608
        f" {d('reference')}, {d('error')}, {d('at')}) VALUES (%s, %s, %s, %s, %s, %s)"
    )


@_statement
def _set_gateway() -> str:
    s = _columns(SmsSend)
    return f"UPDATE {_table(SmsSend)} SET {s('gateway')} = %s WHERE {s('id')} = %s"  # noqa: S608


@_statement
def _set_failed() -> str:
    s = _columns(SmsSend)
    return (
        f"UPDATE {_table(SmsSend)} SET {s('status')} = {_state(SmsSend.FAILED)}"  # noqa: S608
        f" WHERE {s('id')} = %s"
    )


def record_delivery(cursor, *, send_id: int, attempts, gateway: str) -> None:
    """What each gateway answered, and which one took the message ('' = none: failed)."""
    for a in attempts:  # nearly always one
        cursor.execute(
            _add_attempt(),
            [send_id, a.gateway, a.ok, a.reference[:120], a.error[:300], _at(a.at)],
        )
    if gateway:
        cursor.execute(_set_gateway(), [gateway, send_id])
    else:
        cursor.execute(_set_failed(), [send_id])
