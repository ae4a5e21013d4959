"""The pages of blank-card orders: Beheer → Smartcards bestellen for an organisation's
administrators, and the queue in the Operatorconsole. Wiring, permissions (the other
organisation's column), and bad input that shows a clear message and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from card_orders import ADDRESS
from confirmpages import DANGER, confirmation, messages_of
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.smartcards import orders
from zorgsleutel.smartcards.models import BlankCard, CardOrder

pytestmark = pytest.mark.django_db

FORBIDDEN = "U mag dit niet doen."
NOT_FOUND = "Deze bestelling bestaat niet (of niet hier)."


def _page(organisation) -> str:
    return f"/beheer/{organisation.public_id}/smartcards-bestellen"


# The cancel page's own POST (its confirmation; docs/look.md, "Actions").
CONFIRMED = {"bevestigd": "ja"}


def _cancel_page(organisation, order) -> str:
    return f"{_page(organisation)}/{order.public_id}/annuleren"


def _html(response) -> str:
    return response.content.decode()


def _listed(html: str) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', html)


def _order(shop, quantity: int = 3) -> CardOrder:
    order = orders.place_card_order(
        actor=shop.administrator, organisation=shop.own, quantity=quantity, delivery_address=ADDRESS
    )
    OutboxMail.objects.all().delete()
    return order


# --- Beheer → Smartcards bestellen -------------------------------------------------------------


def test_an_administrator_orders_on_the_page(client, login_as, shop):
    login_as(client, shop.administrator)
    page = client.get(_page(shop.own))
    assert page.status_code == 200
    assert "Smartcards bestellen — Zorggroep Oost" in _html(page)
    assert 'name="quantity"' in _html(page) and 'name="delivery_address"' in _html(page)
    assert "Nog geen bestellingen." in _html(page)
    response = client.post(_page(shop.own), {"quantity": " 12 ", "delivery_address": ADDRESS})
    assert (response.status_code, response["Location"]) == (302, _page(shop.own))
    order = CardOrder.objects.get()
    assert (order.organisation, order.quantity, order.delivery_address, order.state) == (
        shop.own,
        12,
        ADDRESS,
        "ordered",
    )
    html = _html(client.get(_page(shop.own)))
    assert (
        f"Uw bestelling {order.public_id} van 12 lege smartcards is geplaatst. U ontvangt een "
        "e-mail zodra ze verstuurd zijn." in html
    )
    assert _listed(html) == [order.public_id]
    assert "Dorpsstraat 1<br>1234 AB Oostdorp" in html
    assert f'href="{_cancel_page(shop.own, order)}"' in html
    assert list(OutboxMail.objects.values_list("to", "template")) == [
        ("operators@zorgsleutel.test", "card_order_placed")
    ]


@pytest.mark.parametrize(
    ("quantity", "address", "message"),
    [
        ("0", ADDRESS, "Bestel 1 tot en met 500 kaarten."),
        ("501", ADDRESS, "Bestel 1 tot en met 500 kaarten."),
        ("twaalf", ADDRESS, "Bestel 1 tot en met 500 kaarten."),
        (
            "99999999999",
            ADDRESS,
            "Zorg dat deze waarde niet meer dan 10 tekens bevat (het zijn er nu 11).",
        ),
        ("5", "", "Vul het adres in waar de kaarten bezorgd worden."),
        ("5", "a\n" * 9, "Een afleveradres heeft hoogstens 8 regels en 400 tekens."),
        (
            "5",
            "x" * 2001,
            "Zorg dat deze waarde niet meer dan 2000 tekens bevat (het zijn er nu 2001).",
        ),
    ],
)
def test_bad_input_shows_a_clear_message_and_orders_nothing(
    client, login_as, shop, quantity, address, message
):
    login_as(client, shop.administrator)
    response = client.post(_page(shop.own), {"quantity": quantity, "delivery_address": address})
    assert response.status_code == 200
    html = _html(response)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert not CardOrder.objects.exists()
    assert not OutboxMail.objects.exists()


# Each person of Zorggroep Oost, and the other organisation's administrator, on Zorggroep Oost's
# page: its administrators order and see its orders; nobody else sees or orders anything.
@pytest.mark.parametrize("who", ["manager", "member", "other_administrator", "operator"])
def test_nobody_else_sees_or_orders(client, login_as, shop, who):
    order = _order(shop)
    login_as(client, getattr(shop, who))
    page = client.get(_page(shop.own))
    assert page.status_code == 403
    assert FORBIDDEN in _html(page) and order.public_id not in _html(page)
    response = client.post(_page(shop.own), {"quantity": "5", "delivery_address": ADDRESS})
    assert response.status_code == 403
    assert list(CardOrder.objects.values_list("public_id", flat=True)) == [order.public_id]
    assert client.get(_cancel_page(shop.own, order)).status_code == 403
    assert client.post(_cancel_page(shop.own, order)).status_code == 403
    assert client.post(_cancel_page(shop.own, order), CONFIRMED).status_code == 403
    order.refresh_from_db()
    assert order.state == "ordered"
    assert not OutboxMail.objects.exists()
    denied = AuditEvent.objects.filter(action="permission.denied").values_list("details", flat=True)
    assert {d["action"] for d in denied} == {"smartcards.order"}


def test_the_other_organisations_administrator_reaches_only_its_own_orders(client, login_as, shop):
    ours = _order(shop)
    theirs = orders.place_card_order(
        actor=shop.other_administrator,
        organisation=shop.other,
        quantity=1,
        delivery_address="Zorggroep West\nWestweg 2\n4321 BA Westdorp",
    )
    login_as(client, shop.other_administrator)
    html = _html(client.get(_page(shop.other)))
    assert _listed(html) == [theirs.public_id]
    # Our order through their own page: not there.
    assert client.get(_cancel_page(shop.other, ours)).status_code == 404
    assert client.post(_cancel_page(shop.other, ours)).status_code == 404
    response = client.post(_cancel_page(shop.other, ours), CONFIRMED, follow=True)
    assert NOT_FOUND in _html(response)
    ours.refresh_from_db()
    assert ours.state == "ordered"


def test_a_business_customer_reads_why_it_cannot_order(client, login_as, shop):
    login_as(client, shop.business_administrator)
    page = client.get(_page(shop.business))
    assert page.status_code == 200
    refusal = (
        "Smartcards zijn er voor zorgaanbieders die met een UZI-pas zijn gevalideerd; een "
        "zakelijke klant kan ze niet bestellen."
    )
    assert refusal in _html(page)
    assert 'name="quantity"' not in _html(page)
    response = client.post(_page(shop.business), {"quantity": "5", "delivery_address": ADDRESS})
    assert response.status_code == 403 and refusal in _html(response)
    assert not CardOrder.objects.exists()


def test_the_administrator_cancels_after_being_asked(client, login_as, shop):
    order = _order(shop)
    login_as(client, shop.second_administrator)
    confirm = client.get(_cancel_page(shop.own, order))
    assert confirm.status_code == 200
    assert f"Bestelling {order.public_id} van 3 lege smartcards annuleren?" in _html(confirm)
    order.refresh_from_db()
    assert order.state == "ordered"  # asking changes nothing
    assert client.post(_cancel_page(shop.own, order)).status_code == 200  # nor does a bare POST
    order.refresh_from_db()
    assert order.state == "ordered"
    response = client.post(_cancel_page(shop.own, order), CONFIRMED)
    assert (response.status_code, response["Location"]) == (302, _page(shop.own))
    order.refresh_from_db()
    assert order.state == "cancelled"
    html = _html(client.get(_page(shop.own)))
    assert f"Bestelling {order.public_id} is geannuleerd." in html
    assert "geannuleerd op" in html and _cancel_page(shop.own, order) not in html
    response = client.post(_cancel_page(shop.own, order), CONFIRMED, follow=True)
    assert "Deze bestelling is geannuleerd." in _html(response)


def test_the_administrator_sees_the_serials_once_shipped(client, login_as, shop):
    order = _order(shop, quantity=2)
    orders.ship_card_order(actor=shop.operator, order_id=order.public_id, serials="zs-1, zs-2")
    login_as(client, shop.administrator)
    html = _html(client.get(_page(shop.own)))
    assert "2 serienummers" in html
    assert "<li><code>ZS-1</code></li><li><code>ZS-2</code></li>" in html
    assert _cancel_page(shop.own, order) not in html
    response = client.post(_cancel_page(shop.own, order), CONFIRMED, follow=True)
    assert "Deze bestelling is al verstuurd en kan niet meer worden geannuleerd." in _html(response)
    order.refresh_from_db()
    assert order.state == "shipped"


def test_beheer_leads_to_the_order_page(client, login_as, shop):
    login_as(client, shop.administrator)
    assert client.get("/beheer/smartcards-bestellen")["Location"] == _page(shop.own)
    Membership.objects.create(user=shop.administrator, organisation=shop.other, role="manager")
    Membership.objects.create(
        user=shop.administrator, organisation=shop.business, role="administrator"
    )
    index = _html(client.get("/beheer"))
    assert 'href="/beheer/smartcards-bestellen"' in index
    choice = _html(client.get("/beheer/smartcards-bestellen"))
    assert re.findall(r'href="(/beheer/[^"]+/smartcards-bestellen)"', choice) == [
        _page(shop.business),  # Bedrijf BV reads there why it cannot
        _page(shop.own),
    ]
    login_as(client, shop.manager)
    assert client.get("/beheer/smartcards-bestellen").status_code == 403


# --- Operatorconsole → Smartcard orders ------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_queue_shows_open_orders_first_oldest_first(client, login_as, shop):
    placed = []
    for hours, (actor, organisation) in enumerate(
        [
            (shop.administrator, shop.own),  # shipped below
            (shop.other_administrator, shop.other),
            (shop.administrator, shop.own),  # cancelled below
            (shop.administrator, shop.own),
        ]
    ):
        with clock.frozen(T0 + timedelta(hours=hours)):
            placed.append(
                orders.place_card_order(
                    actor=actor, organisation=organisation, quantity=1, delivery_address=ADDRESS
                ).public_id
            )
    shipped, west, cancelled, newest = placed
    orders.ship_card_order(actor=shop.operator, order_id=shipped, serials="Q-1")
    orders.cancel_card_order(actor=shop.administrator, organisation=shop.own, order_id=cancelled)
    login_as(client, shop.operator)
    queue = _html(client.get("/operator/smartcardbestellingen"))
    assert _listed(queue) == [west, newest]
    assert "te versturen (2)" in queue and "verstuurd (1)" in queue and "alle (4)" in queue
    assert _listed(_html(client.get("/operator/smartcardbestellingen?state="))) == [
        west,
        newest,
        shipped,
        cancelled,
    ]
    shipped_list = client.get("/operator/smartcardbestellingen?state=shipped")
    assert _listed(_html(shipped_list)) == [shipped]


@pytest.mark.parametrize("who", ["administrator", "manager", "other_administrator"])
def test_the_queue_is_for_operators_only(client, login_as, shop, who):
    order = _order(shop)
    login_as(client, getattr(shop, who))
    for response in (
        client.get("/operator/smartcardbestellingen"),
        client.get(f"/operator/smartcardbestellingen/{order.public_id}"),
        client.post(
            f"/operator/smartcardbestellingen/{order.public_id}/verzenden", {"serials": "A,B,C"}
        ),
        client.post(
            f"/operator/smartcardbestellingen/{order.public_id}/annuleren",
            {"reason": "Dubbele bestelling"},
        ),
    ):
        assert response.status_code == 403
        assert FORBIDDEN in _html(response)
    order.refresh_from_db()
    assert order.state == "ordered" and not BlankCard.objects.exists()
    denied = AuditEvent.objects.filter(action="permission.denied").values_list("details", flat=True)
    assert [d["action"] for d in denied] == ["card_orders.handle"] * 4


def test_an_operator_ships_on_the_page(client, login_as, shop):
    order = _order(shop)
    url = f"/operator/smartcardbestellingen/{order.public_id}"
    login_as(client, shop.operator)
    page = _html(client.get(url))
    assert "Dorpsstraat 1<br>1234 AB Oostdorp" in page and "3 kaarten versturen" in page
    typed = "ZS-1\nZS_2\nZS-3"
    response = client.post(f"{url}/verzenden", {"serials": typed})
    assert response.status_code == 200
    html = _html(response)
    assert (  # the field template is Jinja2's: a quote is escaped as &#34;
        "&#34;ZS_2&#34; is geen serienummer: gebruik 1 tot en met 32 letters, cijfers of "
        "streepjes." in html
    )
    assert ">\nZS-1\nZS_2\nZS-3</textarea>" in html  # what was typed stays
    assert not BlankCard.objects.exists()
    response = client.post(f"{url}/verzenden", {"serials": "zs-1, zs-2, zs-3"})
    assert (response.status_code, response["Location"]) == (302, url)
    html = _html(client.get(url))
    assert (
        f"Bestelling {order.public_id} is verstuurd; de portaaladministrators van de "
        "organisatie zijn "
        "gemaild." in html
    )
    assert "verstuurd op" in html and "<li><code>ZS-3</code></li>" in html
    assert 'action="/operator/smartcardbestellingen/' not in html  # no forms any more
    response = client.post(f"{url}/verzenden", {"serials": "ZS-4, ZS-5, ZS-6"}, follow=True)
    assert "Deze bestelling is al verstuurd." in _html(response)
    assert sorted(BlankCard.objects.values_list("serial", flat=True)) == ["ZS-1", "ZS-2", "ZS-3"]


def test_an_operator_cancels_on_the_page_with_a_reason(client, login_as, shop):
    order = _order(shop)
    url = f"/operator/smartcardbestellingen/{order.public_id}"
    login_as(client, shop.operator)
    response = client.post(f"{url}/annuleren", {"reason": "nee"})
    assert response.status_code == 200
    assert "Geef de organisatie een reden (5 tot en met 500 tekens)." in _html(response)
    order.refresh_from_db()
    assert order.state == "ordered"
    response = client.post(f"{url}/annuleren", {"reason": "Het adres bestaat niet.", **CONFIRMED})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
    response = client.post(f"{url}/verzenden", {"serials": "A,B,C"}, follow=True)
    assert "Deze bestelling is geannuleerd." in _html(response)
    assert not BlankCard.objects.exists()


def test_unknown_orders_and_odd_input_are_no_errors(client, login_as, shop):
    order = _order(shop)
    login_as(client, shop.operator)
    assert client.get("/operator/smartcardbestellingen/NIET-BEST").status_code == 404
    assert (
        client.post("/operator/smartcardbestellingen/NIET-BEST/verzenden", {"serials": "A"})
    ).status_code == 404
    assert client.get("/operator/smartcardbestellingen?state=weg&page=zz").status_code == 200
    response = client.post(
        f"/operator/smartcardbestellingen/{order.public_id}/verzenden", {"serials": "A" * 40001}
    )
    assert response.status_code == 200
    assert "Zorg dat deze waarde niet meer dan 40000 tekens bevat (het zijn er nu 40001)." in _html(
        response
    )
    login_as(client, shop.administrator)
    assert client.get(f"{_page(shop.own)}?page=-3").status_code == 200
    assert client.get(f"{_page(shop.own)}/NIET-BEST/annuleren").status_code == 404
    assert (
        client.get("/beheer/00000000-0000-0000-0000-000000000000/smartcards-bestellen").status_code
        == 404
    )
    order.refresh_from_db()
    assert order.state == "ordered" and not BlankCard.objects.exists()


def test_the_operator_cancels_after_being_asked(client, login_as, shop):
    """The console's Annuleren asks first, naming the order, its organisation and the reason
    its administrators read (issue 17, part 3); only that page's POST cancels and mails."""
    order = _order(shop)
    login_as(client, shop.operator)
    url = f"/operator/smartcardbestellingen/{order.public_id}/annuleren"
    events = AuditEvent.objects.count()
    asked = client.post(url, {"reason": "  Dubbele   bestelling "})
    assert confirmation(asked) == {
        "status": 200,
        "title": f"Bestelling {order.public_id} van Zorggroep Oost annuleren?",
        "consequences": [
            "De kaarten worden dan niet verstuurd, en de portaaladministrators van Zorggroep Oost "
            "krijgen deze reden per e-mail:",
            "Dubbele bestelling",
            "Dit kunt u niet ongedaan maken; de organisatie kan opnieuw bestellen.",
        ],
        "items": [],
        "warning": "",
        "button": (f"Bestelling {order.public_id} annuleren", DANGER),
        "carries": {"reason": "Dubbele bestelling", "bevestigd": "ja"},
        "csrf": True,
        "back": f"/operator/smartcardbestellingen/{order.public_id}",
    }
    order.refresh_from_db()
    assert order.state == "ordered"
    assert AuditEvent.objects.count() == events and not OutboxMail.objects.exists()
    # A reason the organisation may not be sent is not asked about: the order's page says why.
    short = client.post(url, {"reason": "nee"})
    assert "Geef de organisatie een reden (5 tot en met 500 tekens)." in _html(short)
    assert 'name="bevestigd"' not in _html(short)

    done = client.post(url, {"reason": "Dubbele bestelling", "bevestigd": "ja"}, follow=True)
    assert messages_of(done) == [
        f"Bestelling {order.public_id} is geannuleerd; de portaaladministrators van de organisatie "
        "zijn gemaild."
    ]
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert [e.action for e in AuditEvent.objects.filter(seq__gt=events)] == ["card_order.cancelled"]
    assert sorted(OutboxMail.objects.values_list("to", flat=True)) == [
        "admin2@oost.nl",
        "admin@oost.nl",
    ]


def test_only_an_operator_gets_either_step_of_the_console_s_cancel(client, login_as, shop):
    order = _order(shop)
    login_as(client, shop.administrator)
    url = f"/operator/smartcardbestellingen/{order.public_id}/annuleren"
    for form in ({"reason": "Dubbele bestelling"}, {"reason": "Dubbele bestelling", **CONFIRMED}):
        assert client.post(url, form).status_code == 403
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("forbidden", "card_orders.handle")
    ] * 2
    order.refresh_from_db()
    assert order.state == "ordered"
