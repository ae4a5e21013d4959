"""Making a smartcard (seed 003, *2c Aanmaken gebruiker ZORG-ID Smartcard*): a care worker of a
validated care provider makes their own, on a blank card the organisation received.

1. The member proves who they are, for that organisation (an IdentityCheck): an administrator or
   manager saw their identity document in person (lifecycle.confirm_identity), or they present
   their own UZI card of the organisation's URA here (`present_uzi`, which also binds the card's
   UZI number to their account: that card then logs them in).
2. The page shows a card challenge (purpose CREATE). The card client (`zorgsleutel card init`)
   sets the card's PINs, makes the key on the card and sends a certificate signing request
   signed by that key and carrying the challenge (docs/card-protocol.md). `issue_from_csr`
   checks it, the card's serial (shipped to this organisation), the proof, and issues the
   certificate through the CA's token; the client writes it to the card.
3. The page follows by itself (the one challenge poll) and shows the new smartcard.
"""

from __future__ import annotations

import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AttributeOID
from django.utils.translation import gettext_lazy as _

from zorgsleutel import cardprotocol, policies
from zorgsleutel.cards import flows as card_flows
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.people.models import Membership, User
from zorgsleutel.smartcards import orders, profile, publication, runtime
from zorgsleutel.smartcards.models import BlankCard, IdentityCheck, Smartcard
from zorgsleutel.uzi.certificates import pem

CREATE, UZI_PROOF, RENEW = "smartcard_create", "smartcard_uzi", "smartcard_renew"

REFUSALS = {
    "smartcard_not_care_provider": _(
        "Only care workers of a validated care provider can make a smartcard."
    ),
    "membership_blocked": _("Your account is blocked. Contact your manager."),
    "smartcard_role": _(
        "Administrators and managers log in with the Zorgsleutel app: they cannot have a smartcard."
    ),
    "smartcard_app_exclusive": _(
        "You use the Zorgsleutel app. A smartcard does not work together with it: remove your "
        "app first (My Zorgsleutel, Your app IDs), then make your smartcard."
    ),
    "smartcard_exists": _(
        "You have a smartcard already. Report it lost first if you need a new one."
    ),
    "smartcard_proof_missing": _(
        "First prove who you are: present your UZI card, or ask your administrator or manager "
        "to check your identity document in person."
    ),
    "csr_bad_signature": _("The card's request is not signed by the card's key. Start again."),
    "csr_other_challenge": _(
        "The card's request belongs to another code. Start again with the code on this page."
    ),
    "csr_refused": _("The card's key cannot be used for a smartcard (it must be P-256)."),
    "uzi_pas_type": _(
        "This UZI card cannot be used here: use your own personal UZI card (zorgverlenerpas or "
        "medewerkerpas op naam)."
    ),
    "uzi_other_organisation": _("This UZI card belongs to another organisation (URA)."),
    "uzi_bound_elsewhere": _("This UZI card is linked to another Zorgsleutel account."),
    "uzi_other_card": _("Your account is linked to another UZI card. Present that card."),
    "smartcard_not_renewable": _(
        "A smartcard can be renewed in the last 60 days of its certificate, after logging in "
        "with that smartcard."
    ),
    "csr_other_card": _("This is another card. Put the smartcard you renew in the reader."),
}


def refusal(code: str) -> DomainError:
    return DomainError(code, REFUSALS[code])


# --- Who may make one --------------------------------------------------------------------------


def creation_refusal(person: User, membership: Membership) -> str | None:
    """Why `person` may not make a smartcard for this membership's organisation now, or None."""
    if any(
        m.role in policies.SMARTCARD_REFUSED_ROLES
        for m in policies.accepted_memberships(person)
        if m.state == policies.MEMBERSHIP_ACTIVE
    ):
        return "smartcard_role"  # an administrator or manager anywhere uses the app
    has_app = AppDevice.objects.filter(user=person).exclude(state=AppDevice.REVOKED).exists()
    has_card = Smartcard.objects.filter(user=person).exclude(state=Smartcard.REVOKED).exists()
    return policies.smartcard_refusal(membership, has_app=has_app, has_card=has_card)


def proof_for(person: User, organisation, *, lock: bool = False) -> IdentityCheck | None:
    """The newest unused proof of who the person is, for this organisation, still counting."""
    now = clock.now()
    rows = IdentityCheck.objects.select_for_update() if lock else IdentityCheck.objects
    for proof in rows.filter(user=person, organisation=organisation, used_at__isnull=True).order_by(
        "-confirmed_at"
    ):
        if now < proof.confirmed_at + policies.SMARTCARD_PROOF_TTL[proof.method]:
            return proof
    return None


def _membership(challenge) -> Membership:
    membership = (
        Membership.objects.select_related("user", "organisation")
        .filter(pk=int(challenge.subject or 0))
        .first()
    )
    if membership is None:
        raise card_flows._invalid()
    return membership


