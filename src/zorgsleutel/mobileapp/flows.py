"""The QR login (docs/app-protocol.md): a cross-device challenge (authn/challenges.py) that the
app answers with its key and PIN, and the waiting browser logged in. It also names the means and
checks the app's key for enrolment.py, which links the app.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel import appprotocol, policies
from zorgsleutel.authn import challenges, means, refusals, sessions
from zorgsleutel.core import audit, clock, ratelimit
from zorgsleutel.core.errors import DomainError, NotFound, PermissionDenied, RateLimited
from zorgsleutel.mobileapp import secrets, standing
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.people import personevents
from zorgsleutel.people.models import User

MEANS = "app"  # registered in mobileapp/apps.py


def app_public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    """The app's public key from its DER bytes, refused unless ECDSA P-256."""
    try:
        key = serialization.load_der_public_key(data)
    except ValueError:
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise DomainError("bad_public_key", _("The app's public key must be ECDSA P-256."))
    return key


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
        app_public_key(bytes(device.public_key)).verify(
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
    return {"status": "ok", "next": sessions.after_login_url(request)}
