"""What a login writes, and together with what (docs/benchmarks.md, docs/accounts.md).

The login was made cheaper (fewer statements, one write transaction per step); these tests pin
the properties that must not have moved: the session id changes at each step and the old row is
gone, each step's audit event commits or rolls back with its session, failures are audited with
their throttle counters, the three throttles still count, and how many statements a login takes.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import PASSWORD
from zorgsleutel.authn import throttle
from zorgsleutel.core import audit
from zorgsleutel.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]
HINT = "06 •• •• •• 01"


@pytest.fixture
def member(organisation, other_organisation, person, vault_service, sms_code, fresh_number):
    from zorgsleutel.accounts.models import Membership

    user = person(organisation, "member", email="lid@zorggroep.nl")
    Membership.objects.create(user=user, organisation=other_organisation, role="member")
    sent = vault_service.enrol(phone=fresh_number(last_two="01"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    return user


def _stored(key: str | None) -> bool:
    return bool(key) and Session.objects.filter(session_key=key).exists()


def test_each_step_stores_a_new_session_and_removes_the_old_one(client, member, sms_code):
    client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    pending = client.cookies["zs_session"].value
    assert _stored(pending)
    response = client.post("/inloggen/code", {"code": sms_code(HINT)})
    assert response.status_code == 302 and response["Location"] == "/mijn"
    logged_in = client.cookies["zs_session"].value
    assert logged_in != pending and _stored(logged_in) and not _stored(pending)
    assert Session.objects.count() == 1
    assert client.get("/mijn").status_code == 200


def test_a_session_that_existed_before_the_login_is_replaced(client, member, sms_code):
    session = client.session  # e.g. a language choice or a message before logging in
    session["before"] = "yes"
    session.save()
    before = session.session_key
    client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    assert not _stored(before) and client.session["before"] == "yes"


def _store_class():
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore


def test_the_session_engine_is_djangos_with_two_documented_methods_changed():
    from django.contrib.sessions.backends import db

    from zorgsleutel.authn import sessionstore

    store = _store_class()
    assert store is sessionstore.SessionStore and issubclass(store, db.SessionStore)
    own = {name for name in vars(store) if not name.startswith("__")}
    assert own == {"_written", "exists", "save", "_snapshot"}


# Real commits: the store learns what it wrote on commit (transaction.on_commit), which the
# test's own wrapping transaction would hold back.
@pytest.mark.django_db(transaction=True)
def test_a_session_is_written_when_it_changed_and_only_then(member):
    store = _store_class()()
    store["a"] = 1
    store.save()
    key = store.session_key
    with CaptureQueriesContext(connection) as unchanged:
        store.save()  # what the session middleware does after a flow saved it
    assert unchanged.captured_queries == []
    store["a"] = 2
    store.save()
    assert _store_class()(session_key=key).load() == {"a": 2}
    store.cycle_key()  # a new key for the same data: written under it, the old row gone
    assert store.session_key != key and not Session.objects.filter(session_key=key).exists()
    assert _store_class()(session_key=store.session_key).load() == {"a": 2}


def test_a_key_that_is_taken_is_never_overwritten(member, monkeypatch):
    """exists() asks nothing: the INSERT refuses a taken key and Django's create() draws again."""
    from django.contrib.sessions.backends import base

    taken = _store_class()()
    taken["owner"] = "someone else"
    taken.save()
    keys = iter([taken.session_key, "b" * 32])
    monkeypatch.setattr(base, "get_random_string", lambda length, chars: next(keys))
    fresh = _store_class()()
    fresh["owner"] = "me"
    fresh.create()
    assert fresh.session_key == "b" * 32
    assert _store_class()(session_key=taken.session_key).load() == {"owner": "someone else"}


