"""App enrolment and QR login (docs/app-protocol.md), and the app IDs' life cycle."""

from __future__ import annotations

import hashlib
import hmac
import secrets as pysecrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _

from zorgsleutel import appprotocol, policies
from zorgsleutel.authn import challenges, means, refusals, sessions
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import audit, clock, ratelimit
from zorgsleutel.core.errors import DomainError, NotFound, PermissionDenied, RateLimited
from zorgsleutel.mobileapp import secrets, standing
from zorgsleutel.mobileapp.models import AppDecision, AppDevice, AppEnrolment
from zorgsleutel.people import personevents, signals
from zorgsleutel.people.models import User

MEANS = "app"  # registered in mobileapp/apps.py


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- Enrolment (a cross-device challenge too: the browser showing the QR code collects it) -------
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


def _public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(data)
    except ValueError:
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise DomainError("bad_public_key", _("The app's public key must be ECDSA P-256."))
    return key


def complete_enrolment(
    *, code: str, public_key: bytes, secret: bytes, name: str, notify: bool = True
) -> AppDevice:
    """The app registers its public key and secret; the code is used up and its challenge
    answered (the waiting browser collects it). The person and their organisations are told
    (people.signals.authenticator_linked), except for the demo's made-up people
    (`notify=False`: the demo shows apps linked before, not a live event)."""
    _public_key(public_key)
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


# --- QR login (a cross-device challenge, authn/challenges.py) -------------------------------------
KIND = PURPOSE = "app_login"  # answered by the app; logs the waiting browser in


@dataclass(frozen=True)
class LoginStarted:
    challenge_id: str
    url: str
    expires_at: object


def _invalid_challenge() -> NotFound:
    return NotFound(
        "challenge_invalid", _("This QR code is not valid (any more). Reload the page.")
    )


def start_login(*, session_key: str, host: str, browser: str) -> LoginStarted:
    """A challenge bound to this browser session and host, for the QR code (3 minutes)."""
    challenge = challenges.start(
        kind=KIND,
        session_key=session_key,
        host=host,
        ttl=policies.APP_LOGIN_TTL,
        prefix="qr_",
        browser=browser,
        purpose=PURPOSE,
    )
    url = appprotocol.login_url(
        server=settings.SITE_URL,
        challenge_id=challenge.public_id,
        challenge=bytes(challenge.challenge),
    )
    return LoginStarted(challenge.public_id, url, challenge.expires_at)


def login_info(*, challenge_id: str) -> dict:
    """What the app shows before asking the PIN: which site, which browser, when."""
    challenge = challenges.pending(KIND, public_id=challenge_id, invalid_error=_invalid_challenge)
    return {
        "service": settings.SITE_NAME,
        "host": challenge.host,
        "browser": challenge.browser,
        "requested_at": challenge.created_at.isoformat(),
        "expires_at": challenge.expires_at.isoformat(),
    }


@dataclass(frozen=True)
class Answer:
    result: str  # ok | wrong_pin | blocked
    attempts_left: int


def answer_login(*, challenge_id: str, device_id: str, response: str, signature: bytes) -> Answer:
    """The app's answer: device signature must hold; the HMAC tells whether the PIN was right.
    A refusal is audited and raised after its transaction committed (raising inside it would
    roll its event back)."""
    with transaction.atomic():
        outcome = _judge_answer(challenge_id, device_id, response, signature)
    if isinstance(outcome, DomainError):  # a refusal: its audit event has committed
        raise outcome
    return outcome