def start(*, person: User, membership: Membership, purpose: str, session_key: str, host: str):
    """The card challenge the page shows: to present the UZI card (UZI_PROOF) or to make the
    card (CREATE). Refused when the person may not make one, or (CREATE) has no proof yet."""
    reason = creation_refusal(person, membership)
    if reason is None and purpose == CREATE and proof_for(person, membership.organisation) is None:
        reason = "smartcard_proof_missing"
    if reason is not None:
        raise refusal(reason)
    return card_flows.start_challenge(
        session_key=session_key,
        host=host,
        purpose=purpose,
        subject=str(membership.pk),
        ttl=policies.SMARTCARD_CREATE_TTL if purpose == CREATE else None,
    )


def describe(challenge) -> str:
    if challenge.purpose == RENEW:
        return str(_("renew your smartcard"))
    membership = _membership(challenge)
    words = {"name": membership.user.name, "organisation": membership.organisation.name}
    if challenge.purpose == CREATE:
        return str(_("make a smartcard for %(name)s at %(organisation)s") % words)
    return str(_("prove who you are for a smartcard at %(organisation)s") % words)


# --- Step 1 by UZI card ------------------------------------------------------------------------


def present_uzi(challenge, presentation) -> dict:
    """The member's own UZI card, presented for a smartcard of this organisation: a proof, and
    the card's UZI number bound to their account. Inside the card flow's savepoint."""
    membership = _membership(challenge)
    person = User.objects.select_for_update().get(pk=membership.user_id)
    reason = creation_refusal(person, membership)
    if reason is not None:
        raise refusal(reason)
    identity = presentation.identity
    if identity.pas_type not in policies.SMARTCARD_UZI_PAS_TYPES:
        raise refusal("uzi_pas_type")
    if identity.ura != membership.organisation.ura:
        raise refusal("uzi_other_organisation")
    if person.uzi_number and person.uzi_number != identity.uzi_number:
        raise refusal("uzi_other_card")
    if not person.uzi_number:
        if User.objects.filter(uzi_number=identity.uzi_number).exclude(pk=person.pk).exists():
            raise refusal("uzi_bound_elsewhere")
        person.uzi_number = identity.uzi_number
        person.save(update_fields=["uzi_number"])
        audit.record_in(
            [membership.organisation],
            "uzi.bound",
            actor=person,
            target=person,
            details={"uzi_number": identity.uzi_number},
            member=person,
        )
    proof = IdentityCheck.objects.create(
        user=person,
        organisation=membership.organisation,
        method=IdentityCheck.UZI,
        uzi_number=identity.uzi_number,
        confirmed_at=clock.now(),
    )
    audit.record_in(
        [membership.organisation],
        "smartcard.identity_confirmed",
        actor=person,
        target=person,
        details={"method": IdentityCheck.UZI},
        member=person,
    )
    return {"proof": proof.pk}


# --- Step 2: the card's request ----------------------------------------------------------------


