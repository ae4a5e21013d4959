"""Seed 003 step 5 when the application's e-mail address already has an account.

The validation link proves the mailbox, the UZI card proves the applicant's practice; neither
proves the account. A mailbox alone may reset a password and phone (seed 000) but must never
reach what needs the app. So an existing account gets the new organisation only in a browser
logged in as that account at the level it requires, and an operator never gets one at all.

The attacker of each test holds the victim's mailbox (the link), their own UZI card of a
practice not registered yet (it matches the application) and an operator's approval.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from appids import phone_enrols
from applicants import URA, approved_application, card, open_page, present
from people import PASSWORD
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.authn import sessions
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp.models import AppDevice, AppEnrolment
from zorgsleutel.organisations.models import Application, Organisation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("trust")]

CARD_CODE = re.compile(r'id="card-code">([A-Z0-9-]+)<')


@pytest.fixture(autouse=True)
def _limits():
    """Empty rate-limit counters: the card API allows 60 requests a minute from one address,
    and the tests before these may have used them."""
    cache.clear()
    yield
    cache.clear()


def _organisation(name: str, ura: str = "", kind: str = Organisation.CARE_PROVIDER):
    return Organisation.objects.create(name=name, kind=kind, state="validated", ura=ura)


def _account(email: str, name: str, organisation=None, role: str = "member", **fields) -> User:
    user = User.objects.create(email=email, name=name, state=User.ACTIVE, **fields)
    user.set_password(PASSWORD)
    user.save()
    if organisation is not None:
        Membership.objects.create(
            user=user, organisation=organisation, role=role, accepted_at=clock.now()
        )
    return user


def _app(user: User, organisation=None) -> AppDevice:
    """An app ID of the person (each organisation decides about it for itself)."""
    return AppDevice.objects.create(
        public_id=f"app_{user.pk}",
        user=user,
        name="Telefoon",
        public_key=b"x",
        secret_ciphertext=b"x",
        enrolled_at=clock.now(),
    )


@pytest.fixture
def demozorg_admin(db) -> User:
    """Anna, administrator of Demozorg (another care provider), who logs in with her app."""
    demozorg = _organisation("Demozorg", ura="90000001")
    anna = _account("admin@demozorg.nl", "Anna Admin", demozorg, role="administrator")
    _app(anna, demozorg)
    return anna


def _link(email: str) -> str:
    _application, url = approved_application(applicant_email=email)
    return "/" + url.split("/", 3)[3]


def _attack(client, path: str, hierarchy, card_key) -> dict:
    """The attacker's run: open the link, and wherever the page shows a card code, present the
    matching card, collect the verdict and follow it to the next page."""
    page = client.get(path)
    run = {"page": page, "verdict": None, "next": None}
    code = CARD_CODE.search(page.content.decode())
    if code is not None:
        status = re.search(r'data-status-url="([^"]+)"', page.content.decode()).group(1)
        present(card(hierarchy, card_key), card_key, code.group(1))
        run["verdict"] = client.get(status).json()
        if run["verdict"].get("next"):
            run["next"] = client.get(run["verdict"]["next"])
    return run


def _memberships(user: User) -> list[tuple[str, str]]:
    return sorted(Membership.objects.filter(user=user).values_list("organisation__name", "role"))


# --- The takeover, refused -----------------------------------------------------------------


def test_an_anonymous_browser_cannot_validate_into_an_existing_account(
    client, demozorg_admin, hierarchy, card_key
):
    path = _link("admin@demozorg.nl")
    run = _attack(client, path, hierarchy, card_key)
    page = run["page"]
    assert page.status_code == 403
    html = page.content.decode()
    assert 'data-error="log_in_first"' in html
    assert "Er bestaat al een account met het e-mailadres van deze aanvraag" in html
    assert "Anna" not in html and "Demozorg" not in html  # nothing the link does not say
    assert CARD_CODE.search(html) is None  # no card challenge for this browser
    assert run["verdict"] is None
    assert _memberships(demozorg_admin) == [("Demozorg", "administrator")]
    assert not Organisation.objects.filter(ura=URA).exists()
    assert not AppEnrolment.objects.exists()
    assert Application.objects.get().state == Application.APPROVED


def test_a_browser_logged_in_as_someone_else_cannot_validate_into_the_account(
    client, login_as, demozorg_admin, hierarchy, card_key
):
    mallory = _account("mallory@elders.nl", "Mallory", _organisation("Elders BV", kind="business"))
    login_as(client, mallory, acr="low")
    path = _link("admin@demozorg.nl")
    run = _attack(client, path, hierarchy, card_key)
    assert run["page"].status_code == 403
    assert 'data-error="other_account"' in run["page"].content.decode()
    assert run["verdict"] is None
    assert _memberships(demozorg_admin) == [("Demozorg", "administrator")]
    assert _memberships(mallory) == [("Elders BV", "member")]
    assert not Organisation.objects.filter(ura=URA).exists()
    assert not AppEnrolment.objects.exists()


def test_an_account_made_after_the_card_page_opened_is_not_taken_by_the_card(
    client, hierarchy, card_key
):
    """The address had no account when the page showed the card code; an organisation invites
    it before the card answers. The browser collecting the verdict is not that account."""
    path = _link("admin@demozorg.nl")
    page = open_page(client, path)
    invited = User.objects.create(email="admin@demozorg.nl", name="Anna", state=User.INVITED)
    Membership.objects.create(user=invited, organisation=_organisation("Demozorg", "90000001"))
    answer = present(card(hierarchy, card_key), card_key, page["code"])
    assert answer.status_code == 200  # the card proves the practice, nothing more
    verdict = client.get(page["status"]).json()
    assert verdict["status"] == "refused" and verdict["error"] == "log_in_first"
    assert "Er bestaat al een account" in verdict["message"]
    invited.refresh_from_db()
    assert invited.state == User.INVITED
    assert _memberships(invited) == [("Demozorg", "member")]
    assert not Organisation.objects.filter(ura=URA).exists()
    assert not AppEnrolment.objects.exists()
    refused = AuditEvent.objects.get(action="organisation.validation_refused")
    assert refused.outcome == "denied" and refused.details["error"] == "log_in_first"
    # Nothing carries the browser on to an app for the account.
    assert client.get("/organisatie/gevalideerd/app").status_code == 302
    assert not AppEnrolment.objects.exists()


def test_the_card_does_not_lift_a_session_below_the_account_s_level(
    client, login_as, hierarchy, card_key
):
    """Logged in by password (enough for a business member) when the page opened; a care
    provider made the person its manager before the card answered: the poll, which no
    assurance middleware guards, refuses."""
    bert = _account("bert@elders.nl", "Bert", _organisation("Elders BV", kind="business"))
    login_as(client, bert, acr="low")
    path = _link("bert@elders.nl")
    page = open_page(client, path)
    Membership.objects.create(
        user=bert,
        organisation=_organisation("Zorg Elders", "90000002"),
        role="manager",
        accepted_at=clock.now(),
    )
    present(card(hierarchy, card_key), card_key, page["code"])
    verdict = client.get(page["status"]).json()
    assert verdict["status"] == "refused" and verdict["error"] == "assurance_required"
    assert _memberships(bert) == [("Elders BV", "member"), ("Zorg Elders", "manager")]
    assert not Organisation.objects.filter(ura=URA).exists()


def test_a_session_past_its_absolute_timeout_is_nobody_to_the_poll(
    client, login_as, demozorg_admin, hierarchy, card_key
):
    """The poll is a path the session timeout middleware skips: it asks itself. Anna opened
    the page two minutes before her session's 12 hours ended and answered after."""
    with clock.frozen(datetime.now(UTC)):
        login_as(client, demozorg_admin, acr="substantial")
        session = client.session  # logged in 11 h 58 min ago, busy since
        logged_in_at = clock.now() - timedelta(hours=11, minutes=58)
        session[sessions.AUTH_AT] = logged_in_at.timestamp()
        session.save()
        path = _link("admin@demozorg.nl")
        page = open_page(client, path)
        present(card(hierarchy, card_key), card_key, page["code"])
        clock.advance(timedelta(minutes=3))
        verdict = client.get(page["status"]).json()
    assert verdict["status"] == "refused" and verdict["error"] == "log_in_first"
    assert _memberships(demozorg_admin) == [("Demozorg", "administrator")]
    assert not Organisation.objects.filter(ura=URA).exists()


