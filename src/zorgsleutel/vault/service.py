"""The vault's operations: enrol a number, send a code, verify it, give a hint, erase
(notices: notices.py; caps and the gateway step every SMS shares: sending.py).

Numbers and codes never leave this module except to an SMS gateway. Callers get an opaque id,
a masked hint and yes/no. SMS are sent outside database transactions (a slow gateway must not
hold locks): a send is prepared and recorded in the request's transaction (`prepare_*`), handed
to the gateways after it commits, and what they answered is recorded afterwards (`deliver`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from zorgsleutel.vault import crypto, hotpath, phones, policies, sending, texts
from zorgsleutel.vault.errors import VaultError
from zorgsleutel.vault.models import Challenge, Enrolment, VaultEvent

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


@dataclass(frozen=True)
class PreparedSend:
    """A code ready to go out (sending.Outgoing) and what a failed send must undo. Its
    challenge, its send record (which counts towards the caps at once) and its event are
    written in the request's transaction; the gateway is called after that transaction
    (`deliver`), so a slow SMS provider never holds a database lock."""

    outgoing: sending.Outgoing
    challenge_id: str
    expires_at: datetime
    resend_after: datetime
    new_enrolment: bool
    previous: tuple | None  # (code_hash, last_sent_at, expires_at) of a renewed challenge


def prepare_enrolment(*, client: str, phone: str, locale: str) -> PreparedSend:
    """Register a number (pending until a code is verified) and prepare its first code. Runs in
    the caller's transaction; every check comes before the first write, so a refusal (VaultError)
    leaves nothing written and the caller may still commit the request's nonce."""
    number = phones.parse_mobile(phone)
    index = crypto.number_index(number.e164)
    now = timezone.now()
    with connection.cursor() as cursor:
        sending.check_caps(cursor, number_index=index, enrolment_id="", confirmed=False, now=now)
    enrolment_id = _new_id("enr")
    challenge_id = _new_id("chl")
    code = _new_code()
    ciphertext, version = crypto.encrypt_number(number.e164, enrolment_id=enrolment_id)
    Enrolment.objects.create(
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
    with connection.cursor() as cursor:
        expires = now + policies.CODE_TTL
        code_hash = crypto.code_hash(challenge_id, code)
        hotpath.new_challenge(
            cursor,
            challenge_id=challenge_id,
            enrolment_id=enrolment_id,
            code_hash=code_hash,
            now=now,
            expires=expires,
        )
        outgoing = sending.record(
            cursor,
            client=client,
            action="enrol",
            enrolment_id=enrolment_id,
            number_index=index,
            enrolment_status=Enrolment.PENDING,
            challenge_id=challenge_id,
            hint=number.hint,
            number_ciphertext=ciphertext,
            key_version=version,
            body=texts.code_message(code, locale),
            now=now,
        )
    return PreparedSend(
        outgoing, challenge_id, expires, now + policies.RESEND_AFTER, True, None
    )  # fmt: skip


def prepare_challenge(*, client: str, enrolment_id: str) -> PreparedSend:
    """A new code on the open challenge or on a new challenge, RESEND_AFTER after the
    enrolment's last code (whichever challenge it was for; a verified code ends the wait). Runs
    in the caller's transaction; every check comes before the first write, so a refusal
    (VaultError) leaves nothing written and the caller may still commit the request's nonce."""
    now = timezone.now()
    with connection.cursor() as cursor:
        row = hotpath.lock_enrolment(
            cursor,
            enrolment_id=enrolment_id,
            client=client,
            now=now,
            resend_after=now - policies.RESEND_AFTER,
        )
        if row is None:
            raise VaultError("unknown_enrolment", "No such enrolment.", status=404)
        if row.challenge_id and row.too_soon:
            sent = Challenge.objects.values_list("last_sent_at", flat=True).get(pk=row.challenge_id)
            raise sending.resend_too_soon(sent, now)
        sending.check_caps(
            cursor, number_index=row.number_index, enrolment_id=row.enrolment_id,
            confirmed=row.confirmed, now=now,
        )  # fmt: skip
        code = _new_code()
        challenge_id = row.open_challenge or _new_id("chl")
        code_hash = crypto.code_hash(challenge_id, code)
        expires = now + policies.CODE_TTL
        if row.open_challenge:
            previous = (row.code_hash, row.last_sent_at, row.expires_at)
            hotpath.renew_challenge(
                cursor, challenge_id=challenge_id, code_hash=code_hash, sent_at=now,
                expires_at=expires,
            )  # fmt: skip
        else:
            previous = None
            hotpath.new_challenge(
                cursor, challenge_id=challenge_id, enrolment_id=row.enrolment_id,
                code_hash=code_hash, now=now, expires=expires,
            )  # fmt: skip
        outgoing = sending.record(
            cursor,
            client=client,
            action="challenge",
            enrolment_id=row.enrolment_id,
            number_index=row.number_index,
            enrolment_status=row.enrolment_status,
            challenge_id=challenge_id,
            hint=row.hint,
            number_ciphertext=bytes(row.number_ciphertext),
            key_version=row.key_version,
            body=texts.code_message(code, row.locale),
            now=now,
        )
    return PreparedSend(
        outgoing, challenge_id, expires, now + policies.RESEND_AFTER, False, previous
    )  # fmt: skip


def deliver(prepared: PreparedSend) -> ChallengeSent:
    """Send a prepared code (outside any transaction). If no gateway took it: the send is marked
    failed, a new enrolment is removed again, a renewed challenge gets its previous code back,
    a new challenge is removed, and VaultError(503)."""

    def undo(cursor, now: datetime) -> None:
        if prepared.new_enrolment:
            Enrolment.objects.filter(pk=outgoing.enrolment_id).delete()
            hotpath.add_event(
                cursor, client=outgoing.client, action="enrol",
                enrolment_id=outgoing.enrolment_id, outcome="failure", now=now,
                detail="sms not delivered; enrolment removed",
            )  # fmt: skip
        elif prepared.previous:
            code_hash, sent_at, expires_at = prepared.previous
            hotpath.renew_challenge(
                cursor, challenge_id=prepared.challenge_id, code_hash=code_hash,
                sent_at=sent_at, expires_at=expires_at,
            )  # fmt: skip
        else:
            Challenge.objects.filter(pk=prepared.challenge_id).delete()

    outgoing = prepared.outgoing
    if not sending.transmit(outgoing, on_failure=undo):
        raise sending.unavailable("code")
    return ChallengeSent(
        outgoing.enrolment_id,
        prepared.challenge_id,
        outgoing.hint,
        prepared.expires_at,
        prepared.resend_after,
    )


def enrol(*, client: str, phone: str, locale: str) -> ChallengeSent:
    """Register a number (pending until a code is verified) and send the first code."""
    with transaction.atomic():
        prepared = prepare_enrolment(client=client, phone=phone, locale=locale)
    return deliver(prepared)


def _enrolment_of(client: str, enrolment_id: str) -> Enrolment:
    enrolment = Enrolment.objects.filter(pk=enrolment_id, client=client).first()
    if enrolment is None:
        raise VaultError("unknown_enrolment", "No such enrolment.", status=404)
    return enrolment


def send_challenge(*, client: str, enrolment_id: str) -> ChallengeSent:
    """Send a code: a new code on the open challenge (after the resend wait) or a new challenge."""
    with transaction.atomic():
        prepared = prepare_challenge(client=client, enrolment_id=enrolment_id)
    return deliver(prepared)


def verify(*, client: str, challenge_id: str, code: str) -> Verdict:
    """Check a code: ok (once), wrong with attempts left, expired, or blocked. The right code's
    send is given back to the hourly caps (hotpath.answer_send), in the same transaction that
    marks the challenge verified: a second verification finds it verified (row lock on
    PostgreSQL, serialised writes on SQLite) and answers expired, giving nothing back."""
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
            # Typed in by the number's owner: this code no longer counts towards the caps.
            hotpath.answer_send(cursor, enrolment_id=row.enrolment_id, challenge_id=challenge_id)
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
