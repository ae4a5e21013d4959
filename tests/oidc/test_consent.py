"""Consent (docs/oidc.md, "Consent"; oidc/consent.py): the first login to an application asks,
the answer is remembered per application and scope, a new scope asks again for the new ones,
prompt=consent always asks, prompt=none answers consent_required; a refusal goes back as
access_denied. The page's answer is CSRF-protected and bound to its own request (a ticket in
the session), and the page cannot be framed. The organisation chosen is remembered per
application (select_account)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client as BrowserClient

from sso import (
    allow,
    answer,
    authorize_url,
    consent_page,
    consent_to,
    exchange,
    log_in,
    member_of,
    register,
)
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import Client, Consent, SignIn

pytestmark = pytest.mark.django_db

RECEIVES_ALL = [
    "een kenmerk van u voor deze applicatie (niet uw BSN)",
    "de organisatie namens wie u werkt: de naam, en het URA- of KvK-nummer",
    "hoe en wanneer u bent ingelogd",
    "uw naam",
    "uw e-mailadres",
]


def page_text(response) -> dict:
    """What a consent page says: its h1, the paragraph naming the organisation, the heading
    over the list, the list, the buttons."""
    html = response.content.decode()
    main = html.split("<main", 1)[1]
    return {
        "h1": re.search(r"<h1>(.*?)</h1>", main).group(1),
        "for": re.search(r"<p>(U logt in bij .*?|You are logging in to .*?)</p>", main).group(1),
        "h2": re.search(r"<h2>(.*?)</h2>", main).group(1),
        "receives": re.findall(r'<li class="utrecht-unordered-list__item">(.*?)</li>', main),
        "buttons": re.findall(
            r'<button type="submit" name="answer" value="(\w+)"[^>]*>(.*?)<', main
        ),
    }


def events(action: str) -> list[tuple]:
    return [
        (e.organisation, e.actor, e.target, e.outcome, {k: v for k, v in e.details.items()
                                                        if k != "names"})
        for e in AuditEvent.objects.filter(action=action).order_by("seq")
    ]  # fmt: skip


def test_the_first_login_asks_and_the_answer_is_remembered(client, app, mira, care):
    log_in(client, mira, consented=False)
    asked = authorize_url(app.client_id)
    page = client.get(asked.url)
    assert page_text(page) == {
        "h1": "Declaratieportaal toestaan uw gegevens te ontvangen?",
        "for": "U logt in bij Declaratieportaal namens Zorggroep Noord.",
        "h2": "Declaratieportaal ontvangt",
        "receives": RECEIVES_ALL,
        "buttons": [("allow", "Toestaan"), ("refuse", "Weigeren")],
    }
    assert (
        "U kunt uw toestemming altijd intrekken in Mijn Zorgsleutel, Gekoppelde applicaties."
        in (page.content.decode())
    )
    assert Consent.objects.count() == 0 and SignIn.objects.count() == 0  # asking changes nothing

    found = answer(allow(client, asked.url, page))
    assert found["state"] == asked.state and found["iss"] == "https://zorgsleutel.test"
    status, _tokens = exchange(client, app, found["code"], asked.verifier)
    assert status == 200
    (row,) = Consent.objects.all()
    assert (row.user, row.client, row.organisation, row.scopes) == (
        mira,
        app.client,
        care,
        ["openid", "profile", "email"],
    )
    assert events("sso.consent_given") == [
        (care.audit_ref, mira.audit_ref, app.client.audit_ref, "success",
         {"client_id": app.client_id, "scopes": ["openid", "profile", "email"]}),
    ]  # fmt: skip

    # The next login goes straight through: no page, no new consent.
    again = authorize_url(app.client_id)
    assert "code" in answer(client.get(again.url))
    assert len(events("sso.consent_given")) == 1


def test_the_consent_page_in_english(client, app, mira):
    log_in(client, mira, consented=False)
    client.cookies["django_language"] = "en"
    assert page_text(client.get(authorize_url(app.client_id, scope="openid email").url)) == {
        "h1": "Allow Declaratieportaal to receive your data?",
        "for": "You are logging in to Declaratieportaal on behalf of Zorggroep Noord.",
        "h2": "Declaratieportaal receives",
        "receives": [
            "an identifier of you for this application (not your BSN)",
            "the organisation you act for: its name, and its URA or KvK number",
            "how and when you logged in",
            "your e-mail address",
        ],
        "buttons": [("allow", "Allow"), ("refuse", "Refuse")],
    }


def test_a_new_scope_asks_again_for_the_new_ones_only(client, app, mira, care):
    log_in(client, mira, consented=False)
    consent_to(mira, app, scopes=["openid"], organisation=care)
    assert "code" in answer(client.get(authorize_url(app.client_id, scope="openid").url))
    asked = authorize_url(app.client_id, scope="openid email")
    page = client.get(asked.url)
    said = page_text(page)
    assert (said["h2"], said["receives"]) == ("Declaratieportaal vraagt nu ook", ["uw e-mailadres"])
    assert "code" in answer(allow(client, asked.url, page))
    assert Consent.objects.get().scopes == ["openid", "email"]
    assert [e[4]["scopes"] for e in events("sso.consent_given")] == [["email"]]


def test_prompt_consent_always_asks_and_is_answered_once(client, app, mira, care):
    log_in(client, mira)  # consented already
    asked = authorize_url(app.client_id, prompt="consent")
    page = client.get(asked.url)
    assert page_text(page)["receives"] == RECEIVES_ALL
    found = answer(allow(client, asked.url, page))  # the answer does not ask again
    assert "code" in found and found["state"] == asked.state
    assert len(events("sso.consent_given")) == 1


def test_prompt_none_without_consent_is_consent_required(client, app, mira):
    log_in(client, mira, consented=False)
    asked = authorize_url(app.client_id, prompt="none")
    found = answer(client.get(asked.url))
    assert {k: found[k] for k in ("error", "error_description", "state", "iss")} == {
        "error": "consent_required",
        "error_description": "The person has not consented.",
        "state": asked.state,
        "iss": "https://zorgsleutel.test",
    }
    assert Consent.objects.count() == 0 and SignIn.objects.count() == 0
    # ... and for a scope not allowed yet.
    consent_to(mira, app, scopes=["openid"])
    found = answer(client.get(authorize_url(app.client_id, prompt="none").url))
    assert found["error"] == "consent_required"
    assert "code" in answer(
        client.get(authorize_url(app.client_id, prompt="none", scope="openid").url)
    )


def test_a_refusal_goes_back_as_access_denied_and_remembers_nothing(client, app, mira, care):
    log_in(client, mira, consented=False)
    asked = authorize_url(app.client_id)
    found = answer(allow(client, asked.url, client.get(asked.url), answer="refuse"))
    assert {k: found[k] for k in ("_to", "error", "error_description", "state", "iss")} == {
        "_to": "https://rp.example.nl/callback",
        "error": "access_denied",
        "error_description": "The person did not consent.",
        "state": asked.state,
        "iss": "https://zorgsleutel.test",
    }
    assert Consent.objects.count() == 0 and SignIn.objects.count() == 0
    assert events("sso.consent_refused") == [
        (care.audit_ref, mira.audit_ref, app.client.audit_ref, "denied",
         {"client_id": app.client_id, "scopes": ["openid", "profile", "email"]}),
    ]  # fmt: skip
    assert client.get(asked.url).status_code == 200  # the next request asks again


# --- Attacks ------------------------------------------------------------------------------------


def test_the_answer_needs_the_csrf_token(app, mira):
    """A page elsewhere cannot post "Toestaan" for the person."""
    browser = BrowserClient(enforce_csrf_checks=True)
    log_in(browser, mira, consented=False)
    asked = authorize_url(app.client_id)
    ticket = consent_page(browser.get(asked.url))
    response = browser.post(asked.url, {"ticket": ticket, "answer": "allow"})
    assert response.status_code == 403
    assert Consent.objects.count() == 0 and SignIn.objects.count() == 0


def test_an_answer_is_bound_to_the_request_it_was_shown_for(client, app, mira, operator, care):
    """The ticket of one request's page does not answer another's (another state, other
    scopes, another application), nor twice, nor from another session, nor late: the page is
    shown again, and nothing is allowed."""
    other = register(operator, [care], name="Labviewer")
    log_in(client, mira, consented=False)
    shown = authorize_url(app.client_id, scope="openid")
    ticket = consent_page(client.get(shown.url))
    for elsewhere in (
        authorize_url(app.client_id, scope="openid"),  # another state, nonce and challenge
        authorize_url(app.client_id, scope="openid profile email", state=shown.state),
        authorize_url(other.client_id, scope="openid"),
    ):
        response = client.post(elsewhere.url, {"ticket": ticket, "answer": "allow"})
        assert response.status_code == 200
        assert "Deze pagina was veranderd of al gebruikt." in response.content.decode()
        ticket = consent_page(client.get(shown.url))  # a used ticket is gone: a fresh one
    assert Consent.objects.count() == 0 and SignIn.objects.count() == 0

    stranger = BrowserClient()  # another session, logged in as the same person
    log_in(stranger, mira, consented=False)
    response = stranger.post(shown.url, {"ticket": ticket, "answer": "allow"})
    assert "Deze pagina was veranderd of al gebruikt." in response.content.decode()
    assert Consent.objects.count() == 0

    response = client.post(shown.url, {"ticket": ticket, "answer": "allow"})
    assert "code" in answer(response)
    replay = client.post(shown.url, {"ticket": ticket, "answer": "refuse"})
    assert "Deze pagina was veranderd of al gebruikt." not in replay.content.decode()
    assert "code" in answer(replay)  # consented now: the replay cannot turn it into a refusal
    assert events("sso.consent_refused") == []


@pytest.mark.parametrize(("minutes", "works"), [(15, True), (16, False)])
def test_a_ticket_lives_15_minutes(client, app, mira, minutes, works):
    log_in(client, mira, consented=False)
    asked = authorize_url(app.client_id)
    page = client.get(asked.url)
    with clock.frozen(clock.now() + timedelta(minutes=minutes, seconds=-1 if works else 0)):
        response = allow(client, asked.url, page)
    assert (response.status_code == 302) is works
    assert Consent.objects.count() == (1 if works else 0)


def test_a_session_keeps_the_5_newest_tickets(client, app, mira):
    log_in(client, mira, consented=False)
    pages = [authorize_url(app.client_id) for _ in range(6)]
    tickets = [consent_page(client.get(asked.url)) for asked in pages]
    refused = client.post(pages[1].url, {"ticket": tickets[1], "answer": "refuse"})
    assert answer(refused)["error"] == "access_denied"  # the 2nd oldest still answers
    first = client.post(pages[0].url, {"ticket": tickets[0], "answer": "allow"})
    assert first.status_code == 200  # the oldest was dropped: the page again
    assert "Deze pagina was veranderd of al gebruikt." in first.content.decode()
    assert Consent.objects.count() == 0


def test_the_page_cannot_be_framed_and_may_post_to_the_application(client, app, mira):
    """Clickjacking: no other site can frame "Toestaan". form-action names the application's
    origin: browsers apply it to the redirect that answers the form too."""
    log_in(client, mira, consented=False)
    page = client.get(authorize_url(app.client_id).url)
    assert page["X-Frame-Options"] == "DENY"
    assert page["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self' https://rp.example.nl; base-uri 'none'; "
        "object-src 'none'; frame-ancestors 'none'"
    )
    assert page["Cache-Control"].startswith("max-age=0")


# --- select_account, remembered per application --------------------------------------------


def test_the_organisation_chosen_is_remembered_per_application(client, operator, care, business):
    both = register(operator, [care, business], name="Beide", uris="https://rp.example.nl/callback")
    other = register(
        operator, [care, business], name="Ander", uris="https://rp.example.nl/callback"
    )
    tim = member_of(care, business, email="tim@noord.nl", name="Tim Twee")
    log_in(client, tim, consented=False)
    asked = authorize_url(both.client_id)
    choice = client.get(asked.url)
    assert "Inloggen bij Beide" in choice.content.decode()  # the choice page first
    # Its answer may redirect to the application too (CSP form-action governs redirects).
    assert "form-action 'self' https://rp.example.nl;" in choice["Content-Security-Policy"]
    page = client.post(asked.url, {"organisation": str(business.public_id)})
    assert page_text(page)["for"] == "U logt in bij Beide namens Bedrijf Zuid BV."
    assert "code" in answer(allow(client, asked.url, page))
    assert Consent.objects.get(client=both.client).organisation == business

    # Next time: straight through, for Bedrijf Zuid BV.
    assert "code" in answer(client.get(authorize_url(both.client_id).url))
    assert [s.organisation for s in SignIn.objects.order_by("pk")] == [business, business]
    # Another application asks on its own (not remembered there).
    assert "Inloggen bij Ander" in client.get(authorize_url(other.client_id).url).content.decode()

    # prompt=select_account asks again; the new choice is remembered.
    again = authorize_url(both.client_id, prompt="select_account")
    assert "Inloggen bij Beide" in client.get(again.url).content.decode()
    assert "code" in answer(client.post(again.url, {"organisation": str(care.public_id)}))
    assert Consent.objects.get(client=both.client).organisation == care
    assert "code" in answer(client.get(authorize_url(both.client_id).url))
    assert SignIn.objects.order_by("pk").last().organisation == care

    # prompt=none with the remembered organisation: a code, no page.
    assert "code" in answer(client.get(authorize_url(both.client_id, prompt="none").url))


def test_a_remembered_organisation_no_longer_eligible_is_chosen_again(
    client, operator, care, business
):
    third = type(care).objects.create(name="Derde Zorg", kind=care.kind, ura="90000333")
    both = register(operator, [care, business, third], name="Beide")
    tim = member_of(care, business, third, email="tim@noord.nl", name="Tim Twee")
    consent_to(tim, both, organisation=care)
    log_in(client, tim, consented=False)
    assert "code" in answer(client.get(authorize_url(both.client_id).url))
    Membership.objects.filter(user=tim, organisation=care).update(state="blocked")
    response = client.get(authorize_url(both.client_id).url)
    assert "Inloggen bij Beide" in response.content.decode()  # two left: choose
    found = answer(client.get(authorize_url(both.client_id, prompt="none").url))
    assert found["error"] == "account_selection_required"


# --- Mijn Zorgsleutel → Gekoppelde applicaties --------------------------------------------------


def _rows(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr class="linked-application">(.*?)</tr>', html, re.S)
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows)
    ]


def test_the_person_sees_and_withdraws_a_consent(client, app, mira, care, operator):
    lab = register(operator, [care], name="Labviewer")
    log_in(client, mira, consented=False)
    with clock.frozen(datetime(2026, 12, 7, 9, 15, tzinfo=UTC)):
        consent_to(mira, app, scopes=["openid", "profile", "email"], organisation=care)
        consent_to(mira, lab, scopes=["openid"], organisation=care)
    asked = authorize_url(app.client_id)
    code = answer(client.get(asked.url))["code"]
    _status, tokens = exchange(client, app, code, asked.verifier)

    html = client.get("/mijn/gekoppelde-applicaties").content.decode()
    assert _rows(html) == [
        ["Declaratieportaal", "Zorggroep Noord",
         " ".join(RECEIVES_ALL), "7 Dec 2026 10:15", "Intrekken — Declaratieportaal"],
        ["Labviewer", "Zorggroep Noord", " ".join(RECEIVES_ALL[:3]), "7 Dec 2026 10:15",
         "Intrekken — Labviewer"],
    ]  # fmt: skip

    row = Consent.objects.get(client=app.client)
    url = f"/mijn/gekoppelde-applicaties/{row.public_id}/intrekken"
    question = client.post(url).content.decode()
    assert "<h1>Uw toestemming voor Declaratieportaal intrekken?</h1>" in question
    assert (
        "Declaratieportaal ontvangt uw gegevens niet meer: de tokens die het voor u kreeg, worden "
        "ingetrokken, en de volgende keer dat u erbij inlogt, vraagt Zorgsleutel opnieuw om uw "
        "toestemming."
    ) in question
    assert Consent.objects.count() == 2  # asking changes nothing

    response = client.post(url, {"bevestigd": "ja"})
    assert (response.status_code, response["Location"]) == (302, "/mijn/gekoppelde-applicaties")
    assert list(Consent.objects.values_list("client__application__name", flat=True)) == [
        "Labviewer"
    ]
    userinfo = client.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert userinfo.status_code == 401  # its tokens are revoked
    refreshed = client.post(
        "/oidc/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
         "client_id": app.client_id, "client_secret": app.secret},
    )  # fmt: skip
    assert (refreshed.status_code, refreshed.json()) == (400, {"error": "invalid_grant"})
    assert SignIn.objects.get().revoked_at is not None  # revoked, never taken for a replay
    assert not AuditEvent.objects.filter(action="sso.refresh_reused").exists()
    assert events("sso.consent_revoked") == [  # the access token and its refresh token
        (care.audit_ref, mira.audit_ref, app.client.audit_ref, "success",
         {"client_id": app.client_id, "scopes": ["openid", "profile", "email"], "revoked": 2}),
    ]  # fmt: skip
    after = client.get("/mijn/gekoppelde-applicaties").content.decode()
    assert "Uw toestemming voor Declaratieportaal is ingetrokken." in after
    assert client.get(authorize_url(app.client_id).url).status_code == 200  # asks again


def test_nobody_withdraws_another_person_s_consent(client, app, mira, care):
    """Another person's consent is not found (404), as one that does not exist; nothing
    changes. Anonymous: the login page."""
    bea = member_of(care, email="bea@noord.nl", name="Bea Buur")
    consent_to(mira, app, organisation=care)
    row = Consent.objects.get()
    url = f"/mijn/gekoppelde-applicaties/{row.public_id}/intrekken"
    assert client.post(url, {"bevestigd": "ja"}).status_code == 302  # anonymous: to log in
    log_in(client, bea, consented=False)
    assert client.get(url).status_code == 404
    assert client.post(url, {"bevestigd": "ja"}).status_code == 404
    assert "Declaratieportaal" not in client.get("/mijn/gekoppelde-applicaties").content.decode()
    assert Consent.objects.count() == 1 and events("sso.consent_revoked") == []


def test_consent_events_reach_only_the_organisation_acted_for(client, operator, care, business):
    """Tenancy: Bedrijf Zuid's log does not learn that its member consented to an application
    for Zorggroep Noord."""
    both = register(operator, [care, business], name="Beide")
    tim = member_of(care, business, email="tim@noord.nl", name="Tim Twee")
    log_in(client, tim, consented=False)
    asked = authorize_url(both.client_id)
    page = client.post(asked.url, {"organisation": str(care.public_id)})
    answer(allow(client, asked.url, page))
    assert [e[0] for e in events("sso.consent_given")] == [care.audit_ref]
    assert not AuditEvent.objects.filter(
        organisation=business.audit_ref, action__startswith="sso."
    ).exists()


def test_an_answer_for_an_organisation_no_longer_eligible_allows_nothing(
    client, operator, care, business
):
    """The person allowed while the page said Zorggroep Noord; meanwhile that membership was
    blocked. The answer does not count for Bedrijf Zuid BV: the page asks for it."""
    both = register(operator, [care, business], name="Beide")
    tim = member_of(care, business, email="tim@noord.nl", name="Tim Twee")
    log_in(client, tim, consented=False)
    asked = authorize_url(both.client_id)
    page = client.post(asked.url, {"organisation": str(care.public_id)})
    assert page_text(page)["for"] == "U logt in bij Beide namens Zorggroep Noord."
    Membership.objects.filter(user=tim, organisation=care).update(state="blocked")
    again = allow(client, asked.url, page)
    assert page_text(again)["for"] == "U logt in bij Beide namens Bedrijf Zuid BV."
    assert Consent.objects.count() == 0 and SignIn.objects.count() == 0


def test_the_roles_scope_is_asked_in_words(client, app, mira, care):
    Client.objects.filter(pk=app.client.pk).update(
        allowed_scopes=["openid", "profile", "email", "roles"]
    )
    log_in(client, mira, consented=False)
    consent_to(mira, app, scopes=["openid", "profile"], organisation=care)
    asked = authorize_url(app.client_id, scope="openid profile roles")
    said = page_text(client.get(asked.url))
    assert (said["h2"], said["receives"]) == (
        "Declaratieportaal vraagt nu ook",
        ["uw rol en applicatierollen in die organisatie"],
    )


def test_the_dezi_scope_is_asked_in_words(client, app, mira, care):
    Client.objects.filter(pk=app.client.pk).update(allowed_scopes=["openid", "email", "dezi"])
    log_in(client, mira, consented=False)
    consent_to(mira, app, scopes=["openid"], organisation=care)
    asked = authorize_url(app.client_id, scope="openid dezi profile")  # profile: not allowed
    said = page_text(client.get(asked.url))
    assert (said["h2"], said["receives"]) == (
        "Declaratieportaal vraagt nu ook",
        [
            "de UZI-pas waarmee u inlogde, als die van die organisatie is: uw UZI-nummer, de URA "
            "en naam van de organisatie, en uw rol"
        ],
    )