def test_an_operator_s_address_never_becomes_a_member(client, login_as, hierarchy, card_key):
    path = _link("operator@zorgsleutel.test")
    # The account became an operator's after the operator approved (approval refuses it).
    olga = _account("operator@zorgsleutel.test", "Olga Operator", is_operator=True)
    _app(olga)
    run = _attack(client, path, hierarchy, card_key)  # the attacker, not logged in
    assert run["page"].status_code == 403
    assert 'data-error="log_in_first"' in run["page"].content.decode()
    assert "operator" not in run["page"].content.decode().lower()  # not told to a stranger
    assert not Membership.objects.filter(user=olga).exists()
    # Olga herself, logged in with her app: refused with its own code, audited.
    login_as(client, olga, acr="substantial")
    page = client.get(path)
    assert page.status_code == 403
    html = page.content.decode()
    assert 'data-error="operator_not_allowed"' in html
    assert "Operators worden nooit lid van een organisatie" in html
    assert CARD_CODE.search(html) is None
    assert not Membership.objects.filter(user=olga).exists()
    assert not Organisation.objects.filter(ura=URA).exists()
    refused = AuditEvent.objects.get(action="organisation.validation_refused")
    assert refused.outcome == "denied" and refused.details["error"] == "operator_not_allowed"
    assert refused.actor == f"user:{olga.public_id}"


