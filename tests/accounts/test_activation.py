"""Seed 000, *Een nieuwe gebruiker aanmaken* and *Uw mobiele telefoonnummer instellen*."""

from __future__ import annotations

from datetime import timedelta

import pytest

from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import LinkToken, User
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.messaging.models import OutboxMail

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Nieuw-wachtwoord-2026"


@pytest.fixture
def invited(organisation, person):
    manager = person(organisation, "manager")
    membership = members.invite_member(
        actor=manager,
        organisation=organisation,
        name="Nina Nieuw",
        email="Nina@Zorggroep.nl",
    )
    return membership.user


def _set_credentials(client, link, phone):
    return client.post(
        link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "phone": phone}
    )


def test_a_manager_creates_a_user_who_gets_an_activation_mail(invited, mailed_link):
    assert (invited.email, invited.state) == ("nina@zorggroep.nl", User.INVITED)
    assert not invited.has_usable_password() and not invited.phone_enrolment
    mail = OutboxMail.objects.get(to="nina@zorggroep.nl")
    assert "Zorggroep Test" in mail.subject and "/activeren/" in mail.body_text
    token = LinkToken.objects.get(user=invited)
    raw = mailed_link("nina@zorggroep.nl").rsplit("/", 1)[1]
    assert raw not in token.token_hash and len(token.token_hash) == 64
    assert token.expires_at - token.created_at == timedelta(hours=72)


def test_activation_saves_password_and_phone_only_after_the_code(
    client, invited, mailed_link, sms_code, fresh_number
):
    link = mailed_link(invited.email)
    assert client.get(link).status_code == 200
    number = fresh_number("01")
    response = _set_credentials(client, link, number)
    assert response.status_code == 302 and response["Location"] == link + "/code"
    page = client.get(link + "/code").content.decode()
    assert "06 •• •• •• 01" in page and number.replace(" ", "")[2:] not in page
    invited.refresh_from_db()
    assert invited.state == User.INVITED and not invited.phone_enrolment  # nothing saved yet
    assert NEW_PASSWORD not in str(dict(client.session))  # only the hash is held

    wrong = client.post(
        link + "/code", {"code": "000000" if sms_code("06 •• •• •• 01") != "000000" else "111111"}
    )
    assert "4" in wrong.content.decode()  # attempts left
    invited.refresh_from_db()
    assert invited.state == User.INVITED

    done = client.post(link + "/code", {"code": sms_code("06 •• •• •• 01")})
    assert done.status_code == 302 and done["Location"] == "/mijn"  # logged in (test_setup_login)
    invited.refresh_from_db()
    assert invited.state == User.ACTIVE and invited.check_password(NEW_PASSWORD)
    assert invited.phone_enrolment.startswith("enr_")
    assert client.get(link).status_code == 404  # single use


def test_leaving_halfway_keeps_the_link_usable(
    client, invited, mailed_link, sms_code, fresh_number
):
    link = mailed_link(invited.email)
    _set_credentials(client, link, phone=fresh_number("02"))
    fresh = type(client)()  # the person comes back later, in another browser
    assert fresh.get(link).status_code == 200
    _set_credentials(fresh, link, phone=fresh_number("03"))
    fresh.post(link + "/code", {"code": sms_code("06 •• •• •• 03")})
    invited.refresh_from_db()
    assert invited.state == User.ACTIVE


def test_an_expired_link_is_refused_and_a_manager_sends_a_new_one(
    client, invited, mailed_link, organisation
):
    old = mailed_link(invited.email)
    with clock.frozen(clock.now() + timedelta(hours=73)):
        response = client.get(old)
    assert response.status_code == 404 and "niet (meer) geldig" in response.content.decode()
    manager = organisation.memberships.get(role="manager").user
    members.resend_activation(actor=manager, membership=invited.memberships.get())
    new = mailed_link(invited.email)
    assert new != old
    assert client.get(old).status_code == 404  # revoked
    assert client.get(new).status_code == 200


