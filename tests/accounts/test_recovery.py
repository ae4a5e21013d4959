"""Recovery stays by e-mail (seed 000, *Wachtwoord vergeten*) and is loud (finding 4 of the
tenancy review): the old number is told before its enrolment is erased, and the mail carries a
single-use *Dit was ik niet* link that blocks the account's memberships and alerts the
organisations' managers. A reset never raises assurance."""

from __future__ import annotations

import pytest

import zorgsleutel.vaultclient as vc
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.mobileapp.models import AppDevice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_throttles")]

NEW = "Ander-wachtwoord-2026"


@pytest.fixture
def member(organisation, person, vault_service, sms_code, fresh_number):
    user = person(organisation, "member", email="lid@zorggroep.nl", name="Lid Persoon")
    sent = vault_service.enrol(phone=fresh_number(last_two="41"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    return user


def _reset(client, mailed_link, sms_code, fresh_number, run_worker, email="lid@zorggroep.nl"):
    client.post("/wachtwoord-vergeten", {"email": email})
    run_worker()  # Wachtwoord vergeten may do its lookup and mail in the worker
    link = mailed_link(email)
    client.post(link, {"password": NEW, "password_again": NEW, "phone": fresh_number("42")})
    return client.post(link + "/code", {"code": sms_code("06 •• •• •• 42")})


def test_the_old_number_is_told_before_it_is_erased(
    client, member, vault_service, mailed_link, sms_code, fresh_number, run_worker
):
    old = member.phone_enrolment
    assert _reset(client, mailed_link, sms_code, fresh_number, run_worker).status_code == 302
    texts = [m for m in vault_service.dev_sms() if m["to"] == "06 •• •• •• 41"]
    assert texts[0]["body"] == (
        "Zorgsleutel: uw wachtwoord en mobiele telefoonnummer zijn gewijzigd. Was u dit "
        "niet? Gebruik de "
        "link 'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact op met uw "
        "beheerder."
    )
    with pytest.raises(vc.VaultRefused) as erased:
        vault_service.hint(enrolment=old)  # and then erased
    assert erased.value.code == "unknown_enrolment"
    assert AuditEvent.objects.filter(action="phone.notice_sent").exists()


def test_dit_was_ik_niet_blocks_the_memberships_and_alerts_the_managers(
    client,
    member,
    organisation,
    other_organisation,
    person,
    mailed_link,
    sms_code,
    fresh_number,
    run_worker,
):
    manager = person(organisation, "manager", email="beheer@zorggroep.nl")
    admin = person(other_organisation, "administrator", email="admin@anderbedrijf.nl")
    Membership.objects.create(user=member, organisation=other_organisation, role="member")
    _reset(client, mailed_link, sms_code, fresh_number, run_worker)
    mail = OutboxMail.objects.get(to="lid@zorggroep.nl", template="credentials_changed")
    link = mailed_link("lid@zorggroep.nl")
    assert link.startswith("/dit-was-ik-niet/") and "Was u dit niet?" in mail.body_text
    attacker = type(client)()
    attacker.post("/inloggen", {"email": "lid@zorggroep.nl", "password": NEW})
    assert client.get(link).status_code == 200  # a GET changes nothing
    assert set(Membership.objects.filter(user=member).values_list("state", flat=True)) == {"active"}
    done = client.post(link)
    assert done.status_code == 200
    assert "Uw account is geblokkeerd" in done.content.decode()
    assert set(Membership.objects.filter(user=member).values_list("state", flat=True)) == {
        "blocked"
    }
    alerts = OutboxMail.objects.filter(template="not_me_alert").values_list("to", flat=True)
    assert sorted(alerts) == [admin.email, manager.email]
    refused = client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": NEW})
    assert "Het e-mailadres of wachtwoord is niet juist." in refused.content.decode()
    member.refresh_from_db()  # the intruder's password and phone are gone with it
    assert (member.has_usable_password(), member.phone_enrolment) == (False, "")
    assert client.post(link).status_code == 404  # single use
    assert attacker.get("/inloggen/code").status_code in (200, 302)


def test_an_unknown_link_changes_nothing(client, member):
    assert client.post("/dit-was-ik-niet/" + "x" * 43).status_code == 404
    assert Membership.objects.get(user=member).state == "active"


def test_a_reset_never_raises_assurance(
    client, organisation, person, vault_service, sms_code, fresh_number, mailed_link, run_worker
):
    manager = person(organisation, "manager", email="beheer@zorggroep.nl")
    sent = vault_service.enrol(phone=fresh_number(last_two="43"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    manager.phone_enrolment = sent.enrolment
    manager.save()
    AppDevice.objects.create(
        public_id="app_x",
        user=manager,
        name="Telefoon",
        public_key=b"-",
        secret_ciphertext=b"-",
        state="blocked",
        enrolled_at=manager.created_at,
    )
    done = _reset(client, mailed_link, sms_code, fresh_number, run_worker, "beheer@zorggroep.nl")
    assert done.status_code == 302
    response = client.post("/inloggen", {"email": "beheer@zorggroep.nl", "password": NEW})
    assert "Uw Zorgsleutel-app is geblokkeerd of verwijderd." in response.content.decode()
    assert "zs_pending_login" not in client.session
