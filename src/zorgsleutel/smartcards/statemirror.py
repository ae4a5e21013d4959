"""The states of the CA's cards in this process's memory, PostgreSQL telling it of every change,
so that an OCSP answer with a nonce reads no database (docs/smartcards.md, "The cards' states in
the responder's memory"; docs/benchmarks.md, OCSP). Started by `zorgsleutel smartcard-ca serve`
(status_wsgi.py) on PostgreSQL only; everywhere else `state_of` holds nothing and the answers
read the table, as before.

Why what it holds is never older than the table by more than the delivery of a notification:

- `announce(serial)`, called by publication.card_changed inside the transaction that changes a
  card (or issues it), sends `NOTIFY` on CHANNEL with the card's serial. PostgreSQL delivers it
  only once that transaction commits, and never when it rolls back.
- A thread of this process, on a connection of its own, first LISTENs and only then reads every
  card: a change committed after the LISTEN is notified, one committed before it is in what was
  read, so none falls between the two. A notification makes it read that card's row again (the
  table is the truth, not the message; a row that is gone is dropped).
- The moment that connection fails the mirror is not ready. The thread connects again (waiting
  longer after each failure, up to LAST_RETRY_SECONDS), LISTENs, reads every card anew (a change
  made while it was away was notified to no one: the new read has it) and is ready again.
- A connection that hangs without failing (a peer gone from the network) is noticed by its
  silence: the thread asks the server something at least every HEARTBEAT_SECONDS, and the mirror
  counts as ready only while the last answer is less than SILENCE_LIMIT_SECONDS old.
- `state_of` returns None, so that the caller reads the table itself, while the mirror is not
  ready and for a serial it does not hold: a card issued a moment ago whose notification is on its
  way, or a serial never issued (rare, and one statement as before).

The window that remains: between a change's commit and its notification reaching the thread
(0.36 ms median, 5 ms at p99 on a busy 2-core host) an answer may still give the old state.
Only answers with a nonce, made for one request, read the mirror; the answers kept in a cache
(RFC 5019, without a nonce) read the table (publication.py). The mirror changes no state, so it
writes no audit event; losing and regaining its connection are logged.

A card changed in the database other than through card_changed (by hand) is not notified: the
CRL and the cached answers follow it only when they are next made, the mirror at its next full
read (a restart, a lost connection).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from sys import intern

import psycopg
from django.conf import settings
from django.db import connection

from zorgsleutel.smartcards.models import Smartcard

logger = logging.getLogger(__name__)

CHANNEL = "zorgsleutel_smartcard_state"
APPLICATION_NAME = "zorgsleutel smartcard state mirror"  # pg_stat_activity's, for operators
HEARTBEAT_SECONDS = 1.0  # the connection is asked something at least this often
SILENCE_LIMIT_SECONDS = 5.0  # not ready when the connection has not answered for this long
FIRST_RETRY_SECONDS, LAST_RETRY_SECONDS = 0.1, 5.0  # reconnecting: waits doubling between these
_LIBPQ_NAMES = {
    "NAME": "dbname",
    "USER": "user",
    "PASSWORD": "password",
    "HOST": "host",
    "PORT": "port",
}
# Django's own keys in OPTIONS, not libpq's (django/db/backends/postgresql/base.py).
_DJANGO_OPTIONS = frozenset({"isolation_level", "server_side_binding", "pool", "assume_role"})

Row = tuple[str, datetime, str]  # state, state_changed_at (UTC), revocation_reason


def announce(serial: str) -> None:
    """Tell every mirror that the card with this serial (hex, as stored) changed, once the current
    transaction commits (PostgreSQL holds a NOTIFY until then and drops it on a rollback). Call
    it inside the transaction that changes the card; nothing happens on other databases."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, serial])


