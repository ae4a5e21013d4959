"""The UZI card in the browser (cards/views.py, docs/card-protocol.md): on the UZI host a GET
names what presenting the card does and a POST holds the certificate; back on the portal's host
only the browser that started the challenge, bringing the one-time value the UZI host handed
it, answers with a POST. A link relayed to someone else's browser ends there, with the exact
code `other_browser`, and the challenge stays open.

The two hosts are two Django test clients, as a browser keeps their cookies apart: `portal`
(the session that opened the validation page) and `uzi` (nginx's UZI host, the trusted proxy
127.0.0.1 passing the certificate in X-SSL-Client-Cert). Both check CSRF tokens as a browser's
POST must carry them. tests/proxy/test_tls_card_path.py does the same through a real nginx.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from applicants import approved_application, card, open_page
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Application
from zorgsleutel.uzi import testca

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("trust")]

PURPOSE = (
    "Huisartsenpraktijk De Linde (URA 90000382) valideren en er portaaladministrator van worden"
)


@pytest.fixture(autouse=True)
def proxy(settings):
    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.SITE_URL = "https://portal.test"
    settings.ALLOWED_HOSTS = ["testserver", "portal.test", "uzi.test"]
    # The rate-limit counters (60 requests a minute per address) start and end empty.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def path(db):
    _application, url = approved_application()
    return "/" + url.split("/", 3)[3]


def escaped(certificate) -> str:
    return urllib.parse.quote(testca.pem(certificate))


def browser() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_HOST="portal.test")


def uzi_host() -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="127.0.0.1", HTTP_HOST="uzi.test")


def start(portal: Client, path: str) -> str:
    """The validation page in this browser: its challenge's id."""
    return open_page(portal, path)["status"].rsplit("/", 1)[-1]


def csrf(client: Client, page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def present(uzi: Client, challenge_id: str, certificate, path: str):
    """The card holder on the UZI host: the page, then its button. The POST's answer."""
    header = {"HTTP_X_SSL_CLIENT_CERT": escaped(certificate)}
    page = uzi.get(f"/uzi/tls/{challenge_id}?" + urllib.parse.urlencode({"next": path}), **header)
    assert page.status_code == 200, page.content
    return uzi.post(
        f"/uzi/tls/{challenge_id}",
        {"csrfmiddlewaretoken": csrf(uzi, page), "next": path},
        **header,
    )


def come_back(portal: Client, location: str):
    """Back on the portal's host, as the redirect leads: its page, then its form's POST."""
    parts = urllib.parse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == "https://portal.test"
    page = portal.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.content.decode()))
    return portal.post(parts.path, fields)


def status(challenge_id: str) -> str:
    return Challenge.objects.get(public_id=challenge_id).status


def test_the_browser_that_started_it_validates_with_two_posts(path, hierarchy, card_key):
    portal, uzi = browser(), uzi_host()
    challenge_id = start(portal, path)
    back_to = f"{path}?kaart={challenge_id}"  # the validation page names its challenge
    presented = present(uzi, challenge_id, card(hierarchy, card_key), back_to)
    assert presented.status_code == 303
    assert presented["Location"].startswith(f"https://portal.test/uzi/terug/{challenge_id}?")
    assert status(challenge_id) == "pending"  # held, not answered: nothing yet for anybody
    answered = come_back(portal, presented["Location"])
    assert (answered.status_code, answered["Location"]) == (302, back_to)
    assert status(challenge_id) == "accepted"
    assert portal.get(back_to).status_code == 302  # the page collects it: on to linking the app
    assert Application.objects.get().state == Application.VALIDATED
    accepted = AuditEvent.objects.get(action="card.accepted")
    assert accepted.details["means"] == "tls"


def test_the_page_names_the_purpose_and_a_get_never_answers(path, hierarchy, card_key):
    portal, uzi = browser(), uzi_host()
    challenge_id = start(portal, path)
    header = {"HTTP_X_SSL_CLIENT_CERT": escaped(card(hierarchy, card_key))}
    pages = [uzi.get(f"/uzi/tls/{challenge_id}?next={path}", **header) for _ in range(3)]
    assert [p.status_code for p in pages] == [200] * 3
    html = pages[0].content.decode()
    assert PURPOSE in html
    assert "Mijn UZI-pas aanbieden" in html and 'method="post"' in html
    assert "form-action 'self' https://portal.test" in pages[0]["Content-Security-Policy"]
    assert status(challenge_id) == "pending"
    assert Challenge.objects.get(public_id=challenge_id).held == {}
    # The way back with a valid value, as a GET: a page with a form, no answer.
    presented = present(uzi, challenge_id, card(hierarchy, card_key), path)
    back = urllib.parse.urlsplit(presented["Location"])
    assert portal.get(f"{back.path}?{back.query}").status_code == 200
    assert status(challenge_id) == "pending"


