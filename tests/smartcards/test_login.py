"""Logging in with a smartcard (acr high; amr sc, hwk, pin), or with a UZI card bound to the
account; blocked, revoked, expired and unknown cards are refused, and the organisation that
holds the card manages it alone (Tenancy)."""

from datetime import timedelta

import pytest
from cryptography.x509 import load_pem_x509_csr

from smartcardwork import issue_card, new_key, page_code, present
from zorgsleutel.authn import sessions
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards import profile
from zorgsleutel.smartcards.models import Smartcard
from zorgsleutel.uzi.certificates import pem

LOGIN = "/inloggen/smartcard"

# Answers reach the waiting page after their commit (authn/challenges.py).
pytestmark = pytest.mark.django_db(transaction=True)


def log_in_with(client, key, certificate_pem):
    shown = page_code(client.get(LOGIN))
    answer = present(shown["code"], key, certificate_pem)
    return answer, client.get(shown["status"]).json()


def test_a_care_worker_logs_in_with_their_smartcard(client, portal_ca, care):
    key, certificate, card = issue_card(care)
    answer, outcome = log_in_with(client, key, certificate)
    assert answer.status_code == 200
    assert outcome == {"status": "ok", "next": "/mijn"}
    session = client.session
    assert (session[sessions.ACR], session[sessions.AMR], session[sessions.MEANS]) == (
        "high",
        ["sc", "hwk", "pin"],
        "smartcard",
    )
    assert session[sessions.AUTHENTICATOR] == card.public_id
    event = AuditEvent.objects.get(action="login.succeeded", organisation=care.org.audit_ref)
    assert (event.details["acr"], event.details["amr"]) == ("high", ["sc", "hwk", "pin"])
    assert Smartcard.objects.get().last_used_at is not None


def manage(client, login_as, care, card, action, *, by=None):
    login_as(client, by or care.manager)
    membership = card.user.memberships.get(organisation=care.org)
    url = f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"
    # The confirming POST (the confirmation page's; tests/smartcards/test_confirm_pages.py).
    return client.post(url, {"action": action, "card": card.public_id, "bevestigd": "ja"})


@pytest.mark.parametrize(
    "action, state, reason, event, code",
    [
        ("block", "blocked", "", "smartcard.blocked", "smartcard_blocked"),
        ("delete", "revoked", "cessation_of_operation", "smartcard.deleted", "smartcard_revoked"),
    ],
)
def test_a_card_the_organisation_blocked_or_deleted_logs_nobody_in(
    client, login_as, portal_ca, care, action, state, reason, event, code
):
    key, certificate, card = issue_card(care)
    assert manage(client, login_as, care, card, action).status_code == 302
    card.refresh_from_db()
    assert (card.state, card.revocation_reason) == (state, reason)
    recorded = AuditEvent.objects.get(action=event, organisation=care.org.audit_ref)
    assert recorded.details["serial"] == card.serial
    client.logout()
    answer, outcome = log_in_with(client, key, certificate)
    assert answer.json()["error"] == code
    assert (outcome["status"], outcome["error"]) == ("refused", code)
    assert sessions.MEANS not in client.session


def test_unblocked_it_works_again(client, login_as, portal_ca, care):
    key, certificate, card = issue_card(care)
    manage(client, login_as, care, card, "block")
    manage(client, login_as, care, card, "unblock")
    card.refresh_from_db()
    assert card.state == "active"
    client.logout()
    assert log_in_with(client, key, certificate)[1]["status"] == "ok"


def test_another_organisations_manager_cannot_touch_the_card(client, login_as, portal_ca, care):
    key, certificate, card = issue_card(care)
    login_as(client, care.other_admin)
    membership = card.user.memberships.get(organisation=care.org)
    # Through their own organisation's page (the card is not registered there) ...
    own = f"/beheer/{care.other.public_id}/leden/{membership.pk}/smartcards"
    assert client.post(own, {"action": "block", "card": card.public_id}).status_code == 404
    # ... and through the card's organisation (they are no member there).
    theirs = f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"
    assert client.post(theirs, {"action": "block", "card": card.public_id}).status_code == 403
    card.refresh_from_db()
    assert card.state == "active"
    client.logout()
    assert log_in_with(client, key, certificate)[1]["status"] == "ok"


def test_a_card_of_another_organisation_is_unknown_there(client, login_as, portal_ca, care):
    """The other organisation's admin, on a member they share, cannot reach the card."""
    from zorgsleutel.accounts.models import Membership

    _key, _certificate, card = issue_card(care)
    shared = Membership.objects.create(
        user=care.member, organisation=care.other, role="member", accepted_at=clock.now()
    )
    login_as(client, care.other_admin)
    url = f"/beheer/{care.other.public_id}/leden/{shared.pk}/smartcards"
    assert "KAART-" not in client.get(url).content.decode()
    answer = client.post(url, {"action": "block", "card": card.public_id}, follow=True)
    assert "Deze smartcard is niet (meer) bekend." in answer.content.decode()
    card.refresh_from_db()
    assert card.state == "active"
    denied = AuditEvent.objects.get(action="permission.denied", organisation=care.other.audit_ref)
    assert denied.target == "" and denied.details["action"] == "smartcards.block"


