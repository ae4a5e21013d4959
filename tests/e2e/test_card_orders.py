"""Seed 003's webshop step in a browser ("Lege ZORG-ID Smartcards zijn aan te vragen via deze
webshop"): the administrator orders blank cards, an operator ships them with their serial
numbers, the administrator reads the serials; a second order is cancelled after being asked.
Every page is axe-checked, at 1280 and at 390 px wide."""

from __future__ import annotations

import pytest

from people import someone
from zorgsleutel.accounts.models import User
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards.models import BlankCard, CardOrder

from .browsersession import logged_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> None:
    """Nothing visible in the page's content sticks out sideways (the site header is the
    layout's)."""
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => !e.closest('.visually-hidden,"
        " table.stack thead') && e.getBoundingClientRect().right > window.innerWidth)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert wide == []


@pytest.mark.parametrize("width", [1280, 390])
def test_order_ship_and_cancel_blank_cards(browser_page, settings, width):
    settings.OPERATOR_EMAIL = "operators@zorgsleutel.test"
    organisation = Organisation.objects.create(
        name="Zorggroep Webshop", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000444"
    )
    administrator = someone(organisation, "administrator", email="admin@webshop.nl", name="Ada")
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Olga", state=User.ACTIVE, is_operator=True
    )

    ada = browser_page()
    ada.set_viewport_size({"width": width, "height": 900})
    logged_in(ada, administrator, acr="substantial")
    ada.goto("/beheer/smartcards-bestellen")  # her one organisation's page
    assert ada.get_by_role("heading", level=1).inner_text() == (
        "Smartcards bestellen — Zorggroep Webshop"
    )
    _fits(ada)
    ada.get_by_label("Aantal lege smartcards").fill("3")
    ada.get_by_label("Afleveradres").fill("Zorggroep Webshop\nt.a.v. Ada\nMarkt 1\n1234 AB Stad")
    ada.get_by_role("button", name="Bestellen").click()
    ada.check()
    order = CardOrder.objects.get()
    assert f"Uw bestelling {order.public_id} van 3 lege smartcards is geplaatst." in (
        ada.locator(".messages").inner_text()
    )
    assert "besteld" in ada.locator(f'tr[data-order="{order.public_id}"]').inner_text()
    _fits(ada)

    olga = browser_page()
    olga.set_viewport_size({"width": width, "height": 900})
    logged_in(olga, operator, acr="substantial")
    olga.goto("/operator")
    olga.get_by_role("link", name="Smartcardbestellingen").click()
    olga.check()
    _fits(olga)
    olga.get_by_role("link", name=order.public_id).click()
    olga.check()
    _fits(olga)
    olga.get_by_label("Serienummers van de kaarten").fill("zs-0001\nzs-0002")
    olga.get_by_role("button", name="3 kaarten versturen").click()
    olga.check()
    assert "Deze bestelling is voor 3 kaarten, en u gaf 2 serienummers op." in olga.content()
    olga.get_by_label("Serienummers van de kaarten").fill("zs-0001\nzs-0002\nzs-0003")
    olga.get_by_role("button", name="3 kaarten versturen").click()
    olga.check()
    assert "verstuurd op" in olga.locator("#order-state").inner_text()
    assert list(BlankCard.objects.order_by("serial").values_list("serial", flat=True)) == [
        "ZS-0001",
        "ZS-0002",
        "ZS-0003",
    ]

    ada.goto("/beheer/smartcards-bestellen")
    row = ada.locator(f'tr[data-order="{order.public_id}"]')
    row.get_by_text("3 serienummers").click()  # the details open
    assert "ZS-0003" in row.inner_text()
    _fits(ada)

    # A second order, cancelled: the page asks first and names it.
    ada.get_by_label("Aantal lege smartcards").fill("1")
    ada.get_by_label("Afleveradres").fill("Markt 1\n1234 AB Stad")
    ada.get_by_role("button", name="Bestellen").click()
    second = CardOrder.objects.exclude(pk=order.pk).get()
    ada.get_by_role("link", name=f"Bestelling annuleren {second.public_id}").click()
    ada.check()
    assert f"Bestelling {second.public_id} van 1 lege smartcard annuleren?" in ada.content()
    ada.get_by_role("button", name="Bestelling annuleren").click()
    ada.check()
    assert f"Bestelling {second.public_id} is geannuleerd." in ada.locator(".messages").inner_text()
    second.refresh_from_db()
    assert second.state == "cancelled"
    _fits(ada)