def test_a_relayed_link_answered_in_another_browser_is_refused(path, hierarchy, card_key):
    """The one who started the challenge sends its UZI link to a card holder: the card holder's
    browser presents the card and comes back with the value, but without the session; the
    starter has the session, but never the value. Each is refused, the challenge stays open."""
    starter = browser()
    challenge_id = start(starter, path)
    victim_portal, victim_uzi = browser(), uzi_host()
    presented = present(victim_uzi, challenge_id, card(hierarchy, card_key), path)
    assert presented.status_code == 303
    refused = come_back(victim_portal, presented["Location"])
    assert refused.status_code == 403
    assert "Dit kan alleen worden afgerond in de browser waarin het is gestart" in (
        refused.content.decode()
    )
    assert status(challenge_id) == "pending"
    # The starter's browser, without the value the card holder's browser got:
    token = csrf(starter, starter.get(f"/uzi/terug/{challenge_id}?next={path}"))
    for value in ("", "geraden-waarde"):
        answer = starter.post(
            f"/uzi/terug/{challenge_id}",
            {"csrfmiddlewaretoken": token, "handoff": value, "next": path},
        )
        assert answer.status_code == 403
    assert status(challenge_id) == "pending"
    assert not Application.objects.filter(state=Application.VALIDATED).exists()
    events = AuditEvent.objects.filter(action="card.other_browser")
    assert [(e.outcome, e.details) for e in events] == [("denied", {"challenge": challenge_id})] * 3


def test_the_value_is_used_once_and_the_posts_need_csrf_tokens(path, hierarchy, card_key):
    portal, uzi = browser(), uzi_host()
    challenge_id = start(portal, path)
    header = {"HTTP_X_SSL_CLIENT_CERT": escaped(card(hierarchy, card_key))}
    # A POST to the UZI host without the page's token (a cross-site form) does nothing.
    assert uzi.post(f"/uzi/tls/{challenge_id}", {"next": path}, **header).status_code == 403
    assert Challenge.objects.get(public_id=challenge_id).held == {}
    presented = present(uzi, challenge_id, card(hierarchy, card_key), path)
    back = urllib.parse.urlsplit(presented["Location"])
    value = urllib.parse.parse_qs(back.query)["handoff"][0]
    assert portal.post(back.path, {"handoff": value, "next": path}).status_code == 403  # CSRF
    assert status(challenge_id) == "pending"
    # A second presentation replaces the first and its value.
    again = present(uzi, challenge_id, card(hierarchy, card_key), path)
    assert come_back(portal, presented["Location"]).status_code == 403
    assert status(challenge_id) == "pending"
    assert come_back(portal, again["Location"]).status_code == 302
    assert status(challenge_id) == "accepted"


def test_a_refused_card_is_shown_on_the_page_that_asked(path, hierarchy, card_key):
    portal, uzi = browser(), uzi_host()
    challenge_id = start(portal, path)
    expired = card(
        hierarchy,
        card_key,
        not_before=clock.now() - timedelta(days=400),
        not_after=clock.now() - timedelta(days=1),
    )
    presented = present(uzi, challenge_id, expired, "https://evil.example/x")
    assert "next=%2F" in presented["Location"]  # no open redirect: only local paths
    answered = come_back(portal, presented["Location"])
    assert (answered.status_code, answered["Location"]) == (302, "/")
    assert status(challenge_id) == "refused"
    assert "verlopen" in portal.get(path).content.decode()  # and a new code is offered


def test_no_certificate_is_explained_and_changes_nothing(path):
    portal, uzi = browser(), uzi_host()
    challenge_id = start(portal, path)
    page = uzi.get(f"/uzi/tls/{challenge_id}?next={path}")
    assert page.status_code == 200
    assert "Uw browser heeft geen certificaat gestuurd" in page.content.decode()
    answer = uzi.post(f"/uzi/tls/{challenge_id}", {"csrfmiddlewaretoken": csrf(uzi, page)})
    assert answer.status_code == 400
    assert status(challenge_id) == "pending"


def test_a_forged_proxy_header_from_an_untrusted_address_is_refused(
    path, hierarchy, card_key, settings
):
    """Anyone can send the header; only the configured proxy's is believed (GET and POST)."""
    settings.UZI_TRUSTED_PROXIES = ["10.9.8.7"]
    challenge_id = start(browser(), path)
    forged = Client(REMOTE_ADDR="127.0.0.1")
    header = {"HTTP_X_SSL_CLIENT_CERT": escaped(card(hierarchy, card_key))}
    assert forged.get(f"/uzi/tls/{challenge_id}", **header).status_code == 403
    assert forged.post(f"/uzi/tls/{challenge_id}", **header).status_code == 403
    assert status(challenge_id) == "pending"
    assert Challenge.objects.get(public_id=challenge_id).held == {}
    events = AuditEvent.objects.filter(action="card.forged_header")
    assert [(e.outcome, e.details["peer"]) for e in events] == [("denied", "127.0.0.1")] * 2


def test_an_unknown_challenge_is_a_clear_404(hierarchy, card_key):
    header = {"HTTP_X_SSL_CLIENT_CERT": escaped(card(hierarchy, card_key))}
    page = uzi_host().get("/uzi/tls/card_onbekend", **header)
    assert page.status_code == 404
    assert "Deze code is niet (meer) geldig" in page.content.decode()