def test_logout_right_after_a_rotation_leaves_no_row(member, rf):
    store = _store_class()()
    store["a"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()  # not saved yet
    store.flush()
    assert not Session.objects.filter(session_key=old).exists()


def test_the_success_event_rolls_back_with_a_failed_session(client, member, sms_code, monkeypatch):
    client.post("/inloggen", {"email": member.email, "password": PASSWORD})

    def fails(self, must_create=False):
        raise RuntimeError("the session store is down")

    monkeypatch.setattr(_store_class(), "save", fails)
    client.raise_request_exception = False
    response = client.post("/inloggen/code", {"code": sms_code(HINT)})
    assert response.status_code == 500
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()
    assert audit.verify_chain().ok


def test_the_code_sent_event_rolls_back_with_a_failed_session(client, member, monkeypatch):
    def fails(self, must_create=False):
        raise RuntimeError("the session store is down")

    monkeypatch.setattr(_store_class(), "save", fails)
    client.raise_request_exception = False
    response = client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    assert response.status_code == 500
    assert not AuditEvent.objects.filter(action="login.code_sent").exists()


def test_a_login_writes_one_event_per_organisation_in_one_chain(client, member, sms_code):
    client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    client.post("/inloggen/code", {"code": sms_code(HINT)})
    events = AuditEvent.objects.filter(action="login.succeeded").order_by("seq")
    assert [e.organisation for e in events] == [
        audit.ref(m.organisation) for m in member.memberships.order_by("organisation_id")
    ] or sorted(e.organisation for e in events) == sorted(
        audit.ref(m.organisation) for m in member.memberships.all()
    )
    assert [e.seq for e in events] == [events[0].seq, events[0].seq + 1]
    assert {(e.ip, e.actor) for e in events} == {("127.0.0.1", member.audit_ref)}
    assert audit.verify_chain().ok


def test_a_failed_password_is_counted_and_audited_in_each_organisation(client, member):
    client.post("/inloggen", {"email": member.email, "password": "fout-wachtwoord-1"})
    assert AuditEvent.objects.filter(action="login.password_failed").count() == 2
    assert throttle.failures(email=member.email, ip="127.0.0.1") == {"untrusted": 1, "ip": 1}


def _fails(**attempt) -> None:
    started = throttle.start(**attempt)
    assert started.wait == 0
    throttle.failed(started)


def _wait(**attempt) -> int:
    """The wait of an attempt; an allowed one is ended as a right password."""
    started = throttle.start(**attempt)
    if not started.wait:
        throttle.succeeded(started)
    return started.wait


def test_the_three_throttles_grow(member):
    from datetime import timedelta

    from zorgsleutel.core import clock

    victim, there = member.email, "192.0.2.1"
    with clock.frozen(clock.now()):
        for _ in range(10):
            _fails(email=victim, ip=there)
        assert _wait(email=victim, ip=there) == 2
        # untrusted: this account from any address without its device cookie
        assert _wait(email=victim, ip="192.0.2.2") == 2
        assert _wait(email="ander@zorggroep.nl", ip=there) == 0
        clock.advance(timedelta(seconds=2))
        _fails(email=victim, ip=there)
        assert _wait(email=victim, ip=there) == 4
        # ip: this address, any account
        for n in range(30):
            _fails(email=f"p{n}@zorggroep.nl", ip="192.0.2.3")
        assert _wait(email="nog-een@zorggroep.nl", ip="192.0.2.3") == 2
        # device: only its own failures count, from its fifth on
        for _ in range(5):
            _fails(email=victim, ip=there, device="nonce-1")
        assert _wait(email=victim, ip=there, device="nonce-1") == 2
        assert _wait(email=victim, ip=there, device="nonce-2") == 0
        # never a permanent lock
        clock.advance(timedelta(minutes=16))
        assert _wait(email=victim, ip=there) == 0
        assert _wait(email=victim, ip=there, device="nonce-1") == 0


def test_a_right_password_gives_its_count_back_and_keeps_the_failures(client, member):
    _fails(email=member.email, ip="127.0.0.1")
    client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    assert throttle.failures(email=member.email, ip="127.0.0.1") == {"untrusted": 1, "ip": 1}


# Real commits: the store learns what it wrote on commit (transaction.on_commit), which the
# test's own wrapping transaction would hold back.
@pytest.mark.django_db(transaction=True)
def test_how_many_statements_a_login_takes(client, member, sms_code):
    """The shape, not the speed: 3 requests (the password step answers with the code page), 2
    writing steps, memberships read once per request."""
    audit.record("operator.created", actor="test")  # the chain head exists, as in production
    counts = {}
    for step, call in [
        (
            "password",
            lambda: client.post("/inloggen", {"email": member.email, "password": PASSWORD}),
        ),
        ("code", lambda: client.post("/inloggen/code", {"code": sms_code(HINT)})),
        ("home", lambda: client.get("/mijn")),
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert call().status_code in (200, 302)
        sql = [q["sql"].split()[0].upper() for q in queries.captured_queries]
        counts[step] = sum(1 for s in sql if s in ("INSERT", "UPDATE", "DELETE"))
        counts[step + " reads"] = sql.count("SELECT")
    # The throttle's counters: 2 taken before the password is checked, 2 given back after it
    # (authn/throttle.py); in the database when the cache is the database cache.
    in_database = isinstance(caches["default"], DatabaseCache)
    # event, chain head, the rotated session (Django's cycle_key stores it with the pending
    # step); the middleware's save then writes nothing (authn/sessionstore.py)
    assert counts["password"] == 3 + (4 if in_database else 0)
    # event (x2 organisations: one INSERT), chain head, the rotated session (INSERT, DELETE of
    # the old row), last_login, the session with the person's id saved with the event
    assert counts["code"] == 6
    assert counts["home"] == 0
    # person, memberships, organisations; the counters' reads (and PostgreSQL's advisory locks)
    counter_reads = (10 + (4 if connection.vendor == "postgresql" else 0)) if in_database else 0
    assert counts["password reads"] <= 4 + counter_reads
    # session, person, memberships, organisations, chain head, the old row before its DELETE
    assert counts["code reads"] <= 6
    assert counts["home reads"] <= 4  # session, person, memberships, organisations


def test_a_person_without_organisations_is_found_too(client, member, sms_code):
    member.memberships.all().delete()
    client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    response = client.post("/inloggen/code", {"code": sms_code(HINT)})
    assert response.status_code == 302 and response["Location"] == "/mijn"
    [event] = AuditEvent.objects.filter(action="login.succeeded")
    assert event.organisation == ""


def test_a_deleted_person_cannot_log_in(client, member):
    from zorgsleutel.accounts.models import User

    User.objects.filter(pk=member.pk).update(state=User.DELETED)
    response = client.post("/inloggen", {"email": member.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "niet juist" in response.content.decode()


def test_known_unknown_and_membershipless_addresses_cost_three_queries_each(member, person):
    """An unknown address must cost the same queries as a known one: its time would tell
    (bench/enumeration.py)."""
    from zorgsleutel import policies
    from zorgsleutel.accounts.models import User
    from zorgsleutel.people import loading

    alone = User.objects.create(email="alleen@zorggroep.nl", name="Alleen", state=User.ACTIVE)
    for email, expected in [
        (member.email, member.pk),
        ("alleen@zorggroep.nl", alone.pk),
        ("niemand@zorggroep.nl", None),
    ]:
        with CaptureQueriesContext(connection) as queries:
            found = loading.person(email=email)
        assert (found.pk if found else None, len(queries.captured_queries)) == (expected, 3)
    alone = loading.person(email="alleen@zorggroep.nl")
    with CaptureQueriesContext(connection) as queries:
        assert list(policies.memberships(alone)) == []
    assert len(queries.captured_queries) == 0  # loaded with the person


def test_the_person_loader_gives_what_the_orm_gives(member):
    """people/loading.py runs its own statements (QuerySet.raw): the instances must be the
    ORM's, field for field, and only the person's, with their organisations."""
    from zorgsleutel.accounts.models import Membership, User
    from zorgsleutel.people import loading

    loaded = loading.person(email=member.email)
    orm = User.objects.get(pk=member.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(orm, field.attname))
    expected = list(
        Membership.objects.select_related("organisation").filter(user=orm).order_by("pk")
    )
    assert [m.pk for m in loaded.loaded_memberships] == [m.pk for m in expected]
    assert len(expected) == 2
    for got, want in zip(loaded.loaded_memberships, expected, strict=True):
        for model_got, model_want in ((got, want), (got.organisation, want.organisation)):
            for field in type(model_want)._meta.concrete_fields:
                assert getattr(model_got, field.attname) == getattr(model_want, field.attname)
        assert got.user is loaded
    assert loading.person(pk=member.pk, state=User.BLOCKED) is None
    User.objects.filter(pk=member.pk).update(state=User.DELETED)
    assert loading.person(pk=member.pk) is None
    assert loading.person(email=member.email) is None


# Real commits: the store learns what it wrote on commit (transaction.on_commit), which the
# test's own wrapping transaction would hold back.
@pytest.mark.django_db(transaction=True)
def test_a_save_rolled_back_is_written_again(member):
    """The store remembers what it wrote only once that committed: after a rollback the next
    save (the session middleware's) writes the session again."""
    from django.db import transaction

    store = _store_class()()
    store["a"] = 1
    store.save()
    key = store.session_key
    store["a"] = 2
    with pytest.raises(RuntimeError, match="the flow failed"), transaction.atomic():
        store.save()
        raise RuntimeError("the flow failed")
    # The database row (with Redis, cached_db's cache copy is written outside the transaction).
    assert Session.objects.get(session_key=key).get_decoded() == {"a": 1}
    store.save()
    assert Session.objects.get(session_key=key).get_decoded() == {"a": 2}
