"""Who manages a smartcard: the permission matrix of seed 003 for smartcards, written out. The
responsible organisation's administrators and managers block, unblock and delete a care worker's
card and confirm their identity in person; members and operators do nothing; in another
organisation nobody does anything (Tenancy). An allowed action is checked by its effect, a
refused one by its code and by nothing having changed."""

from datetime import UTC, datetime, timedelta

import pytest

from smartcardwork import issue_card
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards import lifecycle
from zorgsleutel.smartcards.models import IdentityCheck, Smartcard

pytestmark = pytest.mark.django_db

# actor → action → (own organisation, other organisation): Y allowed, else the refusal's code.
# In another organisation an administrator or manager meets a card (and a person) unknown there:
# the same answer whether or not it exists anywhere.
MATRIX = {
    "administrator": {
        "block": ("Y", "smartcard_unknown"),
        "unblock": ("Y", "smartcard_unknown"),
        "delete": ("Y", "smartcard_unknown"),
        "confirm_identity": ("Y", "not_found"),
    },
    "manager": {
        "block": ("Y", "smartcard_unknown"),
        "unblock": ("Y", "smartcard_unknown"),
        "delete": ("Y", "smartcard_unknown"),
        "confirm_identity": ("Y", "not_found"),
    },
    "member": {
        "block": ("forbidden", "forbidden"),
        "unblock": ("forbidden", "forbidden"),
        "delete": ("forbidden", "forbidden"),
        "confirm_identity": ("forbidden", "forbidden"),
    },
    "operator": {
        "block": ("forbidden", "forbidden"),
        "unblock": ("forbidden", "forbidden"),
        "delete": ("forbidden", "forbidden"),
        "confirm_identity": ("forbidden", "forbidden"),
    },
}
STATE_AFTER = {"block": "blocked", "unblock": "active", "delete": "revoked"}
CELLS = [
    (actor, action, where)
    for actor, actions in MATRIX.items()
    for action in actions
    for where in ("own", "other")
]


def actor_for(care, role: str, where: str):
    from people import someone
    from zorgsleutel.accounts.models import Membership, User
    from zorgsleutel.core import clock

    if role == "operator":
        return User.objects.create(
            email="ops@zorgsleutel.test", name="Ops", state="active", is_operator=True
        )
    if where == "own" and role in ("administrator", "manager"):
        return {"administrator": care.admin, "manager": care.manager}[role]
    organisation = care.org if where == "own" else care.other
    person = someone(organisation, role, email=f"{role}-{where}@zorg.nl")
    Membership.objects.filter(user=person).update(accepted_at=clock.now())
    return person


@pytest.mark.parametrize("actor_role, action, where", CELLS)
def test_the_smartcard_matrix(portal_ca, care, actor_role, action, where):
    _key, _pem, card = issue_card(care)
    if action in ("unblock", "confirm_identity"):  # a blocked card; none to make a new one
        card.state = "blocked" if action == "unblock" else "revoked"
        card.save()
    before = card.state
    actor = actor_for(care, actor_role, where)
    organisation = care.org if where == "own" else care.other
    expected = MATRIX[actor_role][action][0 if where == "own" else 1]
    membership = care.member.memberships.get()
    try:
        if action == "confirm_identity":
            lifecycle.confirm_identity(
                actor=actor, organisation=organisation, membership_id=membership.pk
            )
        else:
            lifecycle.set_state(
                actor=actor, organisation=organisation, card_id=card.public_id, action=action
            )
        outcome = "Y"
    except DomainError as error:
        outcome = error.code
    assert outcome == expected
    card.refresh_from_db()
    if action == "confirm_identity":
        assert IdentityCheck.objects.count() == (1 if expected == "Y" else 0)
    else:
        assert card.state == (STATE_AFTER[action] if expected == "Y" else before)
    if expected != "Y":
        assert AuditEvent.objects.filter(action="permission.denied").count() == 1


def test_a_manager_cannot_manage_their_own_card_nor_an_unknown_one(portal_ca, care):
    with pytest.raises(DomainError) as unknown:
        lifecycle.set_state(
            actor=care.manager, organisation=care.org, card_id="sc_nothing", action="block"
        )
    assert unknown.value.code == "smartcard_unknown"


@pytest.mark.parametrize(
    "state, action, code",
    [
        ("active", "unblock", "smartcard_not_blocked"),
        ("blocked", "block", "smartcard_blocked_already"),
        ("revoked", "block", "smartcard_revoked"),
        ("revoked", "delete", "smartcard_revoked"),
    ],
)
def test_an_action_that_does_not_fit_the_cards_state_changes_nothing(
    portal_ca, care, state, action, code
):
    _key, _pem, card = issue_card(care)
    Smartcard.objects.filter(pk=card.pk).update(state=state)
    with pytest.raises(DomainError) as refused:
        lifecycle.set_state(
            actor=care.manager, organisation=care.org, card_id=card.public_id, action=action
        )
    assert refused.value.code == code
    card.refresh_from_db()
    assert card.state == state


def test_the_holder_reports_the_card_lost(client, login_as, portal_ca, care):
    _key, _pem, card = issue_card(care)
    login_as(client, care.member, acr="high")
    answer = client.post(
        f"/mijn/smartcards/{card.public_id}/kwijt", {"bevestigd": "ja"}, follow=True
    )
    assert "is ingetrokken: niemand kan hem nog gebruiken." in answer.content.decode()
    card.refresh_from_db()
    assert (card.state, card.revocation_reason) == ("revoked", "key_compromise")
    event = AuditEvent.objects.get(action="smartcard.reported_lost")
    assert event.details["serial"] == card.serial


def test_someone_elses_card_cannot_be_reported_lost(client, login_as, portal_ca, care):
    _key, _pem, card = issue_card(care)
    login_as(client, care.manager)
    assert client.get(f"/mijn/smartcards/{card.public_id}/kwijt").status_code == 404
    answer = client.post(
        f"/mijn/smartcards/{card.public_id}/kwijt", {"bevestigd": "ja"}, follow=True
    )
    assert "Deze smartcard is niet (meer) bekend." in answer.content.decode()
    card.refresh_from_db()
    assert card.state == "active"


@pytest.mark.django_db(transaction=True)
def test_the_login_page_is_limited_to_60_a_minute_per_address(client, portal_ca, care):
    """Fixed one-minute windows (core/ratelimit.py): the clock stands at a window's start, so
    a slow run cannot cross into the next window halfway."""
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    with clock.frozen(start):
        for _visit in range(60):
            assert client.get("/inloggen/smartcard").status_code == 200
        limited = client.get("/inloggen/smartcard")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    (event,) = AuditEvent.objects.filter(action="ratelimit.refused")
    assert event.details == {"action": "smartcard.login_page", "limits": ["ip"]}
    with clock.frozen(start + timedelta(minutes=1)):
        assert client.get("/inloggen/smartcard").status_code == 200
