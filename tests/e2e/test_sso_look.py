"""Single sign-on's pages in a browser (docs/oidc.md), as tests/e2e/test_look.py looks at the
others: the Operatorconsole's registration from the empty form to the secret and the deletion's
question, and a person's choice of organisation and refusal, at 1280 and 390 px, axe-core's
WCAG 2.2 AA rules, no sideways scrolling, 44 px controls."""

from __future__ import annotations

import pytest

from people import someone
from sso import authorize_url, register
from zorgsleutel.accounts.models import User
from zorgsleutel.organisations.models import Organisation

from .browsersession import logged_in
from .lookpages import SIZES, looked_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def places(db, settings):
    settings.SITE_URL = "https://zorgsleutel.test"
    care = Organisation.objects.create(
        name="Zorggroep Uiterlijk", kind=Organisation.CARE_PROVIDER, state="validated",
        ura="90000555",
    )  # fmt: skip
    business = Organisation.objects.create(
        name="Bedrijf Uiterlijk BV", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )
    return care, business, operator


@pytest.mark.parametrize("width", [1280, 390])
def test_the_operator_registers_and_deletes_an_application(browser_page, places, width):
    _care, _business, operator = places
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    logged_in(page, operator, acr="substantial")
    page.goto("/operator/single-sign-on")
    looked_at(page, "sso-clients-empty", width)
    page.get_by_role("link", name="Applicatie registreren").click()
    page.get_by_role("button", name="Registreren").click()
    assert page.title().startswith("Fout: ")
    looked_at(page, "sso-register-errors", width)
    page.get_by_label("Naam", exact=True).fill("Declaratieportaal")
    page.get_by_label("Redirect-URI's").fill("https://declaraties.example.nl/oidc/callback")
    page.get_by_label("Zorggroep Uiterlijk").check()
    page.get_by_label("substantieel: de Zorgsleutel-app").check()
    page.get_by_role("button", name="Registreren").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Declaratieportaal is geregistreerd"
    assert len(page.locator("#client-secret").inner_text()) == 43
    looked_at(page, "sso-registered", width)
    page.get_by_role("link", name="Naar de applicatie").click()
    looked_at(page, "sso-client", width)
    page.get_by_role("button", name="Declaratieportaal verwijderen").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "De applicatie Declaratieportaal verwijderen?"
    looked_at(page, "sso-delete-confirm", width)
    page.get_by_role("button", name="Declaratieportaal verwijderen").click()
    assert "De applicatie Declaratieportaal is verwijderd." in page.locator("main").inner_text()
    looked_at(page, "sso-clients-after-delete", width)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_person_chooses_an_organisation_or_is_refused(browser_page, places, width):
    care, business, operator = places
    both = register(operator, [care, business], name="Declaratieportaal")
    only_care = register(operator, [care], name="Labviewer")
    tim = someone(business, "member", email="tim@uiterlijk.nl", name="Tim Twee")
    from zorgsleutel.accounts.models import Membership

    Membership.objects.create(user=tim, organisation=care, role="member")
    Membership.objects.filter(user=tim).update(state="active")
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    logged_in(page, tim, acr="low")
    page.goto(authorize_url(both.client_id).url)
    assert page.get_by_role("heading", level=1).inner_text() == "Inloggen bij Declaratieportaal"
    looked_at(page, "sso-choose", width)
    page.get_by_role("button", name="Verder").click()  # nothing chosen
    looked_at(page, "sso-choose-error", width)

    Membership.objects.filter(user=tim, organisation=care).update(state="blocked")
    response = page.goto(authorize_url(only_care.client_id).url)
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Geen toegang"
    looked_at(page, "sso-refused", width)


