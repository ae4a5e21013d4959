"""The portal's look (issue 17, the foundation): the main pages of a visitor, a care worker, an
administrator and the operator at 1280×900 and 390×844, each checked by axe-core with the WCAG 2.2
AA rules (0 serious or critical), none scrolling sideways, every form control at least 44 px high;
the page header names the person and their organisation and marks the current page; on a phone the
menu folds behind a Menu button. Screenshots of every page are kept under var/screenshots/ (CI
artefacts)."""

from __future__ import annotations

import re

import pytest

from people import someone
from zorgsleutel.accounts.models import User
from zorgsleutel.core import audit
from zorgsleutel.organisations.models import Organisation

from .browsersession import logged_in
from .lookpages import SIZES, looked_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _header(page) -> dict:
    return {
        "who": page.locator(".zs-who").text_content() if page.locator(".zs-who").count() else "",
        "current": page.locator("nav.zs-nav a[aria-current=page]").all_inner_texts(),
    }


@pytest.fixture
def demo(db):
    organisation = Organisation.objects.create(
        name="Zorggroep Uiterlijk",
        kind=Organisation.CARE_PROVIDER,
        state="validated",
        ura="90000555",
    )
    administrator = someone(
        organisation, "administrator", email="ada@uiterlijk.nl", name="Ada Admin"
    )
    worker = someone(organisation, "member", email="wim@uiterlijk.nl", name="Wim Werker")
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )
    return administrator, worker, operator


