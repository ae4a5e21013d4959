"""Back-Channel Logout 1.0: each way a Zorgsleutel session ends ends the sign-ins it made (their
tokens revoked) and queues a logout token for exactly the applications that must hear of it;
the token, written out; tenancy (a block in one organisation never ends another's sign-ins)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult
from jwcrypto import jwk, jwt

from sso import app_with_logout, browser_of, member_of, sign_in, userinfo_status
from zorgsleutel.accounts import tokens as link_tokens
from zorgsleutel.accounts.flows import credentials, members, notme
from zorgsleutel.accounts.models import LinkToken, Membership
from zorgsleutel.authn.pending import PendingCode
from zorgsleutel.core import clock
from zorgsleutel.oidc import backchannel, keys
from zorgsleutel.oidc.models import LogoutDelivery, SignIn
from zorgsleutel.organisations.flows import suspension

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
EPOCH_AT = 1796635800  # AT as a Unix time


@pytest.fixture
def apps(operator, care, business):
    """Declaratieportaal and Labviewer tell (back-channel URIs); Rooster does not. All three
    may receive the people of both organisations."""
    both = [care, business]
    return {
        "Declaratieportaal": app_with_logout(operator, both, "Declaratieportaal"),
        "Labviewer": app_with_logout(operator, both, "Labviewer"),
        "Rooster": app_with_logout(operator, both, "Rooster", backchannel=False),
    }


def queued() -> list[tuple[str, str, str]]:
    """(application, person, reason) of every queued back-channel logout, in order."""
    return [
        (d.client.application.name, d.user.email, d.reason)
        for d in LogoutDelivery.objects.select_related("client__application", "user").order_by("pk")
    ]


def test_the_logout_token_written_out(apps, mira):
    browser = browser_of(mira)
    signed_in = sign_in(browser, apps["Declaratieportaal"])
    browser.post("/uitloggen")
    (delivery,) = LogoutDelivery.objects.select_related("client__application")
    token = backchannel.logout_token(delivery, AT)

    key_set = jwk.JWKSet.from_json(json.dumps(keys.key_set()))
    checked = jwt.JWT(jwt=token, key=key_set, check_claims={})
    header = json.loads(checked.header)
    claims = json.loads(checked.claims)
    assert header == {"typ": "logout+jwt", "alg": "RS256", "kid": keys.signing_key().kid}
    jti = claims.pop("jti")
    assert claims == {
        "iss": "https://zorgsleutel.test",
        "aud": apps["Declaratieportaal"].client_id,
        "iat": EPOCH_AT,
        "exp": EPOCH_AT + 120,
        "sub": signed_in.claims["sub"],  # as the application knows the person
        "sid": signed_in.claims["sid"],  # the session the ID token named
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    }  # no nonce: it can never pass for an ID token
    assert len(jti) == 36 and backchannel.logout_token(delivery, AT) != token  # fresh each time


def test_logging_out_tells_the_applications_of_that_session_only(apps, mira):
    first, second = browser_of(mira), browser_of(mira)
    declaratie = sign_in(first, apps["Declaratieportaal"])
    lab = sign_in(first, apps["Labviewer"])
    rooster = sign_in(first, apps["Rooster"])
    elsewhere = sign_in(second, apps["Declaratieportaal"])  # another session of Mira
    assert declaratie.claims["sid"] == lab.claims["sid"] != elsewhere.claims["sid"]

    response = first.post("/uitloggen")
    assert response.status_code == 302

    assert queued() == [
        ("Declaratieportaal", "mira@noord.nl", "logout"),
        ("Labviewer", "mira@noord.nl", "logout"),
    ]  # not Rooster (no back-channel URI), not the other session
    assert {d.sid for d in LogoutDelivery.objects.all()} == {declaratie.claims["sid"]}
    assert DBTaskResult.objects.filter(status="READY").count() == 2  # queued with the logout
    # Every token of the session is revoked, Rooster's too; the other session's still works.
    for ended in (declaratie, lab, rooster):
        assert userinfo_status(second, ended) == 401
    assert userinfo_status(second, elsewhere) == 200
    assert SignIn.objects.filter(ended_at=None).count() == 1


def test_uitloggen_is_in_the_logs_of_the_persons_own_organisations(apps, care, business):
    """`logout.succeeded`, as `login.succeeded`: once in each organisation the person accepted,
    not in one that only invited the address, nor the platform's; nothing when nobody is
    logged in. (/oidc/logout writes `sso.logged_out` instead, test_endsession.py.)"""
    from zorgsleutel.core.models import AuditEvent
    from zorgsleutel.organisations.models import Organisation

    elsewhere = Organisation.objects.create(
        name="Kliniek West", kind=Organisation.CARE_PROVIDER, ura="90000333", state="validated"
    )
    both = member_of(care, business, email="beide@noord.nl")
    Membership.objects.create(user=both, organisation=elsewhere, state=Membership.INVITED)
    browser = browser_of(both)
    sign_in(browser, apps["Labviewer"], care)

    assert browser.post("/uitloggen").status_code == 302
    events = AuditEvent.objects.filter(action="logout.succeeded")
    assert sorted((e.organisation, e.actor, e.target, e.outcome) for e in events) == sorted(
        [
            (care.audit_ref, both.audit_ref, both.audit_ref, "success"),
            (business.audit_ref, both.audit_ref, both.audit_ref, "success"),
        ]
    )
    assert queued() == [("Labviewer", "beide@noord.nl", "logout")]  # in the same transaction

    assert browser.post("/uitloggen").status_code == 302  # nobody logged in any more
    assert events.count() == 2


def test_two_sign_ins_of_one_session_to_one_application_are_told_once(apps, mira):
    browser = browser_of(mira)
    sign_in(browser, apps["Labviewer"])
    sign_in(browser, apps["Labviewer"])
    browser.post("/uitloggen")
    assert queued() == [("Labviewer", "mira@noord.nl", "logout")]


def test_a_step_up_keeps_the_session_id_and_another_person_gets_a_new_one(apps, mira, care):
    from sso import log_in

    browser = browser_of(mira)
    before = sign_in(browser, apps["Labviewer"])
    log_in(browser, mira, "sms")  # a new login of the same person in this browser
    # (log_in starts from a fresh session: the sid travels only within one session's logins)
    again = sign_in(browser, apps["Labviewer"])
    assert again.claims["sid"] != before.claims["sid"]
    # Within one session: complete_login's step-up keeps it (authn/sessions.py carries it).
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from zorgsleutel.authn import sessions
    from zorgsleutel.oidc import logout

    request = RequestFactory().get("/")
    request.session = browser.session
    request.user = mira
    sid = logout.sid_of(request.session)
    sessions.complete_login(request, mira, "sms")  # someone logged in already: flushed
    assert logout.sid_of(request.session) == sid == again.claims["sid"]
    gijs = member_of(care, email="gijs@noord.nl", name="Gijs Gebruiker")
    request.user = AnonymousUser()
    sessions.complete_login(request, gijs, "sms")
    assert logout.sid_for(request.session, gijs) != sid  # never another person's


def _manager(care):
    return member_of(care, email="beheer@noord.nl", name="Bea Beheerder", role="manager")


def test_a_blocked_membership_ends_only_that_organisations_sign_ins(apps, care, business):
    both = member_of(care, business, email="mira@noord.nl")
    browser = browser_of(both)
    for_care = sign_in(browser, apps["Declaratieportaal"], care)
    for_business = sign_in(browser, apps["Labviewer"], business)

    members.block_member(actor=_manager(care), membership=both.memberships.get(organisation=care))

    assert queued() == [("Declaratieportaal", "mira@noord.nl", "membership_blocked")]
    assert LogoutDelivery.objects.get().organisation == care
    assert userinfo_status(browser, for_care) == 401
    assert userinfo_status(browser, for_business) == 200  # Bedrijf Zuid's: untouched
    assert SignIn.objects.get(ended_at=None).organisation == business


def test_a_person_blocked_in_their_only_organisation_is_logged_out_of_every_application(
    apps, care, mira
):
    browser = browser_of(mira)
    sign_in(browser, apps["Declaratieportaal"])
    sign_in(browser_of(mira), apps["Labviewer"])  # another session: ends too
    gijs = member_of(care, email="gijs@noord.nl", name="Gijs Gebruiker")
    of_gijs = sign_in(browser_of(gijs), apps["Labviewer"])

    members.block_member(actor=_manager(care), membership=mira.memberships.get())

    assert queued() == [
        ("Declaratieportaal", "mira@noord.nl", "membership_blocked"),
        ("Labviewer", "mira@noord.nl", "membership_blocked"),
    ]
    assert userinfo_status(browser, of_gijs) == 200


def test_a_suspended_organisation_ends_its_sign_ins_and_no_others(apps, operator, care, business):
    both = member_of(care, business, email="mira@noord.nl")
    browser = browser_of(both)
    sign_in(browser, apps["Declaratieportaal"], care)
    for_business = sign_in(browser, apps["Labviewer"], business)
    bob = member_of(business, email="bob@zuid.nl", name="Bob Zuid")
    of_bob = sign_in(browser_of(bob), apps["Declaratieportaal"])

    suspension.suspend_organisation(actor=operator, public_id=care.public_id, reason="Onderzoek")

    assert queued() == [("Declaratieportaal", "mira@noord.nl", "organisation_suspended")]
    assert userinfo_status(browser, for_business) == 200
    assert userinfo_status(browser, of_bob) == 200


def test_a_reset_ends_every_sign_in_of_the_person(apps, care, mira):
    sign_in(browser_of(mira), apps["Declaratieportaal"])
    sign_in(browser_of(mira), apps["Labviewer"])
    gijs = member_of(care, email="gijs@noord.nl", name="Gijs Gebruiker")
    sign_in(browser_of(gijs), apps["Labviewer"])
    raw = link_tokens.issue(user=mira, purpose=LinkToken.PASSWORD_RESET, ttl=timedelta(minutes=60))
    token = credentials.open_link(raw, LinkToken.PASSWORD_RESET)
    pending = PendingCode(
        purpose=LinkToken.PASSWORD_RESET,
        subject=token.pk,
        challenge="ch_1",
        hint="06 •• •• •• 01",
        started_at=clock.now().timestamp(),
        enrolment=mira.phone_enrolment,
        password_hash=mira.password,
    )

    credentials._save(pending)

    assert queued() == [
        ("Declaratieportaal", "mira@noord.nl", "credentials_reset"),
        ("Labviewer", "mira@noord.nl", "credentials_reset"),
    ]
    assert SignIn.objects.get(ended_at=None).user == gijs


def test_dit_was_ik_niet_ends_every_sign_in_of_the_person(apps, care, business):
    both = member_of(care, business, email="mira@noord.nl")
    sign_in(browser_of(both), apps["Declaratieportaal"], care)
    sign_in(browser_of(both), apps["Labviewer"], business)
    raw = link_tokens.issue(user=both, purpose=LinkToken.NOT_ME, ttl=timedelta(days=14))

    notme.report_not_me(raw=raw)

    assert queued() == [
        ("Declaratieportaal", "mira@noord.nl", "not_me"),
        ("Labviewer", "mira@noord.nl", "not_me"),
    ]
    assert set(both.memberships.values_list("state", flat=True)) == {Membership.BLOCKED}


def test_an_unspent_code_of_an_ended_session_is_refused(apps, mira):
    from sso import answer, authorize_url, exchange

    browser = browser_of(mira)
    asked = authorize_url(apps["Labviewer"].client_id)
    code = answer(browser.get(asked.url))["code"]
    browser.post("/uitloggen")
    assert queued() == []  # the application never had the sign-in: nothing to tell
    status, body = exchange(browser, apps["Labviewer"], code, asked.verifier)
    assert (status, body) == (400, {"error": "invalid_grant"})


def _log_in_again(browser, person) -> None:
    """complete_login on the browser's own (logged-out) session, as the login page does."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from zorgsleutel.authn import sessions

    request = RequestFactory().get("/")
    request.session = browser.session
    request.user = AnonymousUser()
    sessions.complete_login(request, person, "sms")
    browser.cookies["zs_session"] = request.session.session_key


def test_prompt_login_keeps_the_session_id_for_the_same_person_only(apps, mira, care):
    from sso import authorize_url, consent_to

    browser = browser_of(mira)
    before = sign_in(browser, apps["Labviewer"])
    response = browser.get(authorize_url(apps["Labviewer"].client_id, prompt="login").url)
    assert response.status_code == 302 and response["Location"] == "/inloggen"
    _log_in_again(browser, mira)
    again = sign_in(browser, apps["Labviewer"])
    assert again.claims["sid"] == before.claims["sid"]
    assert queued() == []  # nobody was told: the same person, the same browser

    browser.get(authorize_url(apps["Labviewer"].client_id, prompt="login").url)
    gijs = member_of(care, email="gijs@noord.nl", name="Gijs Gebruiker")
    consent_to(gijs, apps["Labviewer"])
    _log_in_again(browser, gijs)
    of_gijs = sign_in(browser, apps["Labviewer"])
    assert of_gijs.claims["sid"] != before.claims["sid"]
    browser.post("/uitloggen")  # Gijs logs out: Mira's sign-ins are not his to end
    assert queued() == [("Labviewer", "gijs@noord.nl", "logout")]