def test_an_account_made_an_operator_after_the_card_page_opened_is_refused(
    client, login_as, hierarchy, card_key
):
    olga = _account("olga@zorgsleutel.test", "Olga", _organisation("Elders BV", kind="business"))
    login_as(client, olga, acr="substantial")
    path = _link("olga@zorgsleutel.test")
    page = open_page(client, path)
    User.objects.filter(pk=olga.pk).update(is_operator=True)
    present(card(hierarchy, card_key), card_key, page["code"])
    verdict = client.get(page["status"]).json()
    assert verdict["status"] == "refused" and verdict["error"] == "operator_not_allowed"
    assert _memberships(olga) == [("Elders BV", "member")]
    assert not Organisation.objects.filter(ura=URA).exists()


def test_the_operator_may_not_approve_an_application_in_an_operator_s_name(db):
    from zorgsleutel.core.errors import DomainError

    _account("operator@zorgsleutel.test", "Olga Operator", is_operator=True)
    with pytest.raises(DomainError) as refused:
        approved_application(applicant_email="operator@zorgsleutel.test")
    assert refused.value.code == "operator_not_allowed"
    application = Application.objects.get()
    assert application.state == Application.SUBMITTED and not application.validation_token_hash


# --- The owner of the account -----------------------------------------------------------------


