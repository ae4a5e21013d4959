"""App enrolment (docs/app-protocol.md): the one-time code behind the QR code, the app
registering its key and secret, and what that proved, asked again when the browser collects it.

An enrolment is a cross-device challenge too (authn/challenges.py): the browser showing the QR
code collects it. The QR login is flows.py's.
"""

from __future__ import annotations

import hashlib
import secrets as pysecrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel import appprotocol, policies
from zorgsleutel.authn import challenges, means, refusals
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError, NotFound
from zorgsleutel.mobileapp import secrets, standing
from zorgsleutel.mobileapp.flows import MEANS, app_public_key
from zorgsleutel.mobileapp.models import AppDecision, AppDevice, AppEnrolment
from zorgsleutel.people import personevents, signals
from zorgsleutel.people.models import User


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


ENROL_KIND = "app_enrolment"  # answered by the app's POST to its enrolment code
LINK_APP = "link_app"  # purpose: the person's own page, /mijn/app-koppelen (views.finish_link_app)


@dataclass(frozen=True)
class EnrolmentStarted:
    code: str
    url: str
    expires_at: object
    challenge_id: str  # what the page polls: /wachten/<challenge_id>


def _enrolment_invalid() -> NotFound:
    return NotFound("enrolment_invalid", _("This enrolment code is not valid (any more)."))


def start_enrolment(
    *, actor: User, session_acr: str, session_key: str, purpose: str
) -> EnrolmentStarted:
    """A one-time code for the QR code on the enrolment page (5 minutes), and the challenge the
    page waits on: bound to the browser session `session_key` ("" when no browser waits: the
    demo's apps), whose finisher for `purpose` makes the next page once the app has enrolled.
    Refused when the person's app is blocked or removed and this session is below their
    required assurance (policies.may_link_app: no fallback to a weaker means)."""
    exclusive = policies.app_link_refusal(means.standing_of(actor, "smartcard"))
    if exclusive is not None:  # one person has the app or a smartcard, never both
        raise personevents.refused_for_person(
            "app.enrolment_refused",
            refusals.error(exclusive),
            person=actor,
            actor=actor,
            target=actor,
        )
    if not policies.may_link_app(actor, standing.app_standing(actor), session_acr):
        raise personevents.refused_for_person(
            "app.enrolment_refused",
            refusals.error("app_held"),
            person=actor,
            actor=actor,
            target=actor,
        )
    code = pysecrets.token_urlsafe(24)
    with transaction.atomic():
        challenge = challenges.start(
            kind=ENROL_KIND,
            session_key=session_key,
            host=urlsplit(settings.SITE_URL).netloc,  # the server the QR code names
            ttl=policies.APP_ENROLMENT_TTL,
            prefix="en_",
            purpose=purpose,
        )
        enrolment = AppEnrolment.objects.create(
            user=actor,
            code_hash=_digest(code),
            challenge=challenge,
            created_at=challenge.created_at,
            expires_at=challenge.expires_at,
            session_acr=session_acr,
        )
        audit.record("app.enrolment_started", actor=actor, target=actor)
    url = appprotocol.enrol_url(server=settings.SITE_URL, code=code)
    return EnrolmentStarted(code, url, enrolment.expires_at, challenge.public_id)


def open_enrolment_for(
    *, actor: User, code: str, session_key: str, purpose: str
) -> EnrolmentStarted | None:
    """The actor's enrolment code if it is still open and waited on by this browser session for
    `purpose` (to show the same QR code again)."""
    enrolment = (
        AppEnrolment.objects.select_related("challenge")
        .filter(
            user=actor,
            code_hash=_digest(code or ""),
            used_at=None,
            expires_at__gt=clock.now(),
            challenge__status=Challenge.PENDING,
            challenge__session_hash=challenges.session_hash(session_key),
            challenge__purpose=purpose,
        )
        .first()
    )
    if enrolment is None:
        return None
    url = appprotocol.enrol_url(server=settings.SITE_URL, code=code)
    return EnrolmentStarted(code, url, enrolment.expires_at, enrolment.challenge.public_id)


