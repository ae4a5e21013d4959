"""The cards' states in the responder's memory (smartcards/statemirror.py): PostgreSQL tells the
mirror of every change on commit, the mirror is used only while it is ready, and a lost
connection is followed by a full read. PostgreSQL only (LISTEN/NOTIFY): the CI's PostgreSQL run
has them; on SQLite the answers read the table, and the last test says so."""

from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from django.db import connection, transaction

from smartcard_fixtures import PIN
from smartcards.publishing import card, request
from smartcardwork import new_key, page_code, send_csr
from support import free_port, wait_for_port
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core import clock
from zorgsleutel.smartcards import lifecycle, publication, statemirror, status, status_app
from zorgsleutel.smartcards.models import Smartcard

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # when the cards of these tests were made
BLOCKED_AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
UNBLOCKED_AT = datetime(2027, 1, 5, 10, 15, tzinfo=UTC)
DELETED_AT = datetime(2027, 1, 6, 11, 45, tzinfo=UTC)
LOST_AT = datetime(2027, 1, 7, 12, 5, tzinfo=UTC)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="LISTEN/NOTIFY: the mirror is PostgreSQL's"
)
# The mirror's own connection sees only what was committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_mirror(monkeypatch):
    """Starts this process's mirror and waits until it is ready; its heartbeat and first retry
    quick for the tests. Stopped after the test."""
    monkeypatch.setattr(statemirror, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(statemirror, "FIRST_RETRY_SECONDS", 0.05)

    def started() -> None:
        assert statemirror.start() is True
        assert settled(statemirror.ready, True) is True

    yield started
    statemirror.stop()


def settled(read, expected, seconds: float = 10):
    """`read()` once it gives `expected`, or what it gives after `seconds`: a change reaches the
    mirror through another connection and its thread."""
    deadline = time.monotonic() + seconds
    while (value := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


def a_card(care, *, state=Smartcard.ACTIVE, reason="") -> Smartcard:
    """A card of care.org made at AT, its holder's membership accepted (a manager manages it)."""
    row, _ = card(care.org, state=state, reason=reason, at=AT)
    Membership.objects.filter(user=row.user).update(accepted_at=clock.now())
    return row


def held(row: Smartcard) -> tuple | None:
    """What the mirror holds of this card: (state, time written out, reason), or None."""
    found = statemirror.state_of(int(row.serial, 16))
    return None if found is None else (found[0], found[1].isoformat(), found[2])


def described(found) -> tuple | str | None:
    """An answer's status with its time written out (zone included)."""
    if isinstance(found, status.Revoked):
        return ("revoked", found.revoked_at.isoformat(), found.reason.name)
    return found


def manage(care, row: Smartcard, action: str, at: datetime) -> None:
    """A manager of the card's organisation blocks, unblocks or deletes it at `at`."""
    with clock.frozen(at):
        lifecycle.set_state(
            actor=care.manager, organisation=care.org, card_id=row.public_id, action=action
        )


def block_in_transaction(row: Smartcard) -> None:
    """What the lifecycle code does, inside the caller's transaction."""
    row.state, row.state_changed_at = Smartcard.BLOCKED, BLOCKED_AT
    row.save()
    publication.card_changed(row)


def terminate_mirror_connection() -> list[tuple[bool]]:
    """Ends the mirror's connection to this database, as a restart or the network would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            [statemirror.APPLICATION_NAME],
        )
        return cursor.fetchall()


class Rollback(Exception):
    pass


# --- what it holds -----------------------------------------------------------------------------


@postgresql_only
def test_the_answers_from_the_mirror_are_the_tables_for_every_state(
    portal_ca, care, start_mirror, django_assert_num_queries
):
    cards = {
        name: a_card(care, state=state, reason=reason)
        for name, state, reason in [
            ("active", Smartcard.ACTIVE, ""),
            ("blocked", Smartcard.BLOCKED, ""),
            ("lost", Smartcard.REVOKED, "key_compromise"),
            ("deleted", Smartcard.REVOKED, "cessation_of_operation"),
            ("renewed", Smartcard.REVOKED, "superseded"),
        ]
    }
    start_mirror()
    serials = {name: int(row.serial, 16) for name, row in cards.items()}
    expected = {
        "active": "good",
        "blocked": ("revoked", "2026-12-01T09:30:00+00:00", "certificate_hold"),
        "lost": ("revoked", "2026-12-01T09:30:00+00:00", "key_compromise"),
        "deleted": ("revoked", "2026-12-01T09:30:00+00:00", "cessation_of_operation"),
        "renewed": ("revoked", "2026-12-01T09:30:00+00:00", "superseded"),
    }
    with django_assert_num_queries(0):
        from_mirror = {name: described(publication.status_of(s)) for name, s in serials.items()}
    with django_assert_num_queries(5):
        from_table = {
            name: described(publication.status_in_table(s)) for name, s in serials.items()
        }
    assert from_mirror == expected
    assert from_table == expected
    with django_assert_num_queries(1):  # a serial the mirror does not hold: the table says
        assert publication.status_of(0x1234) is None


@postgresql_only
def test_a_block_an_unblock_a_deletion_and_a_loss_show_after_their_commit(
    portal_ca, care, start_mirror
):
    row = a_card(care)
    lost = a_card(care)
    start_mirror()
    assert held(row) == ("active", "2026-12-01T09:30:00+00:00", "")
    manage(care, row, "block", BLOCKED_AT)
    assert settled(lambda: held(row), ("blocked", "2027-01-04T09:00:00+00:00", "")) == (
        "blocked",
        "2027-01-04T09:00:00+00:00",
        "",
    )
    manage(care, row, "unblock", UNBLOCKED_AT)
    assert settled(lambda: held(row), ("active", "2027-01-05T10:15:00+00:00", "")) == (
        "active",
        "2027-01-05T10:15:00+00:00",
        "",
    )
    manage(care, row, "delete", DELETED_AT)
    deleted = ("revoked", "2027-01-06T11:45:00+00:00", "cessation_of_operation")
    assert settled(lambda: held(row), deleted) == deleted
    with clock.frozen(LOST_AT):
        lifecycle.report_lost(actor=lost.user, card_id=lost.public_id)
    reported = ("revoked", "2027-01-07T12:05:00+00:00", "key_compromise")
    assert settled(lambda: held(lost), reported) == reported


@postgresql_only
def test_an_issued_card_shows_in_the_mirror(client, login_as, portal_ca, care, start_mirror):
    start_mirror()
    care.shipped("KAART-0001")
    login_as(client, care.admin)
    membership = care.member.memberships.get()
    url = f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"
    assert client.post(url, {"action": "confirm_identity", "seen": "yes"}).status_code == 302
    login_as(client, care.member, acr="low")
    shown = page_code(client.get("/mijn/smartcards/aanmaken"))
    answer = send_csr(shown["code"], new_key(), card_serial="KAART-0001")
    assert answer.json()["status"] == "accepted"
    leaf = x509.load_pem_x509_certificate(answer.json()["certificates"][0].encode())
    issued = Smartcard.objects.get()
    assert issued.serial == format(leaf.serial_number, "x")
    when = issued.state_changed_at.isoformat()
    assert settled(lambda: held(issued), ("active", when, "")) == ("active", when, "")


@postgresql_only
def test_a_change_is_not_in_the_mirror_before_its_commit_nor_after_a_rollback(
    portal_ca, care, start_mirror
):
    row = a_card(care)
    rolled_back = a_card(care)
    start_mirror()
    with transaction.atomic():
        block_in_transaction(row)
        time.sleep(0.3)  # six heartbeats: a notification sent now would have been applied
        assert held(row) == ("active", "2026-12-01T09:30:00+00:00", "")
    blocked = ("blocked", "2027-01-04T09:00:00+00:00", "")
    assert settled(lambda: held(row), blocked) == blocked

    with pytest.raises(Rollback), transaction.atomic():
        block_in_transaction(rolled_back)
        raise Rollback
    later = a_card(care)
    with transaction.atomic():  # notified after the rolled-back change would have been
        block_in_transaction(later)
    assert settled(lambda: held(later), blocked) == blocked
    assert held(rolled_back) == ("active", "2026-12-01T09:30:00+00:00", "")


@postgresql_only
def test_a_change_committed_right_after_the_full_read_is_not_missed(
    portal_ca, care, start_mirror, monkeypatch
):
    """The mirror LISTENs before it reads every card: a change committed just after that read
    still reaches it (read first and listen after, and this change would be lost)."""
    row = a_card(care)
    read_everything = statemirror.StateMirror._read

    def read_then_change(conn, serials=None):
        rows = list(read_everything(conn, serials))
        if serials is None:  # the full read: a manager blocks the card right after it
            try:
                with transaction.atomic():
                    block_in_transaction(row)
            finally:
                connection.close()  # this thread's own Django connection
        return rows

    monkeypatch.setattr(statemirror.StateMirror, "_read", staticmethod(read_then_change))
    start_mirror()
    blocked = ("blocked", "2027-01-04T09:00:00+00:00", "")
    assert settled(lambda: held(row), blocked) == blocked


# --- when it is used ---------------------------------------------------------------------------


@postgresql_only
def test_the_mirror_is_not_used_before_it_is_ready_and_is_once_it_is(
    portal_ca, care, start_mirror, django_assert_num_queries
):
    row, issued = card(care.org, at=AT)
    serial = int(row.serial, 16)
    with django_assert_num_queries(1):  # no mirror: the table
        assert publication.status_of(serial) == "good"
    start_mirror()
    # Changed behind the mirror's back (no card_changed): it still holds the old state, which
    # shows where each answer comes from.
    Smartcard.objects.filter(pk=row.pk).update(state=Smartcard.BLOCKED, state_changed_at=AT)
    with django_assert_num_queries(0):
        assert publication.status_of(serial) == "good"
    issuer = portal_ca["certificates"]["issuing"]
    with_nonce = ocsp.load_der_ocsp_response(publication.answer(request(issued, issuer)).body)
    assert with_nonce.certificate_status == ocsp.OCSPCertStatus.GOOD  # the mirror's
    # An answer without a nonce is kept in the cache for an hour: it reads the table.
    kept = ocsp.load_der_ocsp_response(publication.answer(request(issued, issuer, nonce=None)).body)
    assert (kept.certificate_status, kept.revocation_reason, kept.revocation_time_utc) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.certificate_hold,
        AT,
    )


class Hanging:
    """The mirror's connection, whose heartbeat waits while `silent` is set: a server gone
    quiet without the connection failing (a network that drops everything)."""

    silent = threading.Event()
    resumed = threading.Event()

    def __init__(self, real) -> None:
        self.real = real

    def __enter__(self) -> Hanging:
        self.real.__enter__()
        return self

    def __exit__(self, *exc):
        return self.real.__exit__(*exc)

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def execute(self, query, *args, **kwargs):
        if query == "SELECT 1" and self.silent.is_set():
            self.resumed.wait(30)
        return self.real.execute(query, *args, **kwargs)


@postgresql_only
def test_a_silent_connection_makes_the_mirror_unready(
    portal_ca, care, start_mirror, monkeypatch, django_assert_num_queries
):
    row = a_card(care)
    real_connect = statemirror.connect
    monkeypatch.setattr(statemirror, "connect", lambda: Hanging(real_connect()))
    monkeypatch.setattr(statemirror, "SILENCE_LIMIT_SECONDS", 0.5)
    Hanging.silent.clear()
    Hanging.resumed.clear()
    start_mirror()
    Smartcard.objects.filter(pk=row.pk).update(state=Smartcard.BLOCKED, state_changed_at=AT)
    with django_assert_num_queries(0):  # the mirror's (not told of that change)
        assert publication.status_of(int(row.serial, 16)) == "good"
    Hanging.silent.set()
    try:
        assert settled(statemirror.ready, False) is False
        with django_assert_num_queries(1):  # the table's
            assert described(publication.status_of(int(row.serial, 16))) == (
                "revoked",
                "2026-12-01T09:30:00+00:00",
                "certificate_hold",
            )
    finally:
        Hanging.resumed.set()
    assert settled(statemirror.ready, True) is True  # it answered again: nothing was lost


@postgresql_only
def test_a_lost_connection_is_unready_until_every_card_is_read_again(
    portal_ca, care, start_mirror, monkeypatch, caplog, django_assert_num_queries
):
    row = a_card(care)
    serial = int(row.serial, 16)
    reachable = threading.Event()
    reachable.set()
    real_connect = statemirror.connect

    def connect():
        if not reachable.is_set():
            raise psycopg.OperationalError("the test keeps the database away")
        return real_connect()

    monkeypatch.setattr(statemirror, "connect", connect)
    caplog.set_level("INFO", logger="zorgsleutel.smartcards.statemirror")
    start_mirror()
    assert held(row) == ("active", "2026-12-01T09:30:00+00:00", "")

    reachable.clear()
    assert terminate_mirror_connection() == [(True,)]
    assert settled(statemirror.ready, False) is False
    # While it is away a manager blocks the card: its notification reaches no one.
    manage(care, row, "block", BLOCKED_AT)
    with django_assert_num_queries(1):
        assert described(publication.status_of(serial)) == (
            "revoked",
            "2027-01-04T09:00:00+00:00",
            "certificate_hold",
        )
    assert held(row) is None

    reachable.set()
    assert settled(statemirror.ready, True) is True
    assert held(row) == ("blocked", "2027-01-04T09:00:00+00:00", "")
    with django_assert_num_queries(0):
        assert publication.status_of(serial) == status.Revoked(
            serial, BLOCKED_AT, x509.ReasonFlags.certificate_hold
        )
    messages = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert messages == [
        ("INFO", "the smartcard state mirror is ready: 1 cards"),
        ("WARNING", "the smartcard state mirror lost its database connection"),
        ("INFO", "the smartcard state mirror is ready: 1 cards"),
    ]


# --- where it runs -----------------------------------------------------------------------------


def mirror_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            [statemirror.APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def asked(url: str, issued: x509.Certificate, issuer: x509.Certificate) -> ocsp.OCSPResponse:
    body = request(issued, issuer, nonce=secrets.token_bytes(16))
    posted = urllib.request.Request(url, body, {"Content-Type": "application/ocsp-request"})
    with urllib.request.urlopen(posted, timeout=10) as response:
        return ocsp.load_der_ocsp_response(response.read())


@postgresql_only
def test_each_responder_process_keeps_its_own_mirror_and_the_portals_mount_none(
    portal_ca, softhsm, care
):
    row, issued = card(care.org, at=AT)
    issuer = portal_ca["certificates"]["issuing"]
    body = request(issued, issuer)
    answered = []
    status_app.application(  # as the portal's wsgi.py mounts it: no mirror, the table
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/smartcards/ocsp",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        },
        lambda status, headers: answered.append(status),
    )
    assert answered == ["200 OK"]
    assert mirror_connections() == 0
    database = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}:{database['PASSWORD']}@"
        f"{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "SOFTHSM2_CONF": str(softhsm.conf),
        "SMARTCARD_CA_DIR": str(portal_ca["directory"]),
        "SMARTCARD_CA_MODULE": softhsm.module,
        "SMARTCARD_CA_TOKEN": portal_ca["label"],
        "SMARTCARD_CA_PIN": PIN,
    }
    server = subprocess.Popen(
        [*(sys.executable, "-m", "zorgsleutel.cli", "smartcard-ca", "serve"),
         *("--port", str(port), "--workers", "2")],
        env=env,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/smartcards/ocsp"
    try:
        wait_for_port(port, server)
        # Each worker starts its mirror at its first request: ask until both have.
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(4) as pool:
            while mirror_connections() < 2 and time.monotonic() < deadline:
                answers = list(pool.map(lambda _: asked(url, issued, issuer), range(8)))
                assert {a.certificate_status for a in answers} == {ocsp.OCSPCertStatus.GOOD}
        assert mirror_connections() == 2

        manage(care, row, "block", BLOCKED_AT)
        deadline = time.monotonic() + 10
        while asked(url, issued, issuer).certificate_status == ocsp.OCSPCertStatus.GOOD:
            assert time.monotonic() < deadline, "the block never reached the responder"
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: asked(url, issued, issuer), range(16)))
        assert {(a.certificate_status, a.revocation_reason, a.revocation_time_utc)
                for a in answers} == {
            (ocsp.OCSPCertStatus.REVOKED, x509.ReasonFlags.certificate_hold, BLOCKED_AT)
        }  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    assert settled(mirror_connections, 0) == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite has no LISTEN/NOTIFY")
def test_on_sqlite_no_mirror_starts_and_the_answers_read_the_table(
    portal_ca, care, django_assert_num_queries
):
    row = a_card(care)
    assert statemirror.start() is False
    with django_assert_num_queries(1):
        assert publication.status_of(int(row.serial, 16)) == "good"
