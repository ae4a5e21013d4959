"""Where a login lands (authn/landing.py, policies.landing): back on the protected page it
started from (`?next=`, a path on this site only), else the operator on the Operatorconsole, an
administrator of an organisation with nobody else in it yet on its Aan de slag, and everyone else
on Mijn Zorgsleutel, as before. Logged in as a person does: password and SMS code, or the app."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.test import Client

from people import PASSWORD, someone
from support import shows_code_page
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as phone
from zorgsleutel.mobileapp import enrolment
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _throttles():
    cache.clear()  # login throttles and rate limits live in the cache
    yield
    cache.clear()


@pytest.fixture
def practice(db):
    """A care provider just validated: its administrator is the only one in it."""
    return Organisation.objects.create(
        name="Praktijk Nieuw", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000444"
    )


@pytest.fixture
def established(db):
    return Organisation.objects.create(
        name="Zorggroep Oud", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000445"
    )


@pytest.fixture
def with_phone(vault_service, sms_code, fresh_number):
    """`with_phone(user, last_two)`: the person gets a verified mobile number."""

    def give(user, last_two: str):
        sent = vault_service.enrol(phone=fresh_number(last_two=last_two))
        vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
        user.phone_enrolment = sent.enrolment
        user.save()
        return f"06 •• •• •• {last_two}"

    return give


@pytest.fixture
def worker(established, with_phone):
    user = someone(established, "member", email="wim@oud.nl", name="Wim Werker")
    return user, with_phone(user, "84")


@pytest.fixture
def administrator(practice, established, with_phone):
    user = someone(practice, "administrator", email="ada@nieuw.nl", name="Ada Admin")
    return user, with_phone(user, "85")


@pytest.fixture
def operator(with_phone):
    user = User.objects.create(
        email="olga@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )
    user.set_password(PASSWORD)
    user.save()
    return user, with_phone(user, "86")


def _log_in(client, sms_code, user, hint):
    answer = client.post("/inloggen", {"email": user.email, "password": PASSWORD})
    assert shows_code_page(answer), answer.content.decode()[:2000]
    return client.post("/inloggen/code", {"code": sms_code(hint)})


def _lands(response) -> str:
    assert response.status_code == 302
    return response["Location"]


# --- By role ------------------------------------------------------------------------------------


def test_a_care_worker_lands_on_mijn_zorgsleutel_as_before(client, sms_code, worker):
    assert _lands(_log_in(client, sms_code, *worker)) == "/mijn"


def test_the_operator_lands_on_the_operatorconsole(client, sms_code, operator):
    assert _lands(_log_in(client, sms_code, *operator)) == "/operator/"


def test_a_new_administrator_lands_on_aan_de_slag_until_someone_else_is_in(
    client, sms_code, administrator, practice
):
    user, hint = administrator
    assert _lands(_log_in(client, sms_code, user, hint)) == (
        f"/beheer/{practice.public_id}/aan-de-slag"
    )
    # A manager appointed (invited is enough): from then on Mijn Zorgsleutel, as for everyone.
    someone(practice, "manager", email="bea@nieuw.nl", name="Bea Beheer")
    again = Client()
    assert _lands(_log_in(again, sms_code, user, hint)) == "/mijn"


def test_an_administrator_of_an_organisation_with_care_workers_lands_on_mijn(
    client, sms_code, administrator, practice
):
    someone(practice, "member", email="wim@nieuw.nl")
    assert _lands(_log_in(client, sms_code, *administrator)) == "/mijn"


def test_a_suspended_organisation_s_administrator_is_not_sent_there(
    client, sms_code, administrator, practice, established
):
    from zorgsleutel.core import clock

    user, hint = administrator
    Membership.objects.create(user=user, organisation=established, role="member")
    Organisation.objects.filter(pk=practice.pk).update(suspended_at=clock.now())
    assert _lands(_log_in(client, sms_code, user, hint)) == "/mijn"  # through the other one


# --- Back to the page the login started from ------------------------------------------------------


def test_a_protected_page_sends_to_the_login_and_the_login_returns_there(
    client, sms_code, administrator, practice
):
    user, hint = administrator
    audit = f"/beheer/{practice.public_id}/audit?van=01-01-2026"
    sent = client.get(audit)
    login = f"/inloggen?next=%2Fbeheer%2F{practice.public_id}%2Faudit%3Fvan%3D01-01-2026"
    assert _lands(sent) == login
    page = client.get(login)
    # The other means' links carry it on.
    assert f'href="/inloggen/app?next=/beheer/{practice.public_id}/audit%3Fvan%3D01-01-2026"' in (
        page.content.decode()
    )
    assert _lands(_log_in(client, sms_code, user, hint)) == audit  # not Aan de slag
    # Used once: the next login lands by role again.
    client.post("/uitloggen")
    assert _lands(_log_in(client, sms_code, user, hint)) == (
        f"/beheer/{practice.public_id}/aan-de-slag"
    )


def test_one_s_own_pages_send_to_the_login_and_back(client):
    assert _lands(client.get("/mijn/apps")) == "/inloggen?next=%2Fmijn%2Fapps"
    assert _lands(client.get("/mijn/smartcards")) == "/inloggen?next=%2Fmijn%2Fsmartcards"
    assert _lands(client.post("/mijn/smartcards/aanmaken")) == "/inloggen"  # a POST: no next


def test_the_operator_returns_to_the_console_page_they_asked_for(client, sms_code, operator):
    client.get("/inloggen?next=/operator/organisaties")
    assert _lands(_log_in(client, sms_code, *operator)) == "/operator/organisaties"


def test_a_login_page_without_next_forgets_an_earlier_one(client, sms_code, worker):
    client.get("/inloggen?next=/mijn/apps")
    client.get("/inloggen")
    assert _lands(_log_in(client, sms_code, *worker)) == "/mijn"


@pytest.mark.parametrize(
    "wanted",
    [
        "https://evil.example/mijn",
        "//evil.example/mijn",
        "/\\evil.example/mijn",
        "///evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example/mijn",
        "/mijn\n",
        "/inloggen/app",
        "/uitloggen",
    ],
)
@pytest.mark.parametrize("login_page", ["/inloggen", "/inloggen/app", "/inloggen/smartcard"])
def test_no_open_redirect(client, wanted, login_page):
    """No login page keeps a path that leaves the site (or loops), nor links on with it."""
    page = client.get(login_page, {"next": wanted})
    assert page.status_code == 200
    assert "zs_next" not in client.session
    assert "next=" not in page.content.decode().split("<main", 1)[1]


def test_a_login_after_a_refused_next_lands_by_role(client, sms_code, worker):
    client.get("/inloggen", {"next": "//evil.example/mijn"})
    assert _lands(_log_in(client, sms_code, *worker)) == "/mijn"


def test_a_logged_in_visitor_of_the_login_page_goes_where_they_would_land(client, sms_code, worker):
    _log_in(client, sms_code, *worker)
    assert _lands(client.get("/inloggen")) == "/mijn"
    assert _lands(client.get("/inloggen?next=/mijn/apps")) == "/mijn/apps"
    assert _lands(client.get("/inloggen?next=https://evil.example/")) == "/mijn"


# --- The app's login ------------------------------------------------------------------------------


@pytest.fixture
def server(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


def _phone_of(user, tmp_path):
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    state = phone.State(tmp_path / f"{user.pk}.json")
    phone.enrol(started.url, state=state, pin="123456", yes=True, name="Tel", out=io.StringIO())
    return state


def _app_login(browser, state, path="/inloggen/app") -> dict:
    page = browser.get(path)
    phone.login(page.context["url"], state=state, pin="123456", yes=True, out=io.StringIO())
    return browser.get(f"/wachten/{page.context['challenge_id']}").json()


@pytest.mark.django_db(transaction=True)
def test_with_the_app_a_new_administrator_lands_on_aan_de_slag_or_the_page_asked(
    server, practice, tmp_path
):
    ada = someone(practice, "administrator", email="ada@nieuw.nl", name="Ada Admin")
    state = _phone_of(ada, tmp_path)
    assert _app_login(Client(), state) == {
        "status": "ok",
        "next": f"/beheer/{practice.public_id}/aan-de-slag",
    }
    cache.clear()
    browser = Client()
    assert _lands(browser.get(f"/beheer/{practice.public_id}")) == (
        f"/inloggen?next=%2Fbeheer%2F{practice.public_id}"
    )
    # From the password page to the app's, the page to return to travels along.
    assert _app_login(browser, state, f"/inloggen/app?next=/beheer/{practice.public_id}") == {
        "status": "ok",
        "next": f"/beheer/{practice.public_id}",
    }
    cache.clear()
    assert _app_login(Client(), state, "/inloggen/app?next=//evil.example/") == {
        "status": "ok",
        "next": f"/beheer/{practice.public_id}/aan-de-slag",
    }
