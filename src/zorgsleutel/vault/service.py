"""The vault's operations: enrol a number, send a code, verify it, give a hint, erase.

Numbers and codes never leave this module except to an SMS gateway. Callers get an opaque id,
a masked hint and yes/no. SMS are sent outside database transactions (a slow gateway must not
hold locks); what was sent and what failed is recorded afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from zorgsleutel.vault import crypto, gateways, hotpath, phones, policies
from zorgsleutel.vault.errors import VaultError
from zorgsleutel.vault.models import Challenge, Enrolment, SmsSend, VaultEvent

OK, WRONG, EXPIRED, BLOCKED = "ok", "wrong", "expired", "blocked"


@dataclass(frozen=True)
class ChallengeSent:
    enrolment: str
    challenge: str
    hint: str
    expires_at: datetime
    resend_after: datetime


@dataclass(frozen=True)
class Verdict:
    result: str
    attempts_left: int
    enrolment: str


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(18)}"


def _new_code() -> str:
    return f"{secrets.randbelow(10**policies.CODE_DIGITS):0{policies.CODE_DIGITS}d}"


def _event(client: str, action: str, enrolment: str, outcome: str, detail: str = "") -> None:
    VaultEvent.objects.create(
        at=timezone.now(),
        client=client,
        action=action,
        enrolment_ref=enrolment,
        outcome=outcome,
        detail=detail[:200],
    )


def _message(code: str, locale: str) -> str:
    minutes = int(policies.CODE_TTL.total_seconds() // 60)
    if locale == "en":
        return (
            f"Your Zorgsleutel code is {code}. It is valid for {minutes} minutes. Never share it."
        )
    return (
        f"Uw Zorgsleutel-code is {code}. De code is {minutes} minuten geldig. Deel hem met niemand."
    )


def _check_caps(*, number_index: str, enrolment_id: str) -> None:
    since = timezone.now() - policies.CAP_WINDOW
    recent = SmsSend.objects.filter(sent_at__gte=since, status=SmsSend.SENT)
    if recent.filter(number_index=number_index).count() >= policies.SMS_PER_NUMBER_PER_HOUR:
        raise VaultError("sms_cap_number", "Too many codes were sent to this number.", status=429)
    if enrolment_id and (
        recent.filter(enrolment_ref=enrolment_id).count() >= policies.SMS_PER_ENROLMENT_PER_HOUR
    ):
        raise VaultError(
            "sms_cap_enrolment", "Too many codes were sent for this enrolment.", status=429
        )


def _send(*, client: str, enrolment: Enrolment, challenge_id: str, code: str, number: str) -> None:
    """Hand the code to the gateways (failover); record the send; raise 503 if all fail."""
    send = SmsSend.objects.create(
        number_index=enrolment.number_index,
        enrolment_ref=enrolment.id,
        challenge_ref=challenge_id,
        sent_at=timezone.now(),
    )
    outcome = gateways.deliver(
        send=send, to=number, hint=enrolment.hint, body=_message(code, enrolment.locale)
    )
    if not outcome.ok:
        SmsSend.objects.filter(pk=send.pk).update(status=SmsSend.FAILED)
        _event(client, "sms.send", enrolment.id, "failure", outcome.error)
        raise VaultError(
            "sms_unavailable", "No SMS gateway could deliver the code. Try again later.", status=503
        )
    SmsSend.objects.filter(pk=send.pk).update(gateway=outcome.gateway)


def enrol(*, client: str, phone: str, locale: str) -> ChallengeSent:
    """Register a number (pending until a code is verified) and send the first code."""
    number = phones.parse_mobile(phone)
    index = crypto.number_index(number.e164)
    _check_caps(number_index=index, enrolment_id="")
    now = timezone.now()
    enrolment_id = _new_id("enr")
    challenge_id = _new_id("chl")
    code = _new_code()
    ciphertext, version = crypto.encrypt_number(number.e164, enrolment_id=enrolment_id)
    with transaction.atomic():
        enrolment = Enrolment.objects.create(
            id=enrolment_id,
            client=client,
            number_ciphertext=ciphertext,
            key_version=version,
            number_index=index,
            hint=number.hint,
            region=number.region,
            locale=locale,
            created_at=now,
        )
        challenge = Challenge.objects.create(
            id=challenge_id,
            enrolment=enrolment,
            code_hash=crypto.code_hash(challenge_id, code),
            created_at=now,
            last_sent_at=now,
            expires_at=now + policies.CODE_TTL,
        )
        _event(client, "enrol", enrolment_id, "success")
    try:
        _send(
            client=client,
            enrolment=enrolment,
            challenge_id=challenge_id,
            code=code,
            number=number.e164,
        )
    except VaultError:
        with transaction.atomic():
            Enrolment.objects.filter(pk=enrolment_id).delete()
            _event(client, "enrol", enrolment_id, "failure", "sms not delivered; enrolment removed")
        raise
    return ChallengeSent(
        enrolment_id,
        challenge.id,
        enrolment.hint,
        challenge.expires_at,
        now + policies.RESEND_AFTER,
    )


def _enrolment_of(client: str, enrolment_id: str) -> Enrolment:
    enrolment = Enrolment.objects.filter(pk=enrolment_id, client=client).first()
    if enrolment is None:
        raise VaultError("unknown_enrolment", "No such enrolment.", status=404)
    return enrolment


def send_challenge(*, client: str, enrolment_id: str) -> ChallengeSent:
    """Send a code: a new code on the open challenge (after the resend wait) or a new challenge."""
    now = timezone.now()
    with transaction.atomic():
        enrolment = _enrolment_of(client, enrolment_id)
        challenge = (
            Challenge.objects.select_for_update()
            .filter(enrolment=enrolment, status=Challenge.OPEN, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if challenge and now < challenge.last_sent_at + policies.RESEND_AFTER:
            wait = int((challenge.last_sent_at + policies.RESEND_AFTER - now).total_seconds()) + 1
            raise VaultError(
                "resend_too_soon",
                "Wait before asking for a new code.",
                status=429,
                retry_after=wait,
            )
        _check_caps(number_index=enrolment.number_index, enrolment_id=enrolment.id)
        code = _new_code()
        if challenge is None:
            challenge = Challenge(id=_new_id("chl"), enrolment=enrolment, created_at=now)
        previous = (challenge.code_hash, challenge.last_sent_at, challenge.expires_at)
        challenge.code_hash = crypto.code_hash(challenge.id, code)
        challenge.last_sent_at = now
        challenge.expires_at = now + policies.CODE_TTL
        challenge.save()
        _event(client, "challenge", enrolment.id, "success")
    number = crypto.decrypt_number(
        enrolment.number_ciphertext, enrolment_id=enrolment.id, version=enrolment.key_version
    )
    try:
        _send(
            client=client, enrolment=enrolment, challenge_id=challenge.id, code=code, number=number
        )
    except VaultError:
        if previous[0]:
            Challenge.objects.filter(pk=challenge.id).update(
                code_hash=previous[0], last_sent_at=previous[1], expires_at=previous[2]
            )
        else:
            Challenge.objects.filter(pk=challenge.id).delete()
        raise
    return ChallengeSent(
        enrolment.id,
        challenge.id,
        enrolment.hint,
        challenge.expires_at,
        now + policies.RESEND_AFTER,
    )


def verify(*, client: str, challenge_id: str, code: str) -> Verdict:
    """Check a code: ok (once), wrong with attempts left, expired, or blocked."""
    now = timezone.now()
    # savepoint=False: the API already holds a transaction; a savepoint would only cost.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        row = hotpath.lock_challenge(cursor, challenge_id=challenge_id, client=client, now=now)
        if row is None:
            raise VaultError("unknown_challenge", "No such challenge.", status=404)
        left = max(policies.CODE_MAX_ATTEMPTS - row.attempts, 0)
        if row.status == Challenge.BLOCKED:
            verdict = Verdict(BLOCKED, 0, row.enrolment_id)
        elif row.status == Challenge.VERIFIED or not row.fresh:
            verdict = Verdict(EXPIRED, left, row.enrolment_id)
        elif crypto.code_matches(challenge_id, code, row.code_hash):
            hotpath.set_challenge(
                cursor, challenge_id=challenge_id, status=Challenge.VERIFIED, attempts=row.attempts
            )
            if row.enrolment_status == Enrolment.PENDING:
                hotpath.confirm_enrolment(cursor, enrolment_id=row.enrolment_id, now=now)
            verdict = Verdict(OK, left, row.enrolment_id)
        else:
            left -= 1
            status = Challenge.BLOCKED if left == 0 else row.status
            hotpath.set_challenge(
                cursor, challenge_id=challenge_id, status=status, attempts=row.attempts + 1
            )
            verdict = Verdict(BLOCKED if left == 0 else WRONG, left, row.enrolment_id)
        hotpath.add_event(
            cursor,
            client=client,
            action="verify",
            enrolment_id=row.enrolment_id,
            outcome=verdict.result,
            now=now,
        )
    return verdict


def hint(*, client: str, enrolment_id: str) -> dict:
    enrolment = _enrolment_of(client, enrolment_id)
    return {"enrolment": enrolment.id, "hint": enrolment.hint, "status": enrolment.status}


def erase(*, client: str, enrolment_id: str) -> None:
    """Forget the number for good (its challenges go with it; caps history keeps only the hash)."""
    with transaction.atomic():
        enrolment = _enrolment_of(client, enrolment_id)
        enrolment.delete()
        _event(client, "erase", enrolment_id, "success")


def purge_pending(*, older_than: datetime | None = None) -> int:
    """Remove enrolments never confirmed within PENDING_ENROLMENT_TTL."""
    cutoff = older_than or timezone.now() - policies.PENDING_ENROLMENT_TTL
    with transaction.atomic():
        count, _ = Enrolment.objects.filter(
            status=Enrolment.PENDING, created_at__lt=cutoff
        ).delete()
    return count
