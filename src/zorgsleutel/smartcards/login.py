"""Logging in with a card (*Inloggen met smartcard*): a Zorgsleutel smartcard, or a UZI card bound
to an account (creation.present_uzi binds it), answers a card challenge of purpose LOGIN through
the card client or the browser's TLS client certificate (cards.flows, docs/card-protocol.md).

The means are registered in apps.py: "smartcard" (acr high; amr sc, hwk, pin: RFC 8176) and the
UZI card's "uzi". Every login reads the card's state as it is now (a blocked card is refused at
once: its status is ours), then asks authn.means.refusal for the person.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zorgsleutel.authn import challenges, landing, refusals, sessions
from zorgsleutel.authn import means as registry
from zorgsleutel.authn.means import ACTIVE, HELD, NONE
from zorgsleutel.cards import flows as card_flows
from zorgsleutel.cards import verification
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.people import loading
from zorgsleutel.people.models import User
from zorgsleutel.smartcards import presented
from zorgsleutel.smartcards.models import Smartcard

LOGIN = "smartcard_login"

NOT_BOUND = _(
    "This UZI card is not linked to a Zorgsleutel account yet. Log in another way and present "
    "it once under My Zorgsleutel, Your smartcards."
)


def start(*, session_key: str, host: str):
    return card_flows.start_challenge(session_key=session_key, host=host, purpose=LOGIN, subject="")


def describe(challenge) -> str:
    return str(_("log in to %(site)s") % {"site": settings.SITE_NAME})


def verify(certificates: list):
    """A Zorgsleutel smartcard (our CA) or else a UZI card (the UZI trust anchors)."""
    if presented.issued_by_us(certificates):
        found = presented.verify(certificates, at=clock.now())
        return found, found.certificate
    return verification.verify_certificates(certificates)


def present(challenge, presentation) -> dict:
    """Whom the card logs in, if it may: inside the card flow's savepoint."""
    identity = presentation.identity
    facts = None  # a UZI card's (uzi_facts)
    if isinstance(identity, presented.PresentedSmartcard):
        card = identity.card
        # With memberships and organisations, which the refusal reads (people/loading.py).
        person, means_name, authenticator = _person(card.user_id), "smartcard", card.public_id
    else:
        person = User.objects.filter(uzi_number=identity.uzi_number).first()
        if person is None:
            raise DomainError("uzi_not_bound", NOT_BOUND)
        means_name, authenticator = "uzi", identity.fingerprint_sha256
        facts = uzi_facts(identity)
    reason = "account_blocked" if person is None else registry.refusal(person, means_name)
    if reason is not None:
        raise refusals.error(refusals.code_for(reason))
    if means_name == "smartcard":
        Smartcard.objects.filter(pk=identity.card.pk).update(last_used_at=clock.now())
    found = {"person": str(person.public_id), "means": means_name, "authenticator": authenticator}
    return found | ({"card": facts} if facts else {})


def uzi_facts(identity) -> dict:
    """What single sign-on may tell of the UZI card that logged in (oidc/claims.py: `dezi`):
    the register's fields, never the certificate."""
    return {
        "uzi_number": identity.uzi_number,
        "ura": identity.ura,
        "organisation_name": identity.organisation_name,
        "role": identity.role,
        "pas_type": identity.pas_type,
    }


def _person(pk: int | None):
    """The person with memberships and organisations loaded (people/loading.py: three plain
    statements, a third of the ORM's prefetch in CPU), or None when deleted (or no pk)."""
    return loading.person(pk=pk) if pk is not None else None


def finish_login(request, collected: challenges.Collected) -> dict:
    """The login page's browser, once the card answered: logged in, in the transaction that
    used the challenge up. Registered for LOGIN (apps.py)."""
    if collected.status == "refused":
        error = (collected.result or {}).get("error", "")
        return {"status": "refused", "error": error, "message": collected.refusal_message()}
    result = collected.result or {}
    found = User.objects.filter(public_id=result.get("person")).values_list("pk", flat=True)
    person = _person(found.first())
    means_name = result.get("means", "")
    reason = "account_blocked" if person is None else registry.refusal(person, means_name)
    if reason is not None:  # blocked between the card's answer and this collect
        error = refusals.error(refusals.code_for(reason))
        return {"status": "refused", "error": error.code, "message": str(error.message)}
    sessions.complete_login(
        request,
        person,
        means_name,
        authenticator=result.get("authenticator", ""),
        card=result.get("card") if means_name == "uzi" else None,
    )
    return {"status": "ok", "next": landing.destination(request, person)}


# --- The means' questions (authn/means.py) ------------------------------------------------------


def standing(person) -> str:
    """ACTIVE: a smartcard that works; HELD: only a blocked one; NONE: none (or revoked)."""
    states = set(
        Smartcard.objects.filter(user=person)
        .filter(Q(state=Smartcard.ACTIVE) | Q(state=Smartcard.BLOCKED))
        .values_list("state", flat=True)
    )
    if Smartcard.ACTIVE in states:
        return ACTIVE
    return HELD if states else NONE


def accepted_by(person, authenticator: str, organisation) -> bool:
    """A smartcard speaks for the organisation its certificate names, while it works."""
    return Smartcard.objects.filter(
        public_id=authenticator,
        user=person,
        organisation=organisation,
        state=Smartcard.ACTIVE,
    ).exists()
