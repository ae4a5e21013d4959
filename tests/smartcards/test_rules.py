"""The smartcard rules in policies.py, each pinned by what a person sees: who may make one, the
proofs and how long they count, the UZI card route, one card at a time, app or smartcard."""

from datetime import timedelta

import pytest

from applicants import card as uzi_card
from applicants import present as present_uzi
from smartcardwork import issue_card, new_key, page_code, send_csr
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards.models import IdentityCheck

pytestmark = pytest.mark.django_db(transaction=True)
CREATE = "/mijn/smartcards/aanmaken"


def proof(care, *, method="in_person", age=timedelta(0), person=None):
    return IdentityCheck.objects.create(
        user=person or care.member,
        organisation=care.org,
        method=method,
        uzi_number="900099002" if method == "uzi" else "",
        confirmed_by=care.admin if method == "in_person" else None,
        confirmed_by_name="Anna Admin" if method == "in_person" else "",
        confirmed_at=clock.now() - age,
    )


@pytest.mark.parametrize(
    "method, age, counts",
    [
        ("in_person", timedelta(days=29, hours=23), True),
        ("in_person", timedelta(days=30, minutes=1), False),
        ("uzi", timedelta(minutes=29), True),
        ("uzi", timedelta(minutes=31), False),
    ],
)
def test_a_proof_counts_for_so_long(client, login_as, portal_ca, care, method, age, counts):
    proof(care, method=method, age=age)
    login_as(client, care.member, acr="low")
    html = client.get(CREATE).content.decode()
    asks_proof = "Laat eerst zien wie u bent, op een van twee manieren:" in html
    assert asks_proof is not counts


def test_the_blank_cards_code_lasts_ten_minutes(client, login_as, portal_ca, care):
    proof(care)
    login_as(client, care.member, acr="low")
    page_code(client.get(CREATE))
    challenge = Challenge.objects.get(purpose="smartcard_create")
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=10)


def test_a_business_customers_member_makes_no_smartcard(client, login_as, portal_ca, care):
    care.org.kind = "business"
    care.org.save()
    login_as(client, care.member, acr="low")
    html = client.get(CREATE).content.decode()
    assert (
        "Alleen zorgmedewerkers van een gevalideerde zorgaanbieder kunnen een smartcard "
        "aanmaken." in html
    )


def test_a_blocked_member_makes_no_smartcard(client, login_as, portal_ca, care):
    care.member.memberships.update(state="blocked")
    login_as(client, care.member, acr="low")
    html = client.get(CREATE).content.decode()
    assert "Uw account is geblokkeerd. Neem contact op met uw beheerder." in html


def test_one_smartcard_at_a_time(client, login_as, portal_ca, care):
    issue_card(care)
    proof(care)
    login_as(client, care.member, acr="low")
    html = client.get(CREATE).content.decode()
    assert "U hebt al een smartcard. Meld die eerst als kwijt als u een nieuwe nodig hebt." in html


def test_a_smartcard_holder_links_no_app(portal_ca, care):
    from zorgsleutel.mobileapp import enrolment

    issue_card(care)
    with pytest.raises(PermissionDenied) as refused:
        enrolment.start_enrolment(
            actor=care.member, session_acr="high", session_key="", purpose=enrolment.LINK_APP
        )
    assert refused.value.code == "app_smartcard_exclusive"


