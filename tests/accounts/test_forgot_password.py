"""Wachtwoord vergeten (security review): the answer must not tell who has an account, and the
form must not flood an inbox. The request only queues a task (accounts/tasks.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from zorgsleutel.accounts.models import User
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_throttles")]
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
SENT = "Als er een actief account"  # the start of the answer's Dutch text
TOO_MANY = "Te veel verzoeken vanaf uw adres. Probeer het over"


@pytest.fixture(autouse=True)
def still():
    """The portal's clock stands still: no hourly window ends during a test."""
    with clock.frozen(clock.now()):
        yield


@pytest.fixture
def people(organisation, person):
    """An active, a blocked and an invited person."""
    active = person(organisation, "member", email="actief@zorggroep.nl")
    blocked = person(organisation, "member", email="geblokkeerd@zorggroep.nl")
    User.objects.filter(pk=blocked.pk).update(state=User.BLOCKED)
    invited = person(organisation, "member", email="uitgenodigd@zorggroep.nl")
    User.objects.filter(pk=invited.pk).update(state=User.INVITED)
    return active


def _ask(email: str, ip: str = "192.0.2.10"):
    browser = Client(REMOTE_ADDR=ip)
    browser.get("/wachtwoord-vergeten")
    return browser.post("/wachtwoord-vergeten", {"email": email})


def test_known_and_unknown_addresses_get_the_same_bytes(people):
    known = _ask("actief@zorggroep.nl")
    unknown = _ask("niemand@zorggroep.nl")
    assert known.status_code == unknown.status_code == 200
    assert SENT in known.content.decode()
    # Only the CSRF token differs (a new one per browser).
    assert CSRF.sub(b"", known.content) == CSRF.sub(b"", unknown.content)


def test_the_request_writes_one_event_that_does_not_say_whether_the_address_is_known(people):
    _ask("actief@zorggroep.nl")
    _ask("niemand@zorggroep.nl")
    events = AuditEvent.objects.filter(action="password_reset.requested").order_by("seq")
    assert [(e.actor, e.target, e.outcome, e.details) for e in events] == [
        ("anonymous", "", "success", {"mailed": True}),
        ("anonymous", "", "success", {"mailed": True}),
    ]
    assert not OutboxMail.objects.exists()  # nothing looked up yet: the worker does that


def test_the_task_mails_only_active_accounts(people, run_worker):
    for email in (
        "actief@zorggroep.nl",
        "geblokkeerd@zorggroep.nl",
        "uitgenodigd@zorggroep.nl",
        "niemand@zorggroep.nl",
    ):
        _ask(email)
    run_worker()
    assert list(OutboxMail.objects.values_list("to", "template")) == [
        ("actief@zorggroep.nl", "password_reset")
    ]
    [sent] = AuditEvent.objects.filter(action="password_reset.link_sent")
    assert sent.target == people.audit_ref


def test_ten_requests_for_one_address_send_three_mails(people, run_worker):
    answers = [_ask("Actief@Zorggroep.nl ", ip=f"192.0.2.{n}") for n in range(10)]
    assert {a.status_code for a in answers} == {200}
    assert len({CSRF.sub(b"", a.content) for a in answers}) == 1  # the same answer every time
    run_worker()
    assert OutboxMail.objects.filter(to="actief@zorggroep.nl").count() == 3
    mailed = AuditEvent.objects.filter(action="password_reset.requested")
    assert [e.details["mailed"] for e in mailed.order_by("seq")] == [True] * 3 + [False] * 7


def test_twenty_requests_an_hour_from_one_address_then_try_later(people):
    answers = [_ask(f"iemand{n}@zorggroep.nl", ip="198.51.100.7") for n in range(20)]
    assert {a.status_code for a in answers} == {200}
    known = _ask("actief@zorggroep.nl", ip="198.51.100.7")
    unknown = _ask("niemand@zorggroep.nl", ip="198.51.100.7")
    assert known.status_code == unknown.status_code == 429
    assert TOO_MANY in known.content.decode()
    # The same page; the form shows back the address that was typed.
    typed_back = CSRF.sub(b"", known.content).replace(b"actief@", b"niemand@")
    assert typed_back == CSRF.sub(b"", unknown.content)
    assert _ask("actief@zorggroep.nl", ip="198.51.100.8").status_code == 200  # others: as ever
    [refused, _] = AuditEvent.objects.filter(action="password_reset.refused")
    assert refused.details == {"limit": "per_ip"}
