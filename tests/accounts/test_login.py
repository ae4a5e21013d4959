"""Seed 000, *Inloggen met SMS-code*, and *Wachtwoord vergeten*."""

from __future__ import annotations

import pytest

from people import PASSWORD
from support import shows_code_page
from zorgsleutel.accounts.models import User
from zorgsleutel.messaging.models import OutboxMail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]


@pytest.fixture
def member(organisation, person, vault_service, sms_code, fresh_number):
    user = person(organisation, "member", email="lid@zorggroep.nl")
    number = fresh_number(last_two="01")
    sent = vault_service.enrol(phone=number)
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    return user


def _log_in(client, sms_code, email="lid@zorggroep.nl", password=PASSWORD):
    response = client.post("/inloggen", {"email": email, "password": password})
    assert shows_code_page(response), response.content.decode()[:2000]
    assert "06 •• •• •• 01" in response.content.decode()
    return client.post("/inloggen/code", {"code": sms_code("06 •• •• •• 01")})


def test_password_then_sms_code_logs_in_on_a_new_session(client, member, sms_code):
    client.get("/inloggen")
    before = client.session.session_key
    response = _log_in(client, sms_code)
    assert response.status_code == 302 and response["Location"] == "/mijn"
    assert client.session.session_key != before
    assert client.session["zs_acr"] == "low"
    assert "Zorggroep Test" in client.get("/mijn").content.decode()


def test_unknown_email_and_wrong_password_get_the_same_answer(client, member):
    wrong = client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": "fout-wachtwoord-1"})
    unknown = client.post(
        "/inloggen", {"email": "niemand@zorggroep.nl", "password": "fout-wachtwoord-1"}
    )
    assert wrong.status_code == unknown.status_code == 200
    message = "Het e-mailadres of wachtwoord is niet juist."
    assert message in wrong.content.decode() and message in unknown.content.decode()


def test_failed_passwords_slow_down_but_never_lock_for_long(client, member, sms_code):
    from datetime import timedelta

    from zorgsleutel.core import clock

    for _ in range(10):  # a browser without a device cookie: the untrusted allowance
        client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": "fout-wachtwoord-1"})
    throttled = client.post(
        "/inloggen", {"email": "lid@zorggroep.nl", "password": "fout-wachtwoord-1"}
    )
    assert throttled.status_code == 429
    assert "Probeer het over 2 seconden opnieuw." in throttled.content.decode()
    with clock.frozen(clock.now() + timedelta(minutes=16)):
        assert _log_in(client, sms_code).status_code == 302


def test_a_wrong_code_does_not_log_in(client, member, sms_code):
    client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": PASSWORD})
    code = sms_code("06 •• •• •• 01")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post("/inloggen/code", {"code": wrong})
    assert response.status_code == 200 and "nog 4" in response.content.decode()
    assert client.get("/mijn").status_code == 302


def test_a_blocked_person_cannot_log_in(client, member):
    member.state = User.BLOCKED
    member.save()
    response = client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": PASSWORD})
    assert "geblokkeerd" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the worker runs the mail tasks
def test_reset_sets_a_new_number_ends_other_sessions_and_notifies(
    client, member, sms_code, mailed_link, vault_service, fresh_number, run_worker
):
    other = type(client)()
    _log_in(other, sms_code)
    assert other.get("/mijn").status_code == 200
    old_enrolment = member.phone_enrolment

    client.post("/wachtwoord-vergeten", {"email": "lid@zorggroep.nl"})
    run_worker()  # the worker looks the address up and mails the link
    link = mailed_link("lid@zorggroep.nl")
    client.post(
        link,
        {
            "password": "Ander-wachtwoord-2026",
            "password_again": "Ander-wachtwoord-2026",
            "phone": fresh_number(last_two="99"),
        },
    )
    done = client.post(link + "/code", {"code": sms_code("06 •• •• •• 99")})
    assert done.status_code == 302 and done["Location"] == "/mijn"
    assert client.get("/mijn").status_code == 200  # this session is logged in, at the new epoch
    member.refresh_from_db()
    assert (
        member.check_password("Ander-wachtwoord-2026") and member.phone_enrolment != old_enrolment
    )
    assert other.get("/mijn").status_code == 302  # the other session ended
    notice = OutboxMail.objects.filter(to="lid@zorggroep.nl", template="credentials_changed").get()
    assert "beheerder" in notice.body_text or "administrator" in notice.body_text
    import zorgsleutel.vaultclient as vc

    with pytest.raises(vc.VaultRefused) as erased:
        vault_service.hint(enrolment=old_enrolment)  # the old number is erased
    assert erased.value.code == "unknown_enrolment"
    client.post("/uitloggen")
    response = client.post(
        "/inloggen", {"email": "lid@zorggroep.nl", "password": "Ander-wachtwoord-2026"}
    )
    assert shows_code_page(response)
    assert "06 •• •• •• 99" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the worker runs the mail tasks
def test_a_blocked_account_cannot_reset_itself(client, member, run_worker):
    member.state = User.BLOCKED
    member.save()
    client.post("/wachtwoord-vergeten", {"email": "lid@zorggroep.nl"})
    run_worker()
    assert not OutboxMail.objects.filter(to="lid@zorggroep.nl").exists()


def test_a_session_idle_for_29_minutes_works_and_one_idle_for_31_is_logged_out(
    client, member, sms_code
):
    """policies.SESSION_IDLE_TIMEOUT: 30 minutes without a request."""
    from datetime import timedelta

    from zorgsleutel.core import clock

    start = clock.now()
    with clock.frozen(start):
        _log_in(client, sms_code)
    with clock.frozen(start + timedelta(minutes=29)):
        assert client.get("/mijn").status_code == 200  # and seen again now
    with clock.frozen(start + timedelta(minutes=29 + 29)):
        assert client.get("/mijn").status_code == 200
    with clock.frozen(start + timedelta(minutes=29 + 29 + 31)):
        response = client.get("/mijn")
    assert response.status_code == 302 and response["Location"] == "/inloggen"
    with clock.frozen(start + timedelta(minutes=29 + 29 + 31)):
        assert client.get("/mijn").status_code == 302  # logged out, not only turned away


def test_a_session_ends_12_hours_after_its_login_however_active(client, member, sms_code):
    """policies.SESSION_ABSOLUTE_TIMEOUT: 12 hours after the login."""
    from datetime import timedelta

    from zorgsleutel.core import clock

    start = clock.now()
    with clock.frozen(start):
        _log_in(client, sms_code)
    # Active every 20 minutes, never idle for long, but 12 hours is the limit.
    for step in range(1, 36):  # up to 11 h 40 min
        with clock.frozen(start + timedelta(minutes=20 * step)):
            assert client.get("/mijn").status_code == 200
    with clock.frozen(start + timedelta(hours=11, minutes=59)):
        assert client.get("/mijn").status_code == 200
    with clock.frozen(start + timedelta(hours=12, minutes=1)):
        response = client.get("/mijn")
    assert response.status_code == 302 and response["Location"] == "/inloggen"


def test_logins_and_failures_show_in_the_organisations_audit_log(client, member, sms_code):
    from zorgsleutel.core import audit
    from zorgsleutel.core.models import AuditEvent

    client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": "fout-wachtwoord-1"})
    _log_in(client, sms_code)
    organisation = member.memberships.get().organisation
    actions = list(audit.for_organisation(organisation).values_list("action", "outcome"))
    assert ("login.password_failed", "failure") in actions and (
        "login.succeeded",
        "success",
    ) in actions
    assert not AuditEvent.objects.filter(action="login.password_failed", actor="anonymous").exists()