def _logo() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (96, 96), (0, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_person_consents_then_withdraws_it(browser_page, places, width):
    """The consent page (with the application's logo and address), "Toestaan" reaching the
    application (CSP form-action lets the answer's redirect through), the new-scope page,
    Gekoppelde applicaties, the withdrawal's question and the list after it."""
    care, _business, operator = places
    lab = register(operator, [care], name="Labviewer", url="https://lab.example.nl/", logo=_logo())
    mira = someone(care, "member", email="mira@uiterlijk.nl", name="Mira Medewerker")
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    reached = []
    page.route(
        "https://rp.example.nl/**",
        lambda route: (reached.append(route.request.url), route.fulfill(
            status=200, content_type="text/html", body="<title>RP</title><h1>RP</h1>"))[1],
    )  # fmt: skip
    logged_in(page, mira, acr="low")
    page.goto(authorize_url(lab.client_id, scope="openid").url)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Labviewer toestaan uw gegevens te ontvangen?"
    assert page.get_by_role("img", name="Logo van Labviewer").is_visible()
    looked_at(page, "sso-consent", width)
    page.get_by_role("button", name="Toestaan").click()
    page.wait_for_url("https://rp.example.nl/**")
    assert "code=" in reached[0] and "iss=https" in reached[0]

    page.goto(authorize_url(lab.client_id, scope="openid profile email").url)
    assert page.get_by_role("heading", level=2).inner_text() == "Labviewer vraagt nu ook"
    looked_at(page, "sso-consent-more", width)
    page.get_by_role("button", name="Weigeren").click()
    page.wait_for_url("https://rp.example.nl/**")
    assert "error=access_denied" in reached[1]

    page.goto("/mijn")
    page.get_by_role("link", name="Gekoppelde applicaties").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Gekoppelde applicaties"
    looked_at(page, "sso-linked", width)
    page.get_by_role("button", name="Intrekken — Labviewer").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Uw toestemming voor Labviewer intrekken?"
    looked_at(page, "sso-withdraw-confirm", width)
    page.get_by_role("button", name="Toestemming intrekken").click()
    assert "Uw toestemming voor Labviewer is ingetrokken." in page.locator("main").inner_text()
    looked_at(page, "sso-linked-empty", width)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_administrator_registers_and_deletes_the_organisations_application(
    browser_page, places, width
):
    """Beheer → Applicaties (single sign-on): the list with an operator's application, the
    form's errors, the secret once, the own application's page and its deletion's question;
    the operator's application's page, which only shows it."""
    care, business, operator = places
    register(operator, [care, business], name="Labviewer")
    anna = someone(care, "administrator", email="anna@uiterlijk.nl", name="Anna Admin")
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    logged_in(page, anna, acr="substantial")
    page.goto(f"/beheer/{care.public_id}")
    page.get_by_role("link", name="Applicaties (single sign-on)").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Applicaties (single sign-on) — Zorggroep Uiterlijk"
    looked_at(page, "sso-own-clients", width)
    page.get_by_role("link", name="Labviewer").click()
    assert page.locator("#registered-by").inner_text() == "de operators van Zorgsleutel"
    looked_at(page, "sso-own-client-operators", width)
    page.get_by_role("link", name="Terug naar de applicaties").click()
    page.get_by_role("link", name="Applicatie registreren").click()
    page.get_by_role("button", name="Registreren").click()
    assert page.title().startswith("Fout: ")
    looked_at(page, "sso-own-register-errors", width)
    page.get_by_label("Naam", exact=True).fill("Roosterplanner")
    page.get_by_label("Redirect-URI's").fill("https://rooster.example.nl/oidc/callback")
    page.get_by_label("substantieel: de Zorgsleutel-app").check()
    page.get_by_role("button", name="Registreren").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Roosterplanner is geregistreerd"
    assert len(page.locator("#client-secret").inner_text()) == 43
    looked_at(page, "sso-own-registered", width)
    page.get_by_role("link", name="Naar de applicatie").click()
    assert page.locator("#registered-by").inner_text() == "Anna Admin"
    looked_at(page, "sso-own-client", width)
    page.get_by_role("button", name="Roosterplanner verwijderen").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "De applicatie Roosterplanner verwijderen?"
    looked_at(page, "sso-own-delete-confirm", width)
    page.get_by_role("button", name="Roosterplanner verwijderen").click()
    assert "De applicatie Roosterplanner is verwijderd." in page.locator("main").inner_text()
    looked_at(page, "sso-own-clients-after-delete", width)
    assert page.get_by_role("link", name="Labviewer").is_visible()  # the operators' stays


@pytest.mark.parametrize("width", [1280, 390])
def test_an_application_asks_to_log_out(browser_page, places, width):
    """/oidc/logout without a hint of this session asks "Uitloggen bij Zorgsleutel?"; its
    "Uitloggen" reaches the application's registered post-logout URI with the state (CSP
    form-action lets the answer's redirect through), and the portal then asks to log in."""
    from urllib.parse import urlencode

    from sso import AFTER_LOGOUT, app_with_logout

    care, _business, operator = places
    lab = app_with_logout(operator, [care], "Labviewer")
    mira = someone(care, "member", email="mira@uiterlijk.nl", name="Mira Medewerker")
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    reached = []
    page.route(
        "https://rp.example.nl/**",
        lambda route: (reached.append(route.request.url), route.fulfill(
            status=200, content_type="text/html", body="<title>RP</title><h1>RP</h1>"))[1],
    )  # fmt: skip
    logged_in(page, mira, acr="low")
    asked = {"client_id": lab.client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s1"}
    page.goto("/oidc/logout?" + urlencode(asked))
    assert page.get_by_role("heading", level=1).inner_text() == "Uitloggen bij Zorgsleutel?"
    assert "Labviewer vraagt om u uit te loggen." in page.locator("main").inner_text()
    looked_at(page, "sso-logout-confirm", width)
    page.locator("main").get_by_role("button", name="Uitloggen").click()
    page.wait_for_url("https://rp.example.nl/**")
    assert reached == [AFTER_LOGOUT + "?state=s1"]
    page.goto("/mijn")
    assert page.get_by_role("heading", level=1).inner_text() == "Inloggen"