def test_the_account_s_owner_logged_in_with_the_app_becomes_administrator(
    client, login_as, demozorg_admin, hierarchy, card_key
):
    login_as(client, demozorg_admin, acr="substantial")
    path = _link("admin@demozorg.nl")
    html = client.get(path).content.decode()
    assert "U wordt portaaladministrator met uw account Anna Admin" in html
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    verdict = client.get(page["status"]).json()
    organisation = Organisation.objects.get(ura=URA)
    # on to the new organisation's Aan de slag: what an administrator does next
    assert verdict == {
        "status": "ok",
        "next": f"/beheer/{organisation.public_id}/aan-de-slag",
    }
    assert _memberships(demozorg_admin) == [
        ("Demozorg", "administrator"),
        ("Huisartsenpraktijk De Linde", "administrator"),
    ]
    membership = Membership.objects.get(user=demozorg_admin, organisation=organisation)
    assert (membership.state, membership.accepted_at is not None) == ("active", True)
    application = Application.objects.get()
    assert (application.state, application.organisation) == (Application.VALIDATED, organisation)
    validated = AuditEvent.objects.get(action="organisation.validated")
    assert validated.actor == f"user:{demozorg_admin.public_id}"
    assert validated.organisation == f"organisation:{organisation.public_id}"
    created = AuditEvent.objects.get(action="member.created")
    assert created.details == {
        "role": "administrator",
        "validated_with": "uzi",
        "account": "existing",
        "names": {demozorg_admin.audit_ref: "admin@demozorg.nl"},  # kept for the log
    }
    assert not AppEnrolment.objects.exists()  # she logs in with the app she has
    home = client.get("/mijn")
    assert home.status_code == 200
    assert (
        "U bent nu portaaladministrator van Huisartsenpraktijk De Linde." in home.content.decode()
    )
    # The link is used up: nothing for anyone to resume.
    assert Client().get(path).status_code == 404
    assert client.get(path).status_code == 404


def test_an_owner_without_an_app_links_it_from_their_own_session(
    client, login_as, hierarchy, card_key
):
    """A business member (password + SMS is their level) validates a practice; being its
    administrator needs the app, which they link in their own logged-in session."""
    bert = _account("bert@elders.nl", "Bert", _organisation("Elders BV", kind="business"))
    login_as(client, bert, acr="low")
    path = _link("bert@elders.nl")
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    verdict = client.get(page["status"]).json()
    organisation = Organisation.objects.get(ura=URA)
    assert verdict == {"status": "ok", "next": f"/beheer/{organisation.public_id}/aan-de-slag"}
    assert _memberships(bert) == [
        ("Elders BV", "member"),
        ("Huisartsenpraktijk De Linde", "administrator"),
    ]
    assert not AppEnrolment.objects.exists()
    # Being its administrator needs the app: that page (as every other) sends Bert to link it.
    landed = client.get(verdict["next"], HTTP_ACCEPT="text/html")
    assert landed.status_code == 302 and landed["Location"] == "/mijn/app-koppelen"
    home = client.get("/mijn", HTTP_ACCEPT="text/html")
    assert home.status_code == 302 and home["Location"] == "/mijn/app-koppelen"
    assert client.get("/mijn/app-koppelen").status_code == 200
    assert list(AppEnrolment.objects.values_list("user__email", flat=True)) == ["bert@elders.nl"]
    # The link does not resume for anyone (the app is linked from the account).
    stranger = Client()
    assert stranger.get(path).status_code == 404
    assert stranger.get("/organisatie/gevalideerd/app").status_code == 302
    assert AppEnrolment.objects.count() == 1


# --- The new account's browser (the session state of step 5) -------------------------------


def test_the_new_administrator_s_browser_may_link_the_app_for_thirty_minutes(
    client, hierarchy, card_key
):
    with clock.frozen(datetime.now(UTC)):
        path = _link("jan@delinde.nl")
        page = open_page(client, path)
        present(card(hierarchy, card_key), card_key, page["code"])
        verdict = client.get(page["status"]).json()
        assert verdict == {"status": "ok", "next": "/organisatie/gevalideerd/app"}
        clock.advance(timedelta(minutes=29))
        shown = client.get("/organisatie/gevalideerd/app")
        assert shown.status_code == 200
        clock.advance(timedelta(minutes=2))
        late = client.get("/organisatie/gevalideerd/app")
        assert late.status_code == 302 and late["Location"] == "/organisatie/valideren"
        # The app scans the QR code still on the screen: linked, but this browser goes no
        # further as the new administrator's.
        assert phone_enrols(shown.context["url"]).status_code == 201
        status = client.get(shown.context["status_url"])
        assert (status.json()["status"], status.json()["error"]) == (
            "refused",
            "validation_expired",
        )