@functools.cache
def _statement() -> str:
    """Serial, state, time and reason of every card (the caller adds its WHERE), with the table
    and column names from `_meta`."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(Smartcard._meta.get_field(name).column)
        for name in ("serial", "state", "state_changed_at", "revocation_reason")
    )
    return f"SELECT {columns} FROM {quote(Smartcard._meta.db_table)}"  # noqa: S608 (_meta)


def _serial_column() -> str:
    return connection.ops.quote_name(Smartcard._meta.get_field("serial").column)


def connect() -> psycopg.Connection:
    """A connection of the mirror's own (Django's belongs to the thread serving a request) to the
    database settings.DATABASES["default"] names, in autocommit: LISTEN takes effect at once and
    no snapshot is held between reads."""
    database = settings.DATABASES["default"]
    params = {
        "application_name": APPLICATION_NAME,
        "connect_timeout": 5,
        # A peer gone from the network: the socket fails within seconds, not hours.
        **{"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5},
        **{"keepalives_count": 3, "tcp_user_timeout": 15_000},
    }
    for key, name in _LIBPQ_NAMES.items():
        if database.get(key):
            params[name] = database[key]
    for key, value in (database.get("OPTIONS") or {}).items():
        if key not in _DJANGO_OPTIONS:
            params[key] = value
    return psycopg.connect(**params, autocommit=True)


class StateMirror:
    """The card states of one process, kept by a daemon thread (the module's docstring)."""

    def __init__(self) -> None:
        self._states: dict[int, Row] = {}
        self._answered_at: float | None = None  # None: not ready
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smartcard-state-mirror")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread (it closes its connection): within about one heartbeat."""
        self._stopping.set()
        self._thread.join(timeout)
        self._answered_at = None

    def ready(self) -> bool:
        """Whether the states may be served: loaded, connection alive and heard from lately."""
        answered = self._answered_at
        return answered is not None and time.monotonic() - answered < SILENCE_LIMIT_SECONDS

    def state_of(self, serial: int) -> Row | None:
        """The card's state, time and reason, or None: not ready, or a serial not held."""
        if not self.ready():
            return None
        return self._states.get(serial)

    # --- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        wait = FIRST_RETRY_SECONDS
        while not self._stopping.is_set():
            try:
                with connect() as conn:
                    self._follow(conn)
            except Exception as error:  # whatever it was, serve nothing until reloaded
                was_ready = self._answered_at is not None
                self._answered_at = None
                if was_ready:
                    wait = FIRST_RETRY_SECONDS
                    logger.warning(
                        "the smartcard state mirror lost its database connection (%s): answers "
                        "read the table until it is back",
                        error,
                        exc_info=not isinstance(error, psycopg.Error),
                    )
                elif wait == FIRST_RETRY_SECONDS:
                    logger.warning(
                        "the smartcard state mirror cannot connect (%s)",
                        error,
                        exc_info=not isinstance(error, psycopg.Error),
                    )
                self._stopping.wait(wait)
                wait = min(wait * 2, LAST_RETRY_SECONDS)

    def _follow(self, conn: psycopg.Connection) -> None:
        """LISTEN, read every card, then apply each notified serial until stopped or failed."""
        conn.execute(f"LISTEN {CHANNEL}")  # first: nothing committed after it goes unnoticed
        self._states = dict(self._read(conn))  # then all that was committed before it
        self._answered_at = time.monotonic()
        logger.info("the smartcard state mirror is ready: %d cards", len(self._states))
        while not self._stopping.is_set():
            notified = {
                notice.payload for notice in conn.notifies(timeout=HEARTBEAT_SECONDS, stop_after=1)
            }
            if notified:
                self._apply(conn, notified)
            else:
                conn.execute("SELECT 1")  # still there? (a silent connection makes it unready)
            self._answered_at = time.monotonic()

    def _apply(self, conn: psycopg.Connection, notified: set[str]) -> None:
        """Read the notified cards again: their rows as committed now (gone: dropped)."""
        serials = {serial: int(serial, 16) for serial in notified if _is_hex(serial)}
        rows = dict(self._read(conn, list(serials)))
        for number in serials.values():
            if number in rows:
                self._states[number] = rows[number]
            else:
                self._states.pop(number, None)

    @staticmethod
    def _read(conn: psycopg.Connection, serials: list[str] | None = None) -> Iterable:
        """(serial as a number, Row) of every card, or of the cards with these serials."""
        statement, params = _statement(), None
        if serials is not None:
            statement += f" WHERE {_serial_column()} = ANY(%s)"
            params = [serials]
        for serial, state, changed_at, reason in conn.execute(statement, params).fetchall():
            # interned: a handful of distinct strings, held once (about 200 bytes a card)
            yield int(serial, 16), (intern(state), changed_at.astimezone(UTC), intern(reason))


def _is_hex(serial: str) -> bool:
    return 0 < len(serial) <= 40 and all(c in "0123456789abcdef" for c in serial)


# --- this process's mirror ---------------------------------------------------------------------

_mirror: StateMirror | None = None
_starting = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child has the parent's mirror without its thread: it starts its own."""
    global _mirror, _starting
    _mirror, _starting = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def start() -> bool:
    """Keep the card states in this process's memory from now on: True when a mirror runs (on
    PostgreSQL), False elsewhere. Cheap enough to call on every request; call it in the process
    that serves (granian's workers are processes: each starts its own at its first request)."""
    global _mirror
    if _mirror is not None:
        return True
    if connection.vendor != "postgresql":
        return False
    with _starting:
        if _mirror is None:
            mirror = StateMirror()
            mirror.start()
            _mirror = mirror
    return True


def stop() -> None:
    """Stop this process's mirror, if one runs (tests; a process that stops serving)."""
    global _mirror
    with _starting:
        mirror, _mirror = _mirror, None
    if mirror is not None:
        mirror.stop()


def ready() -> bool:
    mirror = _mirror
    return mirror is not None and mirror.ready()


def state_of(serial: int) -> Row | None:
    """The card's state, time and reason from this process's mirror; None when there is no mirror
    ready or it does not hold this serial: then the caller reads the table."""
    mirror = _mirror
    return None if mirror is None else mirror.state_of(serial)