def _judge_answer(
    challenge_id: str, device_id: str, response: str, signature: bytes
) -> Answer | DomainError:
    challenge = challenges.pending(
        KIND, lock=True, public_id=challenge_id, invalid_error=_invalid_challenge
    )
    device = (
        AppDevice.objects.select_for_update()
        .select_related("user")
        .prefetch_related("decisions")
        .filter(public_id=device_id)
        .first()
    )
    if device is None:  # nobody's app ID: nobody's refusal to record
        return refusals.error("device_unknown")
    if device.state == AppDevice.REVOKED:
        return _login_refused(device, refusals.error("device_unknown"))
    message = appprotocol.login_message(
        challenge_id=challenge.public_id,
        challenge=bytes(challenge.challenge),
        host=challenge.host,
    )
    try:
        _public_key(bytes(device.public_key)).verify(
            signature, message + response.encode(), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        personevents.record_for_person(
            "app.bad_signature",
            person=device.user,
            actor=device,
            target=device.user,
            outcome=audit.DENIED,
        )
        return PermissionDenied("bad_signature", _("The app's signature is not valid."))
    # Counted only now: an answer the app ID really signed. Junk naming the app ID (no valid
    # signature) is limited per address and never uses up the genuine app's budget.
    try:
        ratelimit.consume(action="app.answer", device=device.public_id, target=device)
    except RateLimited as limited:
        return limited  # raised after the commit, with its audited refusal
    refused = _refusal(device)
    if refused is not None:
        return _login_refused(device, refused)
    secret = secrets.unseal(bytes(device.secret_ciphertext), device_id=device.public_id)
    if not hmac.compare_digest(appprotocol.response(secret, message), response):
        device.wrong_pins += 1
        left = max(policies.APP_MAX_WRONG_PINS - device.wrong_pins, 0)
        if left == 0:
            device.state = AppDevice.BLOCKED
        device.save(update_fields=["wrong_pins", "state"])
        personevents.record_for_person(
            "app.wrong_pin",
            person=device.user,
            actor=device.user,
            target=device,
            outcome=audit.FAILURE,
            details={"left": left},
        )
        return Answer("blocked" if left == 0 else "wrong_pin", left)
    device.wrong_pins = 0
    device.last_used_at = clock.now()
    device.save(update_fields=["wrong_pins", "last_used_at"])
    challenges.answer(challenge, result={"device": device.public_id}, person=device.user)
    personevents.record_for_person(
        "app.login_approved", person=device.user, actor=device.user, target=device
    )
    return Answer("ok", policies.APP_MAX_WRONG_PINS)


def _login_refused(device: AppDevice, refused: DomainError) -> DomainError:
    """A QR login's refusal, audited for each organisation of the app ID's person (raised by
    answer_login after its transaction committed)."""
    return personevents.refused_for_person(
        "app.login_refused", refused, person=device.user, actor=device.user, target=device
    )


def _refusal(device: AppDevice) -> DomainError | None:
    """Why this app ID may not log its person in now (before the PIN is looked at): the
    person's refusal first (means.refusal: a blocked account, blocked everywhere, suspended),
    then the app ID's own."""
    reason = means.refusal(device.user, MEANS)
    if reason is not None:
        return refusals.error(refusals.code_for(reason))
    if device.state == AppDevice.BLOCKED:
        return refusals.error("device_blocked")
    if not standing.works_for_anyone(device, device.user):  # every organisation stopped it
        if standing.waiting_for(device):
            return refusals.error("device_pending")
        return refusals.error("device_blocked")
    return None


def finish_login(request, collected) -> dict:
    """The waiting page's browser, once its QR code was answered: logged in with the app
    (authn/views.py runs this in the transaction that used the challenge up). What the answer
    proved is asked again: the app or the person may have been blocked since."""
    person = collected.person
    if collected.status != "accepted" or person is None:
        return {"status": "refused", "message": str(_invalid_challenge().message)}
    person = User.objects.filter(pk=person.pk).first()
    if person is None:  # deleted meanwhile: nobody's refusal to record
        return {"status": "refused", "message": str(refusals.TEXTS["account_blocked"])}
    device_id = (collected.result or {}).get("device", "")
    device = (
        AppDevice.objects.filter(public_id=device_id, user=person)
        .prefetch_related("decisions")
        .first()
    )
    reason = means.refusal(person, MEANS)
    code = refusals.code_for(reason) if reason is not None else None
    if code is None and (device is None or not standing.works_for_anyone(device, person)):
        code = "device_blocked"
    if code is not None:
        refused = personevents.refused_for_person(
            "app.login_refused",
            refusals.error(code),
            person=person,
            actor=person,
            target=device or person,
        )
        return {"status": "refused", "message": str(refused.message)}
    sessions.complete_login(request, person, MEANS, authenticator=device_id)
    return {"status": "ok", "next": resolve_url(settings.LOGIN_REDIRECT_URL)}