def test_no_second_app_is_started_for_a_new_administrator_who_linked_one(
    client, hierarchy, card_key
):
    path = _link("jan@delinde.nl")
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    client.get(page["status"])
    jan = User.objects.get(email="jan@delinde.nl")
    _app(jan, Organisation.objects.get(ura=URA))
    AppEnrolment.objects.all().delete()
    again = client.get("/organisatie/gevalideerd/app")
    assert again.status_code == 302 and again["Location"] == "/organisatie/gevalideerd"
    assert not AppEnrolment.objects.exists()


def test_only_the_session_keeps_what_step_5_needs(client, hierarchy, card_key):
    path = _link("jan@delinde.nl")
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    client.get(page["status"])
    client.get("/organisatie/gevalideerd/app")
    session = dict(client.session.items())
    assert {key for key in session if key.startswith("zs_valid")} == {"zs_validation"}
    assert set(session["zs_validation"]) == {"administrator", "until", "enrolment"}
    token = path.rsplit("/", 1)[1]
    assert token not in str(session)  # the link is never kept in the session


# --- What the operator sees --------------------------------------------------------------------


def test_the_operator_sees_that_the_applicant_s_address_has_an_account(
    client, login_as, demozorg_admin
):
    from applicants import application_data
    from zorgsleutel.organisations.flows import applications

    existing = applications.submit_application(
        data=application_data(applicant_email="admin@demozorg.nl"), locale="nl"
    )
    new = applications.submit_application(
        data=application_data(ura="90000383", applicant_email="nieuw@delinde.nl"), locale="nl"
    )
    olga = _account("ops@zorgsleutel.test", "Olga", is_operator=True)
    operators = applications.submit_application(
        data=application_data(ura="90000384", applicant_email="ops@zorgsleutel.test"), locale="nl"
    )
    login_as(client, olga, acr="substantial")
    account = re.compile(r'<dd id="applicant-account">([^<]+)</dd>')
    page = client.get(f"/operator/aanvragen/{existing.public_id}").content.decode()
    assert account.search(page).group(1) == (
        "Bestaand account: de aanvrager valideert terwijl die daarmee is ingelogd, en de "
        "organisatie wordt aan dat account toegevoegd."
    )
    page = client.get(f"/operator/aanvragen/{new.public_id}").content.decode()
    assert account.search(page).group(1) == "Nog geen account: de validatie maakt er een aan."
    page = client.get(f"/operator/aanvragen/{operators.public_id}").content.decode()
    assert account.search(page).group(1).startswith("Bestaand account van een operator")
    # Anna herself, an administrator of a care provider, may not see the console.
    anna = Client()
    login_as(anna, demozorg_admin, acr="substantial")
    assert anna.get(f"/operator/aanvragen/{existing.public_id}").status_code == 403


def test_a_blocked_account_never_gets_the_organisation(client, login_as, hierarchy, card_key):
    """policies.validation_refusal: a blocked account's browser is nobody (its session ends),
    and the flow refuses the account itself with its own code should it be asked for it."""
    from zorgsleutel.core.errors import DomainError
    from zorgsleutel.organisations.flows import validation

    bea = _account("bea@elders.nl", "Bea", _organisation("Elders BV", kind="business"))
    login_as(client, bea, acr="substantial")
    path = _link("bea@elders.nl")
    page = open_page(client, path)
    User.objects.filter(pk=bea.pk).update(state=User.BLOCKED)
    present(card(hierarchy, card_key), card_key, page["code"])
    verdict = client.get(page["status"]).json()
    assert verdict["status"] == "refused" and verdict["error"] == "log_in_first"
    bea.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        validation.start_card_challenge(
            token=path.rsplit("/", 1)[1],
            person=bea,
            session_acr="substantial",
            session_key="sessie-van-bea",
            host="testserver",
        )
    assert refused.value.code == "account_blocked"
    assert _memberships(bea) == [("Elders BV", "member")]
    assert not Organisation.objects.filter(ura=URA).exists()
