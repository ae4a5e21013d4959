"""No fallback for a smartcard either (policies.WEAKER_MEANS_REFUSALS): where a care worker's
organisation requires more than password + SMS code of everyone, the smartcard is what reaches
it, and a blocked card never lets the password in."""

import pytest

from people import PASSWORD
from smartcardwork import issue_card

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "state, text",
    [
        ("active", "U hebt een smartcard: log in met uw smartcard."),
        (
            "blocked",
            "Uw smartcard is geblokkeerd. Alleen uw portaaladministrator of beheerder kan hem "
            "deblokkeren.",
        ),
    ],
)
def test_a_smartcard_holder_is_not_let_in_by_password(client, portal_ca, care, state, text):
    care.org.required_acr = "substantial"  # every member: the app, or (for them) the smartcard
    care.org.save()
    _key, _pem, card = issue_card(care)
    card.state = state
    card.save()
    response = client.post("/inloggen", {"email": care.member.email, "password": PASSWORD})
    assert response.status_code == 200
    assert text in response.content.decode()
    assert "zs_pending_code" not in client.session  # no code was sent


def test_where_the_password_is_enough_the_holder_may_use_it(client, portal_ca, care):
    """An organisation that asks only password + SMS code of its care workers: the card is an
    extra way in (for what asks `high`), the password still the person's own."""
    issue_card(care)
    response = client.post("/inloggen", {"email": care.member.email, "password": PASSWORD})
    assert "U hebt een smartcard" not in response.content.decode()
