"""Blank-card orders, seed 003's webshop step ("Lege ZORG-ID Smartcards zijn aan te vragen via
deze webshop"): an administrator of a validated care provider orders, the operators are mailed,
an operator ships with the cards' serial numbers or either side cancels before that, and a card
shipped to one organisation becomes a smartcard for that organisation only."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from django.utils import translation

from card_orders import ADDRESS
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.smartcards import orders
from zorgsleutel.smartcards.models import BlankCard, CardOrder, Smartcard

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _events(since: int) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(seq__gt=since)
        .order_by("seq")
        .values_list("action", "outcome", "organisation", "target", "details")
    )


def _nothing_changed(orders_before: list) -> None:
    assert list(CardOrder.objects.values_list("public_id", "state").order_by("pk")) == orders_before
    assert not BlankCard.objects.exists()
    assert not OutboxMail.objects.filter(template__startswith="card_order").exists()


def _order(shop, quantity: int = 3, address: str = ADDRESS) -> CardOrder:
    order = orders.place_card_order(
        actor=shop.administrator,
        organisation=shop.own,
        quantity=quantity,
        delivery_address=address,
    )
    OutboxMail.objects.all().delete()
    return order


# --- Ordering --------------------------------------------------------------------------------


def test_an_administrator_orders_and_the_operators_are_mailed(shop):
    since = _last_seq()
    with clock.frozen(AT):
        order = orders.place_card_order(
            actor=shop.administrator,
            organisation=shop.own,
            quantity="10",
            delivery_address="  Zorggroep Oost \n\n  t.a.v.   ICT-beheer\nDorpsstraat 1\n"
            "1234 AB   Oostdorp  \n",
        )
    order.refresh_from_db()
    assert (
        order.organisation,
        order.quantity,
        order.delivery_address,
        order.ordered_by,
        order.ordered_at,
        order.state,
        order.state_changed_at,
    ) == (shop.own, 10, ADDRESS, shop.administrator, AT, "ordered", AT)
    assert len(order.public_id) == 9 and order.public_id[4] == "-"
    assert _events(since) == [
        (
            "card_order.placed",
            "success",
            shop.own.audit_ref,
            f"cardorder:{order.public_id}",
            {"quantity": 10, "names": {shop.administrator.audit_ref: "admin@oost.nl"}},
        )
    ]
    mail = OutboxMail.objects.get()
    assert (mail.to, mail.template, mail.locale) == (
        "operators@zorgsleutel.test",
        "card_order_placed",
        "nl",
    )
    assert mail.subject == f"Smartcardbestelling {order.public_id}: 10 kaarten voor Zorggroep Oost"
    assert (
        f"http://127.0.0.1:8000/operator/smartcardbestellingen/{order.public_id}" in mail.body_text
    )
    for line in (
        "Organisatie: Zorggroep Oost (URA 90000301)",
        "Kaarten: 10",
        "Besteld door: Anna Admin <admin@oost.nl>",
        "Afleveradres:\nZorggroep Oost\nt.a.v. ICT-beheer\nDorpsstraat 1\n1234 AB Oostdorp",
    ):
        assert line in mail.body_text


def test_without_an_operator_address_every_active_operator_is_mailed(shop, settings):
    settings.OPERATOR_EMAIL = ""
    User.objects.create(
        email="ops2@zorgsleutel.test",
        name="Oscar",
        state=User.ACTIVE,
        is_operator=True,
        language="en",
    )
    User.objects.create(
        email="ops3@zorgsleutel.test", name="Otto", state=User.BLOCKED, is_operator=True
    )
    order = orders.place_card_order(
        actor=shop.administrator, organisation=shop.own, quantity=1, delivery_address=ADDRESS
    )
    reference = order.public_id
    mails = OutboxMail.objects.order_by("to").values_list("to", "locale", "subject")
    assert list(mails) == [
        (
            "operator@zorgsleutel.test",
            "nl",
            f"Smartcardbestelling {reference}: 1 kaart voor Zorggroep Oost",
        ),
        ("ops2@zorgsleutel.test", "en", f"Smartcard order {reference}: 1 card for Zorggroep Oost"),
    ]


@pytest.mark.parametrize("quantity", ["1", "500", 500, " 42 "])
def test_one_to_five_hundred_cards(shop, quantity):
    order = orders.place_card_order(
        actor=shop.administrator, organisation=shop.own, quantity=quantity, delivery_address=ADDRESS
    )
    assert CardOrder.objects.get().quantity == order.quantity == int(quantity)


@pytest.mark.parametrize("quantity", ["0", "501", 501, "-1", "tien", "1.5", "1e2", "５", True])
def test_any_other_quantity_is_refused_and_changes_nothing(shop, quantity):
    since = _last_seq()
    with pytest.raises(DomainError) as refused:
        orders.place_card_order(
            actor=shop.administrator,
            organisation=shop.own,
            quantity=quantity,
            delivery_address=ADDRESS,
        )
    assert (refused.value.code, refused.value.field) == ("invalid_quantity", "quantity")
    with translation.override("nl"):
        assert str(refused.value.message) == "Bestel 1 tot en met 500 kaarten."
    _nothing_changed([])
    assert _events(since) == []


def test_no_quantity_asks_for_one(shop):
    with pytest.raises(DomainError) as refused:
        orders.place_card_order(
            actor=shop.administrator, organisation=shop.own, quantity=" ", delivery_address=ADDRESS
        )
    assert (refused.value.code, refused.value.field) == ("quantity_required", "quantity")
    with translation.override("nl"):
        assert str(refused.value.message) == "Vul het aantal kaarten in."
    _nothing_changed([])


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("", "address_required"),
        ("  \n \t \n", "address_required"),
        ("\n".join(f"regel {n}" for n in range(9)), "address_too_long"),
        ("Dorpsstraat 1\n" + "x" * 387, "address_too_long"),
        ("Dorpsstraat 1\x00\n1234 AB Oostdorp", "invalid_address"),
        ("Dorpsstraat 1\x1b[31m\n1234 AB Oostdorp", "invalid_address"),
    ],
)
def test_a_delivery_address_is_required_and_sensible(shop, address, code):
    since = _last_seq()
    with pytest.raises(DomainError) as refused:
        orders.place_card_order(
            actor=shop.administrator, organisation=shop.own, quantity=5, delivery_address=address
        )
    assert (refused.value.code, refused.value.field) == (code, "delivery_address")
    _nothing_changed([])
    assert _events(since) == []


def test_eight_lines_and_four_hundred_characters_fit(shop):
    address = "\n".join(["Dorpsstraat 1", *(f"regel {n}" for n in range(6)), "y" * 338])
    assert (len(address), address.count("\n")) == (400, 7)
    order = orders.place_card_order(
        actor=shop.administrator, organisation=shop.own, quantity=5, delivery_address=address
    )
    assert order.delivery_address == address


# Who may order for Zorggroep Oost (seed 003: the portal administrator orders): Y, or the
# refusal's code. The other organisation's administrator is the "other organisation" column.
ORDERING = {
    "administrator": "Y",
    "manager": "forbidden",
    "member": "forbidden",
    "other_administrator": "forbidden",
    "operator": "forbidden",
}


@pytest.mark.parametrize(("who", "expected"), ORDERING.items())
def test_only_the_organisations_administrator_orders(shop, who, expected):
    actor = getattr(shop, who)
    since = _last_seq()
    place = lambda: orders.place_card_order(  # noqa: E731
        actor=actor, organisation=shop.own, quantity=2, delivery_address=ADDRESS
    )
    if expected == "Y":
        place()
        assert list(CardOrder.objects.values_list("organisation__name", "quantity")) == [
            ("Zorggroep Oost", 2)
        ]
        return
    with pytest.raises(PermissionDenied) as refused:
        place()
    assert refused.value.code == expected
    assert [(a, o, org, d["action"], d["reason"]) for a, o, org, _t, d in _events(since)] == [
        ("permission.denied", "denied", shop.own.audit_ref, "smartcards.order", expected)
    ]
    _nothing_changed([])


@pytest.mark.parametrize(
    ("organisation", "code", "dutch"),
    [
        (
            "business",
            "smartcard_not_care_provider",
            "Smartcards zijn er voor zorgaanbieders die met een UZI-pas zijn gevalideerd; een "
            "zakelijke klant kan ze niet bestellen.",
        ),
        (
            "unvalidated",
            "organisation_not_validated",
            "Uw organisatie kan smartcards bestellen zodra zij met een UZI-pas is gevalideerd.",
        ),
    ],
    ids=["business", "unvalidated"],
)
def test_only_a_validated_care_provider_orders(shop, organisation, code, dutch):
    if organisation == "business":
        target, actor = shop.business, shop.business_administrator
    else:
        target, actor = shop.own, shop.administrator
        type(target).objects.filter(pk=target.pk).update(state="active")
        target.refresh_from_db()
    since = _last_seq()
    with pytest.raises(PermissionDenied) as refused:
        orders.place_card_order(
            actor=actor, organisation=target, quantity=2, delivery_address=ADDRESS
        )
    assert refused.value.code == code
    with translation.override("nl"):
        assert str(refused.value.message) == dutch
    assert [(a, org, d["action"], d["reason"]) for a, _o, org, _t, d in _events(since)] == [
        ("permission.denied", target.audit_ref, "smartcards.order", code)
    ]
    _nothing_changed([])


def test_a_suspended_organisation_or_a_blocked_administrator_orders_nothing(shop):
    Membership.objects.filter(user=shop.second_administrator).update(state="blocked")
    with pytest.raises(PermissionDenied) as refused:
        orders.place_card_order(
            actor=shop.second_administrator,
            organisation=shop.own,
            quantity=2,
            delivery_address=ADDRESS,
        )
    assert refused.value.code == "forbidden"
    type(shop.own).objects.filter(pk=shop.own.pk).update(suspended_at=clock.now())
    shop.own.refresh_from_db()
    with pytest.raises(PermissionDenied) as refused:
        orders.place_card_order(
            actor=shop.administrator, organisation=shop.own, quantity=2, delivery_address=ADDRESS
        )
    assert refused.value.code == "forbidden"
    _nothing_changed([])


# --- Cancelling ------------------------------------------------------------------------------


def test_the_administrator_cancels_and_every_administrator_is_mailed(shop):
    order = _order(shop)
    # An administrator the organisation blocked, one it invited who never accepted, and one whose
    # account is blocked: none of them is mailed.
    for email, state, account in (
        ("weg@oost.nl", "blocked", User.ACTIVE),
        ("nieuw@oost.nl", "invited", User.INVITED),
        ("dicht@oost.nl", "active", User.BLOCKED),
    ):
        Membership.objects.create(
            user=User.objects.create(email=email, name=email, state=account),
            organisation=shop.own,
            role="administrator",
            state=state,
            accepted_at=None if state == "invited" else clock.now(),
        )
    since = _last_seq()
    with clock.frozen(AT):
        cancelled = orders.cancel_card_order(
            actor=shop.second_administrator, organisation=shop.own, order_id=order.public_id
        )
    order.refresh_from_db()
    assert (cancelled.state, order.state, order.state_changed_at) == ("cancelled", "cancelled", AT)
    assert _events(since) == [
        (
            "card_order.cancelled",
            "success",
            shop.own.audit_ref,
            order.audit_ref,
            {
                "by": "organisation",
                "names": {shop.second_administrator.audit_ref: "admin2@oost.nl"},
            },
        )
    ]
    subject = f"Smartcardbestelling {order.public_id} is geannuleerd"
    mails = OutboxMail.objects.order_by("to")
    assert [(m.to, m.template, m.subject) for m in mails] == [
        ("admin2@oost.nl", "card_order_cancelled", subject),
        ("admin@oost.nl", "card_order_cancelled", subject),
    ]
    assert (
        f"Bart heeft bestelling {order.public_id} van 3 lege smartcards van Zorggroep Oost "
        "geannuleerd. Er worden geen kaarten verstuurd." in mails[0].body_text
    )


def test_a_cancelled_order_is_cancelled_once(shop):
    order = _order(shop)
    orders.cancel_card_order(
        actor=shop.administrator, organisation=shop.own, order_id=order.public_id
    )
    OutboxMail.objects.all().delete()
    since = _last_seq()
    with pytest.raises(DomainError) as refused:
        orders.cancel_card_order(
            actor=shop.administrator, organisation=shop.own, order_id=order.public_id
        )
    assert refused.value.code == "order_cancelled"
    assert _events(since) == []
    assert not OutboxMail.objects.exists()


# The other organisation's administrator, and the own organisation's manager and member: nobody
# but the own administrators (and an operator, with a reason) cancels the order.
@pytest.mark.parametrize(
    ("who", "through", "code"),
    [
        ("other_administrator", "own", "forbidden"),
        ("other_administrator", "other", "order_not_found"),
        ("manager", "own", "forbidden"),
        ("member", "own", "forbidden"),
        ("operator", "own", "forbidden"),
        ("business_administrator", "business", "order_not_found"),
    ],
)
def test_nobody_else_cancels_the_order(shop, who, through, code):
    order = _order(shop)
    since = _last_seq()
    with pytest.raises(DomainError) as refused:
        orders.cancel_card_order(
            actor=getattr(shop, who), organisation=getattr(shop, through), order_id=order.public_id
        )
    assert refused.value.code == code
    order.refresh_from_db()
    assert order.state == "ordered"
    assert not OutboxMail.objects.exists()
    expected = [("permission.denied", "smartcards.order")] if code == "forbidden" else []
    assert [(a, d["action"]) for a, _o, _org, _t, d in _events(since)] == expected


def test_an_operator_cancels_with_a_reason(shop):
    order = _order(shop, quantity=1)
    with pytest.raises(DomainError) as refused:
        orders.cancel_card_order_as_operator(
            actor=shop.operator, order_id=order.public_id, reason=" kort "
        )
    assert (refused.value.code, refused.value.field) == ("reason_required", "reason")
    order.refresh_from_db()
    assert order.state == "ordered"
    since = _last_seq()
    orders.cancel_card_order_as_operator(
        actor=shop.operator, order_id=order.public_id, reason="Het  adres bestaat niet."
    )
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert _events(since) == [
        (
            "card_order.cancelled",
            "success",
            shop.own.audit_ref,
            order.audit_ref,
            {"by": "operator", "reason": "Het adres bestaat niet."},
        )
    ]
    body = OutboxMail.objects.get(to="admin@oost.nl").body_text
    assert (
        f"Zorgsleutel heeft bestelling {order.public_id} van 1 lege smartcard van Zorggroep Oost "
        "geannuleerd. Er worden geen kaarten verstuurd.\n\nReden: Het adres bestaat niet." in body
    )
    assert "Olga" not in body  # the operator's name stays with Zorgsleutel


def test_only_an_operator_cancels_as_an_operator(shop):
    order = _order(shop)
    since = _last_seq()
    with pytest.raises(PermissionDenied) as refused:
        orders.cancel_card_order_as_operator(
            actor=shop.administrator, order_id=order.public_id, reason="Dubbele bestelling"
        )
    assert refused.value.code == "forbidden"
    assert [(a, d) for a, _o, _org, _t, d in _events(since)] == [
        ("permission.denied", {"action": "card_orders.handle", "reason": "forbidden"})
    ]
    order.refresh_from_db()
    assert order.state == "ordered"


# --- Shipping --------------------------------------------------------------------------------


def test_an_operator_ships_with_the_serials_and_the_administrators_are_mailed(shop):
    order = _order(shop)
    since = _last_seq()
    with clock.frozen(AT):
        orders.ship_card_order(
            actor=shop.operator, order_id=order.public_id, serials=" 0a1b-01\nzs-0002 , ZS-0003\n\n"
        )
    order.refresh_from_db()
    assert (order.state, order.state_changed_at) == ("shipped", AT)
    assert list(
        BlankCard.objects.order_by("pk").values_list("serial", "order", "organisation", "smartcard")
    ) == [
        ("0A1B-01", order.pk, shop.own.pk, None),
        ("ZS-0002", order.pk, shop.own.pk, None),
        ("ZS-0003", order.pk, shop.own.pk, None),
    ]
    assert _events(since) == [
        (
            "card_order.shipped",
            "success",
            shop.own.audit_ref,
            order.audit_ref,
            {"quantity": 3, "serials": ["0A1B-01", "ZS-0002", "ZS-0003"]},
        )
    ]
    subject = f"Uw smartcards zijn verstuurd (bestelling {order.public_id})"
    mails = OutboxMail.objects.order_by("to")
    assert [(m.to, m.template, m.subject) for m in mails] == [
        ("admin2@oost.nl", "card_order_shipped", subject),
        ("admin@oost.nl", "card_order_shipped", subject),
    ]
    assert "Serienummers:\n0A1B-01\nZS-0002\nZS-0003\n" in mails[0].body_text
    assert "Dorpsstraat 1\n1234 AB Oostdorp" in mails[0].body_text


def test_one_to_thirty_two_letters_digits_or_hyphens(shop):
    order = _order(shop, quantity=2)
    orders.ship_card_order(
        actor=shop.operator, order_id=order.public_id, serials=["A", "-" + "9" * 31]
    )
    assert sorted(BlankCard.objects.values_list("serial", flat=True)) == ["-" + "9" * 31, "A"]


COUNT = "Deze bestelling is voor 3 kaarten, en u gaf {} serienummers op."
NOT_A_SERIAL = '"{}" is geen serienummer: gebruik 1 tot en met 32 letters, cijfers of streepjes.'
TAKEN = "al eerder verstuurd: elke kaart heeft een eigen serienummer."


@pytest.mark.parametrize(
    ("serials", "code", "dutch"),
    [
        ("A1\nA2", "serial_count", COUNT.format(2)),
        ("A1\nA2\nA3\nA4", "serial_count", COUNT.format(4)),
        (" \n ", "serials_required", "Vul de serienummers van de kaarten in."),
        ("A1\nA_2\nA3", "invalid_serial", NOT_A_SERIAL.format("A_2")),
        ("A1\nA2\n" + "B" * 33, "invalid_serial", NOT_A_SERIAL.format("B" * 33)),
        ("A1, a1, A3", "duplicate_serial", "Serienummer A1 staat er twee keer in."),
        ("A1\nOLD-1\nA3", "serial_taken", "Serienummer OLD-1 is " + TAKEN),
        ("old-2\nOLD-1\nA3", "serial_taken", "Serienummers OLD-1, OLD-2 zijn " + TAKEN),
    ],
)
def test_bad_serials_ship_nothing(shop, serials, code, dutch):
    earlier = _order(shop, quantity=2)
    orders.ship_card_order(actor="cli", order_id=earlier.public_id, serials="OLD-1\nOLD-2")
    OutboxMail.objects.all().delete()
    order = _order(shop, quantity=3)
    since = _last_seq()
    with pytest.raises(DomainError) as refused:
        orders.ship_card_order(actor=shop.operator, order_id=order.public_id, serials=serials)
    assert (refused.value.code, refused.value.field) == (code, "serials")
    with translation.override("nl"):
        assert str(refused.value.message) == dutch
    order.refresh_from_db()
    assert order.state == "ordered"
    assert sorted(BlankCard.objects.values_list("serial", flat=True)) == ["OLD-1", "OLD-2"]
    assert _events(since) == []
    assert not OutboxMail.objects.exists()


def test_a_cancelled_order_never_ships_and_a_shipped_one_is_never_cancelled(shop):
    cancelled, shipped = _order(shop, quantity=1), _order(shop, quantity=1)
    orders.cancel_card_order(
        actor=shop.administrator, organisation=shop.own, order_id=cancelled.public_id
    )
    orders.ship_card_order(actor=shop.operator, order_id=shipped.public_id, serials="S-1")
    OutboxMail.objects.all().delete()
    since = _last_seq()
    attempts = [
        (
            "order_cancelled",
            lambda: orders.ship_card_order(
                actor=shop.operator, order_id=cancelled.public_id, serials="S-2"
            ),
        ),
        (
            "order_shipped",
            lambda: orders.ship_card_order(
                actor=shop.operator, order_id=shipped.public_id, serials="S-2"
            ),
        ),
        (
            "order_shipped",
            lambda: orders.cancel_card_order(
                actor=shop.administrator, organisation=shop.own, order_id=shipped.public_id
            ),
        ),
        (
            "order_shipped",
            lambda: orders.cancel_card_order_as_operator(
                actor=shop.operator, order_id=shipped.public_id, reason="Toch niet nodig"
            ),
        ),
    ]
    for code, attempt in attempts:
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == code
    assert dict(CardOrder.objects.values_list("public_id", "state")) == {
        cancelled.public_id: "cancelled",
        shipped.public_id: "shipped",
    }
    assert list(BlankCard.objects.values_list("serial", flat=True)) == ["S-1"]
    assert _events(since) == []
    assert not OutboxMail.objects.exists()


@pytest.mark.parametrize("who", ["administrator", "manager", "other_administrator"])
def test_only_an_operator_ships(shop, who):
    order = _order(shop, quantity=1)
    since = _last_seq()
    with pytest.raises(PermissionDenied) as refused:
        orders.ship_card_order(actor=getattr(shop, who), order_id=order.public_id, serials="S-1")
    assert refused.value.code == "forbidden"
    assert [(a, d) for a, _o, _org, _t, d in _events(since)] == [
        ("permission.denied", {"action": "card_orders.handle", "reason": "forbidden"})
    ]
    order.refresh_from_db()
    assert order.state == "ordered"
    assert not BlankCard.objects.exists()


def test_an_unknown_order(shop):
    for attempt in (
        lambda: orders.ship_card_order(actor=shop.operator, order_id="AAAA-AAAA", serials="S"),
        lambda: orders.cancel_card_order_as_operator(
            actor=shop.operator, order_id="AAAA-AAAA", reason="bestaat niet"
        ),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert (refused.value.code, refused.value.status) == ("order_not_found", 404)


# --- A shipped card becomes a smartcard for its organisation only ----------------------------

_serial = itertools.count(1)


def _smartcard(user, organisation) -> Smartcard:
    n = next(_serial)
    return Smartcard.objects.create(
        public_id=f"sc_{n}",
        user=user,
        organisation=organisation,
        serial=f"{n:040x}",
        card_serial="ZS-0001",
        certificate=b"",
        fingerprint="0" * 64,
        not_after=AT,
        issued_at=AT,
        route="in_person",
        state_changed_at=AT,
    )


@pytest.fixture
def shipped(shop):
    order = _order(shop, quantity=2)
    orders.ship_card_order(actor=shop.operator, order_id=order.public_id, serials="ZS-0001,zs-0002")
    return order


def test_a_card_shipped_to_the_organisation_is_its_blank_card(shop, shipped):
    card = orders.blank_card_for("ZS-0001", shop.own)
    assert (card.serial, card.order_id, card.organisation_id) == (
        "ZS-0001",
        shipped.pk,
        shop.own.pk,
    )
    assert orders.blank_card_for(" zs-0002 ", shop.own).serial == "ZS-0002"  # as a reader says it


@pytest.mark.parametrize(
    ("serial", "organisation", "code", "dutch"),
    [
        (
            "ZS-9999",
            "own",
            "card_not_shipped",
            "Zorgsleutel heeft deze kaart niet geleverd. Gebruik een lege kaart die uw organisatie "
            "heeft besteld (Beheer → Smartcards bestellen).",
        ),
        (
            "ZS/0001",
            "own",
            "card_not_shipped",
            "Zorgsleutel heeft deze kaart niet geleverd. Gebruik een lege kaart die uw organisatie "
            "heeft besteld (Beheer → Smartcards bestellen).",
        ),
        (
            "ZS-0001",
            "other",
            "card_other_organisation",
            "Deze kaart is aan een andere organisatie geleverd en kan alleen daar een smartcard "
            "worden. Gebruik een lege kaart die uw organisatie heeft besteld.",
        ),
        (
            "zs-0002",
            "business",
            "card_other_organisation",
            "Deze kaart is aan een andere organisatie geleverd en kan alleen daar een smartcard "
            "worden. Gebruik een lege kaart die uw organisatie heeft besteld.",
        ),
    ],
)
def test_a_card_not_shipped_here_is_refused(shop, shipped, serial, organisation, code, dutch):
    with pytest.raises(DomainError) as refused:
        orders.blank_card_for(serial, getattr(shop, organisation))
    assert refused.value.code == code
    for language in ("nl", "en"):
        with translation.override(language):
            assert "Zorggroep Oost" not in str(refused.value.message)  # never who ordered it
    with translation.override("nl"):
        assert str(refused.value.message) == dutch
    with translation.override("en"):
        assert str(refused.value.message).startswith(
            {
                "card_not_shipped": "Zorgsleutel did not supply this card.",
                "card_other_organisation": "This card was supplied to another organisation",
            }[code]
        )


def test_a_card_made_into_a_smartcard_is_used(shop, shipped):
    BlankCard.objects.filter(serial="ZS-0001").update(smartcard=_smartcard(shop.member, shop.own))
    with pytest.raises(DomainError) as refused:
        orders.blank_card_for("ZS-0001", shop.own)
    assert refused.value.code == "card_used"
    with translation.override("nl"):
        assert str(refused.value.message) == (
            "Van deze kaart is al een smartcard gemaakt. Gebruik een andere lege kaart."
        )
    assert orders.blank_card_for("ZS-0002", shop.own).serial == "ZS-0002"
