"""SMS bombing (security review): every form that makes the vault text a code is limited per
mailed link, per account and per client address (RATE_LIMITS["sms.send"], sendlimits.py).
The texts are counted where a phone would see them: the live vault's development outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client

from people import PASSWORD
from support import shows_code_page
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import LinkToken, Membership
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]
NEW_PASSWORD = "Nieuw-wachtwoord-2026"
REFUSED = "Er zijn te veel sms-codes aangevraagd. Probeer het over 60 minuten opnieuw."


@pytest.fixture
def hour():
    """The portal's clock at the start of a fixed window: the next full hour."""
    start = (clock.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    with clock.frozen(start):
        yield start


@pytest.fixture
def texts(vault_service):
    """`texts(hint)`: how many SMS the vault sent to this masked number since the test began."""
    began = datetime.now().astimezone()

    def count(hint: str) -> int:
        return sum(
            1
            for sms in vault_service.dev_sms()
            if sms["to"] == hint and datetime.fromisoformat(sms["sent_at"]) >= began
        )

    return count


@pytest.fixture
def invite(organisation, person, mailed_link):
    """`invite(email)`: the path of a fresh activation link for a new person."""
    manager = person(organisation, "manager")

    def make(email: str) -> str:
        members.invite_member(actor=manager, organisation=organisation, name="Nina", email=email)
        return mailed_link(email)

    return make


def _submit(client, link: str, phone: str):
    data = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "phone": phone}
    return client.post(link, data)


def test_ten_posts_of_one_activation_link_send_three_texts(
    client, invite, fresh_number, texts, hour
):
    link = invite("nina@zorggroep.nl")
    answers = [_submit(client, link, fresh_number("61")) for _ in range(10)]
    assert [a.status_code for a in answers] == [302] * 3 + [200] * 7
    assert all(REFUSED in a.content.decode() for a in answers[3:])
    assert texts("06 •• •• •• 61") == 3
    assert AuditEvent.objects.filter(action="account.setup_code_sent").count() == 3
    refused = AuditEvent.objects.filter(action="sms.send_refused")
    assert refused.count() == 7
    assert refused.order_by("seq").first().details == {"limits": ["per_link"]}


def test_the_reset_form_is_limited_per_link_too(
    client, organisation, person, fresh_number, texts, hour
):
    user = person(organisation, "member", email="lid@zorggroep.nl")
    raw = tokens.issue(user=user, purpose=LinkToken.PASSWORD_RESET, ttl=timedelta(minutes=60))
    link = f"/wachtwoord-herstellen/{raw}"
    answers = [_submit(client, link, fresh_number("62")) for _ in range(4)]
    assert [a.status_code for a in answers] == [302, 302, 302, 200]
    assert REFUSED in answers[3].content.decode()
    assert texts("06 •• •• •• 62") == 3


def test_a_new_link_does_not_reset_the_accounts_limit(
    client, organisation, person, invite, mailed_link, fresh_number, texts, hour
):
    first = invite("nina@zorggroep.nl")
    for _ in range(3):
        assert _submit(client, first, fresh_number("63")).status_code == 302
    manager = person(organisation, "manager", email="chef@zorggroep.nl")
    membership = Membership.objects.get(user__email="nina@zorggroep.nl")
    members.resend_activation(actor=manager, membership=membership)
    second = mailed_link("nina@zorggroep.nl")
    assert second != first
    answers = [_submit(client, second, fresh_number("63")) for _ in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 200]  # 5 per account per hour
    assert REFUSED in answers[2].content.decode()
    assert texts("06 •• •• •• 63") == 5


def test_one_address_gets_twenty_texts_an_hour(invite, fresh_number, texts, hour):
    client = Client(REMOTE_ADDR="203.0.113.20")
    statuses = []
    for n in range(7):  # 7 links, 3 each: the 21st submission is over the address's 20
        link = invite(f"persoon{n}@zorggroep.nl")
        statuses += [_submit(client, link, fresh_number("64")).status_code for _ in range(3)]
    assert statuses == [302] * 20 + [200]
    assert texts("06 •• •• •• 64") == 20
    elsewhere = Client(REMOTE_ADDR="203.0.113.21")
    assert _submit(elsewhere, invite("nog-een@zorggroep.nl"), fresh_number("64")).status_code == 302


def test_a_mistyped_number_is_not_counted(client, invite, fresh_number, texts, hour):
    link = invite("nina@zorggroep.nl")
    for _ in range(5):  # the vault refuses the number: nothing was sent, nothing is counted
        assert (
            "geen geldig mobiel telefoonnummer" in _submit(client, link, "12345").content.decode()
        )
    answers = [_submit(client, link, fresh_number("67")) for _ in range(4)]
    assert [a.status_code for a in answers] == [302, 302, 302, 200]
    assert texts("06 •• •• •• 67") == 3


def test_send_a_new_code_on_the_activation_page_shares_the_links_limit(
    client, invite, fresh_number, texts, hour
):
    link = invite("nina@zorggroep.nl")
    assert _submit(client, link, fresh_number("65")).status_code == 302
    # The vault itself refuses a new code within 30 s ("too soon", 429): those asks count too.
    pages = [client.post(link + "/code", {"resend": "1"}).content.decode() for _ in range(3)]
    assert REFUSED not in pages[1] and REFUSED in pages[2]
    assert texts("06 •• •• •• 65") == 1


@pytest.fixture
def member(organisation, person, vault_service, sms_code, fresh_number):
    user = person(organisation, "member", email="lid@zorggroep.nl")
    sent = vault_service.enrol(phone=fresh_number("66"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    return user


def test_send_a_new_code_on_the_login_page_is_limited_per_account(client, member, texts, hour):
    assert shows_code_page(client.post("/inloggen", {"email": member.email, "password": PASSWORD}))
    # The vault refuses new codes within 30 s of the last one (429): those asks count as well.
    pages = [client.post("/inloggen/code", {"resend": "1"}).content.decode() for _ in range(6)]
    assert not any(REFUSED in page for page in pages[:5])
    assert REFUSED in pages[5]
    assert texts("06 •• •• •• 66") == 1  # the login's own code
    refused = AuditEvent.objects.get(action="sms.send_refused")
    assert (refused.details, refused.target) == ({"limits": ["per_account"]}, member.audit_ref)


@pytest.fixture
def owner(organisation, person, vault_service, sms_code, fresh_number):
    """A person whose number was set up by its code (answered, as activation does)."""
    user = person(organisation, "manager", email="beheerder@zorggroep.nl")
    sent = vault_service.enrol(phone=fresh_number("68"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    return user


def test_one_person_logs_in_twenty_times_in_an_hour(client, owner, sms_code, texts, hour):
    """Codes typed in correctly never count towards the vault's hourly caps (the finding: a
    manager who had logged in four times in an hour was told to wait an hour)."""
    levels = []
    for _ in range(20):
        assert shows_code_page(
            client.post("/inloggen", {"email": owner.email, "password": PASSWORD})
        )
        done = client.post("/inloggen/code", {"code": sms_code("06 •• •• •• 68")})
        assert done.status_code == 302 and done["Location"] == "/mijn"
        levels.append(client.session["zs_acr"])
        client.post("/uitloggen")
    assert levels == ["low"] * 20
    assert texts("06 •• •• •• 68") == 20
    assert AuditEvent.objects.filter(action="login.succeeded").count() == 20