def test_a_smartcard_holder_who_reported_it_lost_may_link_the_app(portal_ca, care):
    from zorgsleutel.mobileapp import enrolment
    from zorgsleutel.smartcards import lifecycle

    _key, _pem, card = issue_card(care)
    lifecycle.report_lost(actor=care.member, card_id=card.public_id)
    started = enrolment.start_enrolment(
        actor=care.member, session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    assert started.code


# --- The UZI card route -------------------------------------------------------------------------


def present_for_card(client, login_as, care, certificate, key):
    login_as(client, care.member, acr="low")
    shown = page_code(client.get(CREATE))
    answer = present_uzi(certificate, key, shown["code"])
    return answer, client.get(shown["status"]).json()


def test_the_members_uzi_card_proves_them_and_binds_its_number(
    client, login_as, portal_ca, care, hierarchy, trust, card_key
):
    certificate = uzi_card(hierarchy, card_key, ura=care.org.ura, uzi_number="900099002")
    answer, outcome = present_for_card(client, login_as, care, certificate, card_key)
    assert answer.status_code == 200
    assert outcome["status"] == "ok"
    assert outcome["next"].startswith("/mijn/smartcards/aanmaken?lid=")
    care.member.refresh_from_db()
    assert care.member.uzi_number == "900099002"
    made = IdentityCheck.objects.get()
    assert (made.method, made.uzi_number, made.confirmed_by) == ("uzi", "900099002", None)
    bound = AuditEvent.objects.get(action="uzi.bound")
    assert bound.details["uzi_number"] == "900099002"
    html = client.get(outcome["next"]).content.decode()
    assert "U hebt met uw UZI-pas (900099002) laten zien wie u bent." in html
    shown = page_code(client.get(outcome["next"]))
    care.shipped("KAART-UZI")
    made_card = send_csr(shown["code"], new_key(), card_serial="KAART-UZI")
    assert made_card.status_code == 200, made_card.content
    from zorgsleutel.smartcards.models import Smartcard

    card = Smartcard.objects.get()
    assert (card.route, card.uzi_number) == ("uzi", "900099002")


@pytest.mark.parametrize(
    "fields, bound_to_other, code",
    [
        ({"pas_type": "M"}, False, "uzi_pas_type"),
        ({"ura": "90000999"}, False, "uzi_other_organisation"),
        ({}, True, "uzi_bound_elsewhere"),
    ],
)
def test_a_uzi_card_that_does_not_fit_proves_nothing(
    client, login_as, portal_ca, care, hierarchy, trust, card_key, fields, bound_to_other, code
):
    if bound_to_other:
        care.manager.uzi_number = "900099003"
        care.manager.save()
    values = {"ura": care.org.ura, "uzi_number": "900099003", **fields}
    certificate = uzi_card(hierarchy, card_key, **values)
    answer, outcome = present_for_card(client, login_as, care, certificate, card_key)
    assert (answer.json()["error"], outcome["error"]) == (code, code)
    assert IdentityCheck.objects.count() == 0
    care.member.refresh_from_db()
    assert care.member.uzi_number is None


@pytest.mark.parametrize("role", ["manager", "administrator"])
def test_a_smartcard_holder_is_made_no_beheerder(portal_ca, care, role):
    """Seed 003: a beheerder cannot use a smartcard; the card goes first."""
    from zorgsleutel.accounts.flows import members

    _key, _pem, card = issue_card(care)
    membership = care.member.memberships.get()
    with pytest.raises(PermissionDenied) as refused:
        members.change_role(actor=care.admin, membership=membership, role=role)
    assert refused.value.code == "smartcard_holder_role"
    membership.refresh_from_db()
    assert membership.role == "member"
    card.state = "revoked"
    card.save()
    members.change_role(actor=care.admin, membership=membership, role=role)
    membership.refresh_from_db()
    assert membership.role == role


def test_a_smartcard_holder_invited_as_manager_elsewhere_cannot_accept_yet(portal_ca, care):
    """The inviting organisation learns nothing (the refusal is the platform's); the person reads
    what to do first."""
    from zorgsleutel.accounts.flows import memberships
    from zorgsleutel.accounts.models import Membership

    issue_card(care)
    invited = Membership.objects.create(
        user=care.member, organisation=care.other, role="manager", state="invited"
    )
    with pytest.raises(PermissionDenied) as refused:
        memberships.accept_invitation(actor=care.member, membership=invited)
    assert refused.value.code == "smartcard_holder_role_own"
    invited.refresh_from_db()
    assert (invited.state, invited.accepted_at) == ("invited", None)
    assert not AuditEvent.objects.filter(organisation=care.other.audit_ref).exists()
    assert AuditEvent.objects.get(action="permission.denied").organisation == ""
