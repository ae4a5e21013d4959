"""Aan de slag (web/nextsteps.py): where a new administrator lands, what they do next, each item
ticked once it is done; for the administrators of that organisation only (Tenancy)."""

from __future__ import annotations

import re

import pytest

from people import someone
from zorgsleutel.accounts.models import User
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards.models import CardOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(db):
    return Organisation.objects.create(
        name="Praktijk Nieuw", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000444"
    )


@pytest.fixture
def ada(practice):
    return someone(practice, "administrator", email="ada@nieuw.nl", name="Ada Admin")


def _page(response) -> dict:
    """What the page says: its heading, each item (title, status, link) and the step plan's
    statuses."""
    assert response.status_code == 200
    text = response.content.decode()
    main = text.split("<main", 1)[1]
    items = re.findall(
        r'<li class="zs-next-step zs-next-step--(\w+)" id="next-(\w+)">.*?'
        r'<h2 class="zs-next-step__title">(.*?)</h2>.*?'
        r'<span class="utrecht-status-badge utrecht-status-badge--\w+">(.*?)</span>.*?'
        r'<a href="([^"]*)">(.*?)</a>',
        main,
        re.S,
    )
    return {
        "h1": re.search(r"<h1>(.*?)</h1>", main).group(1),
        "lead": re.search(r'<p class="lead">(.*?)</p>', main).group(1),
        "items": [
            (key, marked, title, badge, href, link)
            for marked, key, title, badge, href, link in items
        ],
        "plan": re.findall(r'<li class="zs-step zs-step--(\w+)"', main),
    }


def test_a_new_care_provider_s_next_steps(client, login_as, ada, practice):
    login_as(client, ada)
    page = _page(client.get(f"/beheer/{practice.public_id}/aan-de-slag"))
    new = f"/beheer/{practice.public_id}/nieuwe-gebruiker"
    assert page == {
        "h1": "Aan de slag",
        "lead": "U bent portaaladministrator van Praktijk Nieuw. Dit zijn uw volgende stappen.",
        "items": [
            (
                "manager",
                "todo",
                "Wijs een beheerder aan",
                "Nog te doen",
                f"{new}?rol=manager",
                "Wijs een beheerder aan",
            ),
            (
                "members",
                "todo",
                "Nodig uw zorgmedewerkers uit",
                "Nog te doen",
                f"{new}?rol=member",
                "Nodig een zorgmedewerker uit",
            ),
            (
                "smartcards",
                "todo",
                "Bestel lege smartcards",
                "Nog te doen",
                f"/beheer/{practice.public_id}/smartcards-bestellen",
                "Bestel lege smartcards",
            ),
        ],
        # The step plan behind them: every step done.
        "plan": ["done"] * 6,
    }
    # Its links go where they say: Nieuwe gebruiker with the role chosen.
    chosen = client.get(f"{new}?rol=manager").content.decode()
    assert re.search(r'<option value="manager" selected>', chosen)


def test_each_item_is_ticked_once_done(client, login_as, ada, practice):
    login_as(client, ada)
    url = f"/beheer/{practice.public_id}/aan-de-slag"

    def ticks():
        return [
            (key, marked, badge) for key, marked, _, badge, _, _ in _page(client.get(url))["items"]
        ]

    someone(practice, "manager", email="bea@nieuw.nl")  # appointed (an invitation is enough)
    assert ticks() == [
        ("manager", "done", "Gedaan"),
        ("members", "todo", "Nog te doen"),
        ("smartcards", "todo", "Nog te doen"),
    ]
    someone(practice, "member", email="wim@nieuw.nl")
    order = CardOrder.objects.create(
        public_id="ord_1",
        organisation=practice,
        quantity=5,
        delivery_address="Praktijk Nieuw\nDorpsstraat 1\n1234 AB Oostdorp",
        ordered_by=ada,
        ordered_at=clock.now(),
        state_changed_at=clock.now(),
    )
    assert ticks() == [
        ("manager", "done", "Gedaan"),
        ("members", "done", "Gedaan"),
        ("smartcards", "done", "Gedaan"),
    ]
    CardOrder.objects.filter(pk=order.pk).update(state=CardOrder.CANCELLED)
    assert ticks()[2] == ("smartcards", "todo", "Nog te doen")  # a cancelled order is no order


def test_a_business_customer_orders_no_smartcards_and_had_no_step_plan(client, login_as):
    business = Organisation.objects.create(
        name="Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    bob = someone(business, "administrator", email="bob@bedrijf.nl")
    login_as(client, bob, acr="low")
    page = _page(client.get(f"/beheer/{business.public_id}/aan-de-slag"))
    assert [key for key, *_ in page["items"]] == ["manager", "members"]
    assert page["plan"] == []


# --- Tenancy: the administrators of that organisation only ---------------------------------------


@pytest.fixture
def other(db):
    return Organisation.objects.create(
        name="Zorggroep Ander", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000446"
    )


def _refused(client, practice, since: int) -> None:
    response = client.get(f"/beheer/{practice.public_id}/aan-de-slag")
    assert response.status_code == 403
    assert "U mag dit niet doen." in response.content.decode()
    events = AuditEvent.objects.filter(seq__gt=since).values_list(
        "action", "outcome", "organisation", "details"
    )
    assert [(a, o, org, d["action"], d["reason"]) for a, o, org, d in events] == [
        (
            "permission.denied",
            "denied",
            f"organisation:{practice.public_id}",
            "organisation.next_steps",
            "forbidden",
        )
    ]


def _last() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.mark.parametrize("role", ["manager", "member"])
def test_the_organisation_s_managers_and_members_are_refused(client, login_as, practice, role):
    person = someone(practice, role, email=f"{role}@nieuw.nl")
    login_as(client, person)
    _refused(client, practice, _last())


def test_another_organisation_s_administrator_is_refused(client, login_as, practice, other, ada):
    other_admin = someone(other, "administrator", email="otto@ander.nl")
    login_as(client, other_admin)
    _refused(client, practice, _last())


def test_the_operator_is_refused(client, login_as, practice):
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )
    login_as(client, operator)
    _refused(client, practice, _last())


def test_a_suspended_organisation_s_administrator_is_refused(client, login_as, practice, ada):
    login_as(client, ada)
    Organisation.objects.filter(pk=practice.pk).update(suspended_at=clock.now())
    _refused(client, practice, _last())


def test_a_visitor_is_sent_to_log_in_first(client, practice):
    response = client.get(f"/beheer/{practice.public_id}/aan-de-slag")
    assert response.status_code == 302
    assert response["Location"] == (
        f"/inloggen?next=%2Fbeheer%2F{practice.public_id}%2Faan-de-slag"
    )