def _open_enrolment(code: str, *, lock: bool = False) -> AppEnrolment:
    rows = AppEnrolment.objects.select_related("user")
    if lock:
        rows = rows.select_for_update()
    enrolment = rows.filter(code_hash=_digest(code or "")).first()
    if enrolment is None or enrolment.used_at or clock.now() >= enrolment.expires_at:
        raise _enrolment_invalid()
    if enrolment.user.state != User.ACTIVE:  # blocked since the code was shown: the app is told
        raise personevents.refused_for_person(  # no more than for any dead code, the log says why
            "app.enrolment_refused",
            _enrolment_invalid(),
            person=enrolment.user,
            actor=enrolment.user,
            target=enrolment.user,
            details={"reason": "account_blocked"},
        )
    return enrolment


def enrolment_info(*, code: str) -> dict:
    enrolment = _open_enrolment(code)
    return {
        "service": settings.SITE_NAME,
        "host": settings.SITE_URL,
        "display_name": enrolment.user.name,
        "expires_at": enrolment.expires_at.isoformat(),
    }


def complete_enrolment(
    *, code: str, public_key: bytes, secret: bytes, name: str, notify: bool = True
) -> AppDevice:
    """The app registers its public key and secret; the code is used up and its challenge
    answered (the waiting browser collects it). The person and their organisations are told
    (people.signals.authenticator_linked), except for the demo's made-up people
    (`notify=False`: the demo shows apps linked before, not a live event)."""
    app_public_key(public_key)
    if len(secret) != appprotocol.SECRET_BYTES:
        raise DomainError("bad_secret", _("The app secret must be 32 bytes."))
    with audit.atomic():  # a refused code's event is kept
        enrolment = _open_enrolment(code, lock=True)
        challenge = challenges.pending(
            ENROL_KIND,
            lock=True,
            pk=enrolment.challenge_id,
            invalid_error=_enrolment_invalid,
        )
        person = User.objects.select_for_update().get(pk=enrolment.user_id)
        # Each organisation that requires the app and holds the person's old one, or whose
        # requirement a mailbox alone would meet after a reset, consents first (asked before
        # the new app ID exists: it must not count as their app).
        waiting = standing.waiting_organisations(person, session_acr=enrolment.session_acr)
        device_id = "app_" + pysecrets.token_urlsafe(12)
        device = AppDevice.objects.create(
            public_id=device_id,
            user=person,
            name=" ".join(name.split())[:100] or "App",
            public_key=public_key,
            secret_ciphertext=secrets.seal(secret, device_id=device_id),
            enrolled_at=clock.now(),
        )
        AppDecision.objects.bulk_create(
            AppDecision(
                device=device,
                organisation_id=organisation_id,
                state=AppDecision.PENDING,
                decided_at=clock.now(),
            )
            for organisation_id in waiting
        )
        enrolment.used_at = clock.now()
        enrolment.device = device
        enrolment.save(update_fields=["used_at", "device"])
        challenges.answer(challenge, result={"device": device.public_id}, person=person)
        if notify:
            signals.authenticator_linked.send(
                sender=__name__,
                person=person,
                means=MEANS,
                name=device.name,
                linked_at=device.enrolled_at,
            )
        personevents.record_for_person(
            "app.enrolled",
            person=person,
            actor=person,
            target=device,
            details={"name": device.name, "waiting": len(waiting)},
        )
    return device


def confirm_enrolment(collected: challenges.Collected) -> tuple[User, AppDevice]:
    """What an enrolment's answer proved, asked again when its browser collects it (for each
    purpose's finisher): the person may still log in with the app, and the app ID is still
    theirs and neither blocked nor removed. Otherwise the refusal to show, audited (the
    finishers answer it inside the committing transaction)."""
    person = collected.person
    if collected.status != "accepted" or person is None:
        raise _enrolment_invalid()
    person = User.objects.filter(pk=person.pk).first()
    if person is None:  # deleted meanwhile: nobody's refusal to record
        raise refusals.error("account_blocked")
    device_id = (collected.result or {}).get("device", "")
    device = AppDevice.objects.filter(public_id=device_id, user=person).first()
    reason = means.refusal(person, MEANS)
    if reason is not None:
        code = refusals.code_for(reason)
    elif device is None or device.state == AppDevice.REVOKED:
        code = "device_unknown"
    elif device.state != AppDevice.ACTIVE:
        code = "device_blocked"
    else:
        return person, device
    raise personevents.refused_for_person(
        "app.enrolment_refused",
        refusals.error(code),
        person=person,
        actor=person,
        target=device or person,
    )