@pytest.mark.parametrize("width", [1280, 390])
def test_a_visitor_s_pages(browser_page, width):
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    for path, name in [
        ("/", "home"),
        ("/inloggen", "login"),
        ("/wachtwoord-vergeten", "forgot-password"),
        ("/organisatie/voorbereiding", "prepare"),
        ("/organisatie/aanmelden", "apply"),
        ("/organisatie/gevalideerd", "validated"),
        ("/help", "help"),
    ]:
        page.goto(path)
        looked_at(page, f"visitor-{name}", width)
    # The step plan: one row from 40rem (the group's heading over steps 2 to 5), one step under
    # the other on a phone; the current step marked for screen readers.
    page.goto("/organisatie/aanmelden")
    steps = page.locator(".zs-steps li.zs-step")
    first, second, last = (steps.nth(n).bounding_box() for n in (0, 1, 5))
    group = page.locator(".zs-steps__group-title").bounding_box()
    if width == 390:
        assert first["y"] < group["y"] < second["y"] < last["y"]
    else:
        assert first["y"] == second["y"] == last["y"] and group["y"] < first["y"]
        assert group["x"] == second["x"]  # the heading stands over its first step
    current = page.locator(".zs-steps [aria-current=step]").text_content()
    assert " ".join(current.split()) == ("Stap 2 Aanvraagformulier invullen (huidige stap)")
    page.goto("/inloggen")
    assert _header(page) == {"who": "", "current": ["Inloggen"]}
    # A wrong login: the error in the form's error summary, an error alert read out at once.
    page.get_by_label("E-mailadres").fill("niemand@uiterlijk.nl")
    page.get_by_label("Wachtwoord").fill("fout-wachtwoord")
    page.get_by_role("button", name="Inloggen", exact=True).click()
    page.check()
    refused = page.locator("[data-error-summary].utrecht-alert--error [role=alert]")
    assert refused.locator("li").inner_text() == "Het e-mailadres of wachtwoord is niet juist."
    looked_at(page, "visitor-login-refused", width)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_administrator_s_pages(browser_page, demo, width):
    administrator, _, _ = demo
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    logged_in(page, administrator, acr="substantial")
    page.goto("/mijn")
    looked_at(page, "administrator-mine", width)
    assert _header(page) == {
        "who": "Ingelogd als Ada Admin, Zorggroep Uiterlijk",
        "current": ["Mijn Zorgsleutel"],
    }
    # Aan de slag: one item ticked (the organisation has a care worker), two to do.
    organisation = Organisation.objects.get(name="Zorggroep Uiterlijk")
    page.goto(f"/beheer/{organisation.public_id}/aan-de-slag")
    looked_at(page, "administrator-next-steps", width)
    assert page.locator(".zs-next-step--done h2").all_inner_texts() == [
        "Nodig uw zorgmedewerkers uit"
    ]
    assert _header(page)["current"] == ["Beheer"]
    page.goto("/beheer")
    page.wait_for_url(re.compile(r".*/beheer/[0-9a-f-]+$"))
    looked_at(page, "administrator-members", width)
    assert _header(page)["current"] == ["Beheer"]
    # At 390 px each row is a block, its cells one under the other; at 1280 a row is a line.
    name, email = (
        page.locator("tr.member").first.locator("td").nth(n).bounding_box() for n in (0, 1)
    )
    if width == 390:
        assert email["y"] >= name["y"] + name["height"] and email["x"] == name["x"]
    else:
        assert email["y"] == name["y"] and email["x"] >= name["x"] + name["width"]
    # Blokkeren is a danger button: our theme's red (rood-500, #a01d23) on white.
    block = page.get_by_role("link", name="Blokkeren — wim@uiterlijk.nl")
    assert block.evaluate("e => getComputedStyle(e).color") == "rgb(160, 29, 35)"
    # It asks first: a page naming the person and what blocking does, a red button and Terug.
    block.click()
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Wim Werker blokkeren in Zorggroep Uiterlijk?"
    )
    confirm = page.locator("main").get_by_role("button", name="Blokkeren", exact=True)
    assert confirm.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(160, 29, 35)"
    assert page.locator("main").get_by_role("link", name="Terug").is_visible()
    looked_at(page, "administrator-confirm-block", width)
    # A done action's message: a success alert with its icon, read out politely (role status),
    # naming the person and the organisation; their row is marked on the list.
    confirm.click()
    page.check()
    done = page.locator(".messages .utrecht-alert")
    assert done.get_attribute("class") == "utrecht-alert utrecht-alert--ok"
    assert done.get_attribute("role") == "status"
    assert done.locator("p").text_content() == (
        "Gelukt: Wim Werker is geblokkeerd in Zorggroep Uiterlijk."
    )
    assert done.locator(".zs-alert-icon--success").is_visible()
    marked = page.locator("tr[aria-current=true]")
    assert marked.get_attribute("data-email") == "wim@uiterlijk.nl"
    assert marked.locator("td").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    ) != page.locator("tr.member:not([aria-current])").first.locator("td").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    looked_at(page, "administrator-member-blocked", width)
    page.get_by_role("link", name="Auditlog").click()
    # The log in words: the event as a sentence with names, its outcome as a badge in text.
    blocked = page.locator("tr.event").first
    assert blocked.locator(".zs-audit-sentence").inner_text() == (
        "Ada Admin heeft Wim Werker geblokkeerd"
    )
    assert blocked.locator(".utrecht-status-badge").inner_text() == "Gelukt"
    looked_at(page, "administrator-audit", width)
    # The filter's fields side by side with room between them (site.css's .search), never
    # nlds.css's block form with each label touching the control above it.
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('form.search')).display"
            " + ' ' + getComputedStyle(document.querySelector('form.search')).rowGap"
        )
        == "flex 12px"
    )
    page.go_back()
    page.get_by_role("link", name="Nieuwe gebruiker").click()
    looked_at(page, "administrator-new-user", width)
    # Nothing filled in: every field's error above its control, with the id aria-describedby names.
    page.get_by_role("button", name="Opslaan").click()
    page.check()
    name = page.get_by_label("Naam", exact=True)
    assert name.get_attribute("aria-describedby") == "id_name_error"
    assert page.locator("#id_name_error").inner_text() == "Vul de naam van de gebruiker in."
    above = page.evaluate(
        "document.getElementById('id_name_error').getBoundingClientRect().bottom"
        " <= document.getElementById('id_name').getBoundingClientRect().top"
    )
    assert above is True
    looked_at(page, "administrator-new-user-errors", width)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_care_worker_s_pages_and_the_menu(browser_page, demo, width):
    _, worker, _ = demo
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    logged_in(page, worker, acr="low")
    page.goto("/mijn")
    looked_at(page, "worker-mine", width)
    assert _header(page)["who"] == "Ingelogd als Wim Werker, Zorggroep Uiterlijk"
    menu_button = page.get_by_role("button", name="Menu")
    main_menu = page.get_by_role("navigation", name="Hoofdmenu")
    language = page.get_by_role("button", name="English")
    if width == 390:
        assert menu_button.is_visible() and not main_menu.is_visible() and not language.is_visible()
        menu_button.click()
        assert menu_button.get_attribute("aria-expanded") == "true"
        assert main_menu.is_visible() and language.is_visible()
        looked_at(page, "worker-menu-open", width)
    else:
        assert not menu_button.is_visible() and main_menu.is_visible()
    # The language switch comes after the main menu, for keyboards and screen readers alike.
    after = main_menu.evaluate(
        "(nav, button) =>"
        " !!(nav.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING)",
        language.element_handle(),
    )
    assert after is True
    page.goto("/mijn/apps")
    looked_at(page, "worker-apps", width)
    # A page that is not theirs: the styled 403 page, in the portal's header and footer.
    assert page.goto("/operator/").status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Geen toegang"
    looked_at(page, "worker-403", width)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_operator_s_pages(browser_page, demo, width):
    administrator, worker, operator = demo
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    logged_in(page, operator, acr="substantial")
    # Events for the platform log to show, one of each outcome (axe checks each badge).
    organisation = administrator.memberships.get().organisation
    audit.record("member.blocked", actor=administrator, organisation=organisation, target=worker)
    audit.record(
        "login.code_failed",
        actor=worker,
        organisation=organisation,
        target=worker,
        outcome=audit.FAILURE,
        details={"result": "wrong"},
    )
    audit.record(
        "permission.denied",
        actor=worker,
        organisation=organisation,
        outcome=audit.DENIED,
        details={"action": "members.block", "reason": "forbidden"},
    )
    for path, name in [
        ("/operator/", "applications"),
        ("/operator/organisaties", "organisations"),
        ("/operator/audit", "audit"),
    ]:
        page.goto(path)
        looked_at(page, f"operator-{name}", width)
        assert _header(page) == {
            "who": "Ingelogd als Olga Operator, Operator",
            "current": ["Operatorconsole"],
        }
    # The platform log in words: each outcome a badge with its word, newest first.
    assert page.locator("tr.event .utrecht-status-badge").all_inner_texts() == [
        "Geweigerd",
        "Mislukt",
        "Gelukt",
    ]
    assert page.locator("tr.event .zs-audit-sentence").all_inner_texts() == [
        "Wim Werker probeerde iemand te blokkeren; geweigerd: niet toegestaan",
        "Wim Werker heeft een sms-code ingevuld die niet werkte: onjuiste code",
        "Ada Admin heeft Wim Werker geblokkeerd",
    ]