def test_a_weak_or_mismatched_password_is_refused_on_its_field(client, invited, mailed_link):
    link = mailed_link(invited.email)
    response = client.post(
        link, {"password": "kort", "password_again": "kort", "phone": "0620000004"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'aria-invalid="true"' in html
    response = client.post(
        link,
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x", "phone": "0620000004"},
    )
    assert "niet hetzelfde" in response.content.decode()


def test_a_password_of_eleven_characters_is_refused_and_twelve_are_enough(
    client, invited, mailed_link, fresh_number, vault_service
):
    """policies.PASSWORD_MIN_LENGTH = 12 feeds Django's MinimumLengthValidator and the help text."""
    from django.utils import translation

    from zorgsleutel.accounts.flows import credentials

    link = mailed_link(invited.email)
    assert "Minimaal 12 tekens." in client.get(link).content.decode()
    token = credentials.open_link(link.rsplit("/", 1)[1], LinkToken.ACTIVATION)
    eleven, twelve = "Kwartel-73x", "Kwartel-73xy"
    assert (len(eleven), len(twelve)) == (11, 12)
    with translation.override("en"), pytest.raises(DomainError) as refused:
        credentials.start_setup(
            token=token, password=eleven, password_again=eleven, phone="0620000004", locale="en"
        )
    assert (refused.value.code, refused.value.field, refused.value.message) == (
        "weak_password",
        "password",
        "This password is too short. It must contain at least 12 characters.",
    )
    page = client.post(link, {"password": eleven, "password_again": eleven, "phone": "0620000004"})
    html = page.content.decode()
    assert "Dit wachtwoord is te kort. Het moet minimaal 12 tekens bevatten." in html
    accepted = client.post(
        link, {"password": twelve, "password_again": twelve, "phone": fresh_number("04")}
    )
    assert accepted.status_code == 302 and accepted["Location"] == link + "/code"


def test_the_flow_refuses_a_short_password_and_a_mismatch_together(invited, mailed_link):
    """Activation and reset set a password through one flow: it names every problem at once."""
    from django.utils import translation

    from zorgsleutel.accounts.flows import credentials
    from zorgsleutel.core.errors import FieldErrors

    link = mailed_link(invited.email)
    token = credentials.open_link(link.rsplit("/", 1)[1], LinkToken.ACTIVATION)
    with translation.override("en"), pytest.raises(FieldErrors) as refused:
        credentials.start_setup(
            token=token, password="kort", password_again="anders", phone="", locale="en"
        )
    with translation.override("en"):
        assert [(e.code, e.field, str(e.message)) for e in refused.value.errors] == [
            (
                "weak_password",
                "password",
                "This password is too short. It must contain at least 12 characters.",
            ),
            ("passwords_differ", "password_again", "The two passwords are not the same."),
        ]


def test_a_landline_is_refused_with_a_clear_message(client, invited, mailed_link, vault_service):
    link = mailed_link(invited.email)
    response = client.post(
        link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "phone": "020 123 4567"}
    )
    assert "Dit is geen mobiel telefoonnummer" in response.content.decode()


def test_a_vault_outage_changes_nothing(client, invited, mailed_link, settings):
    from zorgsleutel.vaultclient import client as vault_client

    settings.VAULT_URL = "http://127.0.0.1:1"
    vault_client.get.cache_clear()
    try:
        response = _set_credentials(client, mailed_link(invited.email), "06 20000005")
    finally:
        vault_client.get.cache_clear()
    assert "sms-dienst" in response.content.decode().lower()
    invited.refresh_from_db()
    assert invited.state == User.INVITED and not invited.has_usable_password()


def test_consumer_email_addresses_are_refused(organisation, person):
    manager = person(organisation, "manager")
    with pytest.raises(DomainError) as refused:
        members.invite_member(
            actor=manager, organisation=organisation, name="X", email="x@gmail.com"
        )
    assert refused.value.code == "consumer_email" and refused.value.field == "email"
    assert not User.objects.filter(email="x@gmail.com").exists()


@pytest.mark.parametrize(
    "domain",
    ["gmail.com", "hotmail.nl", "outlook.com", "ziggo.nl", "kpnmail.nl", "xs4all.nl", "proton.me"],
)
def test_a_sample_of_consumer_domains_is_refused(organisation, person, domain):
    """policies.CONSUMER_EMAIL_DOMAINS, a sample written out (seed 000: a business address)."""
    manager = person(organisation, "manager")
    with pytest.raises(DomainError) as refused:
        members.invite_member(
            actor=manager, organisation=organisation, name="X", email=f"x@{domain}"
        )
    assert refused.value.code == "consumer_email"
    members.invite_member(
        actor=manager, organisation=organisation, name="Y", email=f"y@zorg-{domain}"
    )  # a business domain that merely looks alike


def test_an_organisation_may_fix_its_domains(organisation, person):
    organisation.allowed_email_domains = ["zorggroep.nl"]
    organisation.save()
    manager = person(organisation, "manager")
    with pytest.raises(DomainError, match=r"zorggroep\.nl") as refused:
        members.invite_member(
            actor=manager, organisation=organisation, name="X", email="x@elders.nl"
        )
    assert refused.value.code == "email_domain_not_allowed"


def test_only_administrators_appoint_managers(organisation, person):
    manager = person(organisation, "manager")
    with pytest.raises(PermissionDenied) as refused:
        members.invite_member(
            actor=manager,
            organisation=organisation,
            name="X",
            email="x@zorggroep.nl",
            role="manager",
        )
    assert refused.value.code == "role_not_allowed"
    admin = person(organisation, "administrator")
    members.invite_member(
        actor=admin, organisation=organisation, name="X", email="x@zorggroep.nl", role="manager"
    )


def test_members_and_outsiders_cannot_create_users(organisation, other_organisation, person):
    member = person(organisation, "member")
    outsider = person(other_organisation, "manager")
    for actor in (member, outsider):
        with pytest.raises(PermissionDenied) as refused:
            members.invite_member(
                actor=actor, organisation=organisation, name="X", email="y@zorggroep.nl"
            )
        assert refused.value.code == "forbidden"
    assert not User.objects.filter(email="y@zorggroep.nl").exists()