def _read_csr(text: str) -> x509.CertificateSigningRequest:
    try:
        return x509.load_pem_x509_csr(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise DomainError(
            "bad_csr", _("Send the card's certificate signing request (PEM).")
        ) from None


def _challenge_password(csr: x509.CertificateSigningRequest) -> bytes:
    try:
        return csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
    except x509.AttributeNotFound:
        return b""


def issue_from_csr(challenge, csr_text: str, card_serial: str) -> tuple[dict, dict]:
    """The card's request for this challenge (CREATE): the smartcard, issued. Inside the card
    flow's savepoint, the challenge locked: any refusal undoes everything."""
    csr = _read_csr(csr_text)
    membership = _membership(challenge)
    person = User.objects.select_for_update().get(pk=membership.user_id)  # one card at a time
    organisation = membership.organisation
    reason = creation_refusal(person, membership)
    if reason is not None:
        raise refusal(reason)
    if not csr.is_signature_valid:
        raise refusal("csr_bad_signature")
    expected = cardprotocol.b64(bytes(challenge.challenge)).encode("ascii")
    if _challenge_password(csr) != expected:
        raise refusal("csr_other_challenge")
    proof = proof_for(person, organisation, lock=True)
    if proof is None:
        raise refusal("smartcard_proof_missing")
    blank = orders.blank_card_for(card_serial, organisation, lock=True)
    holder = profile.Holder(
        name=person.name,
        public_id=str(person.public_id),
        organisation=organisation.name,
        ura=organisation.ura,
        uzi_number=proof.uzi_number or (person.uzi_number or ""),
    )
    now = clock.now()

    def sign(ca):
        return profile.issue(ca, csr, holder, now=now), dict(ca.certificates)

    try:
        certificate, chain = runtime.with_ca(sign)
    except profile.ProfileError:
        raise refusal("csr_refused") from None
    card = _record(
        certificate,
        person=person,
        organisation=organisation,
        card_serial=blank.serial,
        uzi_number=holder.uzi_number,
        route=proof.method,
        proof=proof,
        now=now,
    )
    proof.used_at = now
    proof.save(update_fields=["used_at"])
    blank.smartcard = card
    blank.save(update_fields=["smartcard"])
    audit.record_in(
        [organisation],
        "smartcard.issued",
        actor=person,
        target=card,
        details={
            "serial": card.serial,
            "fingerprint": card.fingerprint,
            "route": card.route,
            "card_serial": blank.serial,
        },
        member=person,
    )
    answer = {
        "message": str(_("Your smartcard is ready. Continue in your browser.")),
        "certificates": [pem(certificate), pem(chain["issuing"]), pem(chain["root"])],
    }
    return {"smartcard": card.public_id}, answer


# --- Renewal: a new key on the same card ---------------------------------------------------------


def renewal_refusal(card: Smartcard | None, *, session_means: str, authenticator: str):
    """Why this session may not renew `card` now, or None: only from a login with that very
    card, in the last policies.SMARTCARD_RENEWAL_WINDOW of its certificate."""
    if (
        card is None
        or card.state != Smartcard.ACTIVE
        or card.public_id != authenticator
        or not policies.may_renew_smartcard(card.not_after, clock.now(), session_means)
    ):
        return "smartcard_not_renewable"
    return None


def start_renewal(*, card, session_means: str, authenticator: str, session_key: str, host: str):
    reason = renewal_refusal(card, session_means=session_means, authenticator=authenticator)
    if reason is not None:
        raise refusal(reason)
    return card_flows.start_challenge(
        session_key=session_key,
        host=host,
        purpose=RENEW,
        subject=card.public_id,
        ttl=policies.SMARTCARD_CREATE_TTL,
    )


def renew_from_csr(challenge, csr_text: str, card_serial: str) -> tuple[dict, dict]:
    """The card's new key (RENEW): a new certificate for the same person, organisation and card;
    the old one is superseded. Inside the card flow's savepoint."""
    csr = _read_csr(csr_text)
    old = (
        Smartcard.objects.select_for_update()
        .select_related("user", "organisation")
        .filter(public_id=challenge.subject)
        .first()
    )
    if old is None or old.state != Smartcard.ACTIVE:
        raise refusal("smartcard_not_renewable")
    if not policies.may_renew_smartcard(old.not_after, clock.now(), "smartcard"):
        raise refusal("smartcard_not_renewable")
    if card_serial.upper() != old.card_serial.upper():
        raise refusal("csr_other_card")
    if not csr.is_signature_valid:
        raise refusal("csr_bad_signature")
    if _challenge_password(csr) != cardprotocol.b64(bytes(challenge.challenge)).encode("ascii"):
        raise refusal("csr_other_challenge")
    person, organisation = old.user, old.organisation
    holder = profile.Holder(
        name=person.name,
        public_id=str(person.public_id),
        organisation=organisation.name,
        ura=organisation.ura,
        uzi_number=old.uzi_number,
    )
    now = clock.now()

    def sign(ca):
        return profile.issue(ca, csr, holder, now=now), dict(ca.certificates)

    try:
        certificate, chain = runtime.with_ca(sign)
    except profile.ProfileError:
        raise refusal("csr_refused") from None
    card = _record(
        certificate,
        person=person,
        organisation=organisation,
        card_serial=old.card_serial,
        uzi_number=old.uzi_number,
        route=old.route,
        proof=old.identity_check,
        now=now,
    )
    card.renews = old
    card.save(update_fields=["renews"])
    from zorgsleutel.smartcards import lifecycle

    lifecycle.supersede(old)
    BlankCard.objects.filter(smartcard=old).update(smartcard=card)
    audit.record_in(
        [organisation],
        "smartcard.renewed",
        actor=person,
        target=card,
        details={"serial": card.serial, "fingerprint": card.fingerprint, "renews": old.serial},
        member=person,
    )
    answer = {
        "message": str(_("Your smartcard is renewed. Continue in your browser.")),
        "certificates": [pem(certificate), pem(chain["issuing"]), pem(chain["root"])],
    }
    return {"smartcard": card.public_id}, answer


def _record(certificate, *, person, organisation, card_serial, uzi_number, route, proof, now):
    """The issued card's row, its status published after the commit."""
    card = Smartcard.objects.create(
        public_id="sc_" + secrets.token_urlsafe(12),
        user=person,
        organisation=organisation,
        serial=format(certificate.serial_number, "x"),
        card_serial=card_serial,
        certificate=certificate.public_bytes(Encoding.DER),
        fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
        uzi_number=uzi_number,
        not_after=certificate.not_valid_after_utc,
        issued_at=now,
        route=route,
        identity_check=proof,
        state=Smartcard.ACTIVE,
        state_changed_at=now,
    )
    publication.card_changed(card)
    return card