def test_an_expired_certificate_is_refused(client, portal_ca, care):
    long_ago = clock.now() - timedelta(days=3 * 365 + 2)
    key, certificate, _card = issue_card(care, now=long_ago)
    answer, outcome = log_in_with(client, key, certificate)
    assert (answer.json()["error"], outcome["error"]) == ("smartcard_expired", "smartcard_expired")


def test_a_certificate_of_another_ca_is_refused(client, portal_ca, care, ca):
    """Another CA with the same names (the `ca` fixture: a second token): not ours."""
    from smartcardwork import csr

    key = new_key()
    request = load_pem_x509_csr(csr(key, "-").encode())
    holder = profile.Holder(name="X", public_id="x", organisation="Zorggroep Kaart", ura="90000501")
    forged = profile.issue(ca, request, holder)
    answer, outcome = log_in_with(client, key, pem(forged))
    assert (answer.json()["error"], outcome["error"]) == ("untrusted", "untrusted")


def test_a_uzi_card_logs_in_the_account_it_is_bound_to(
    client, portal_ca, care, hierarchy, trust, card_key
):
    from applicants import card as uzi_card
    from applicants import present as present_uzi

    certificate = uzi_card(hierarchy, card_key, ura=care.org.ura, uzi_number="900099001")
    shown = page_code(client.get(LOGIN))
    assert present_uzi(certificate, card_key, shown["code"]).json()["error"] == "uzi_not_bound"
    care.member.uzi_number = "900099001"
    care.member.save()
    shown = page_code(client.get(LOGIN))
    assert present_uzi(certificate, card_key, shown["code"]).status_code == 200
    assert client.get(shown["status"]).json()["status"] == "ok"
    assert (client.session[sessions.MEANS], client.session[sessions.ACR]) == ("uzi", "high")


def test_a_smartcard_session_speaks_for_the_organisation_its_certificate_names(portal_ca, care):
    from zorgsleutel.authn import means

    _key, _certificate, card = issue_card(care)
    assert means.session_refusal(care.member, "smartcard", card.public_id, care.org) is None
    assert (
        means.session_refusal(care.member, "smartcard", card.public_id, care.other)
        == "authenticator_not_accepted"
    )
    card.state = "blocked"
    card.save()
    assert (
        means.session_refusal(care.member, "smartcard", card.public_id, care.org)
        == "authenticator_not_accepted"
    )


def _change(care, change: str) -> None:
    """What happened to the card's holder (the card itself still works)."""
    from zorgsleutel.accounts.models import Membership

    if change == "account blocked":
        care.member.state = "blocked"
        care.member.save()
    elif change == "account deleted":
        care.member.state = "deleted"
        care.member.save()
    elif change == "membership blocked":
        Membership.objects.filter(user=care.member).update(state="blocked")
    elif change == "organisation suspended":
        care.org.suspended_at = clock.now()
        care.org.save()


HOLDER_REFUSALS = [
    ("account blocked", "account_blocked"),
    ("account deleted", "account_blocked"),
    ("membership blocked", "account_blocked"),
    ("organisation suspended", "organisation_suspended"),
]


@pytest.mark.parametrize("change, code", HOLDER_REFUSALS)
def test_a_working_card_of_a_holder_who_may_not_log_in_is_refused(
    client, portal_ca, care, change, code
):
    key, certificate, _card = issue_card(care)
    _change(care, change)
    answer, outcome = log_in_with(client, key, certificate)
    assert (answer.status_code, answer.json()["error"]) == (403, code)
    assert (outcome["status"], outcome["error"]) == ("refused", code)
    assert sessions.MEANS not in client.session
    assert AuditEvent.objects.get(action="card.refused").details["error"] == code
    assert Smartcard.objects.get().last_used_at is None
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()


@pytest.mark.parametrize("change, code", HOLDER_REFUSALS)
def test_a_holder_stopped_between_the_cards_answer_and_the_page_is_not_logged_in(
    client, portal_ca, care, change, code
):
    key, certificate, _card = issue_card(care)
    shown = page_code(client.get(LOGIN))
    assert present(shown["code"], key, certificate).json()["status"] == "accepted"
    _change(care, change)
    outcome = client.get(shown["status"]).json()
    assert (outcome["status"], outcome["error"]) == ("refused", code)
    assert sessions.MEANS not in client.session
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()
