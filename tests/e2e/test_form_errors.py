"""Forms that help, in a real browser (issue 17): a form sent back with errors opens with focus on
its error summary (errors.js), the page title starts "Fout:", each of the summary's links moves
focus to its field with the field's label in view, and the error state passes axe (WCAG 2.2 AA)
at 1280 and 390 px without sideways scrolling. Screenshots under var/screenshots/."""

from __future__ import annotations

import pytest

from .lookpages import SIZES, looked_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_error_summary_takes_focus_and_its_links_reach_the_fields(browser_page, width):
    page = browser_page()
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    page.goto("/organisatie/aanmelden")
    page.get_by_label("Naam van de organisatie").fill("Huisartsenpraktijk De Linde")
    page.get_by_label("Postcode").fill("123 AB")
    page.get_by_role("button", name="Aanvraag indienen").click()
    page.wait_for_load_state("load")
    assert page.title() == "Fout: Organisatie aanmelden · Zorgsleutel"
    summary = page.locator("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')") is True
    assert summary.get_by_role("heading", level=2).inner_text() == (
        "Er zijn 9 fouten in het formulier"
    )
    assert summary.locator("[role=alert]").count() == 1
    looked_at(page, "visitor-apply-errors", width)
    # A link moves focus to its field and brings the field's label into view, above it.
    summary.get_by_role("link", name="Een postcode ziet eruit als 1234 AB.").click()
    assert page.evaluate("document.activeElement.id") == "id_postal_code"
    label = page.locator("label[for=id_postal_code]").bounding_box()
    control = page.locator("#id_postal_code").bounding_box()
    assert 0 <= label["y"] < control["y"] < SIZES[width]
    # The declaration is a checkbox in its own fieldset: its link reaches the box itself.
    summary.get_by_role("link", name="Bevestig dat u deze organisatie mag").click()
    assert page.evaluate("document.activeElement.id") == "id_declaration"
    assert page.evaluate("document.activeElement.type") == "checkbox"
