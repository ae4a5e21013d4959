"""What every SMS goes through: the caps before it is recorded, the gateways after the commit.

A send is prepared in the request's transaction (the caller checks `check_caps`, then `record`
writes its send record, which counts at once, and its event), handed to the gateways after that
transaction commits (`transmit`: a slow provider never holds a database lock), and what they
answered is recorded in one short transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from zorgsleutel.vault import crypto, errors, gateways, hotpath, policies, writelock
from zorgsleutel.vault.errors import VaultError
from zorgsleutel.vault.models import Enrolment, SmsSend


@dataclass(frozen=True)
class Outgoing:
    """An SMS whose send record and event are written; the number stays encrypted until sent."""

    client: str
    enrolment_id: str
    hint: str
    number_ciphertext: bytes = field(repr=False)
    key_version: str
    body: str = field(repr=False)  # may hold a code: never in a repr or a log
    send_id: int


def record(
    cursor,
    *,
    client: str,
    action: str,
    enrolment_id: str,
    number_index: str,
    enrolment_status: str,
    challenge_id: str,
    hint: str,
    number_ciphertext: bytes,
    key_version: str,
    body: str,
    now: datetime,
    detail: str = "",
) -> Outgoing:
    """In the request's transaction, after `check_caps`: the send record (it counts towards the
    caps at once) and the event of an SMS about to go out (a code, or a notice without a
    challenge); what `transmit` sends after the commit."""
    send_id = hotpath.add_send(
        cursor,
        number_index=number_index,
        enrolment_id=enrolment_id,
        enrolment_status=enrolment_status,
        challenge_id=challenge_id,
        now=now,
    )
    hotpath.add_event(
        cursor,
        client=client,
        action=action,
        enrolment_id=enrolment_id,
        outcome="success",
        now=now,
        detail=detail,
    )
    return Outgoing(
        client, enrolment_id, hint, number_ciphertext, key_version, body, send_id
    )  # fmt: skip


def check_caps(
    cursor, *, number_index: str, enrolment_id: str, confirmed: bool, now: datetime
) -> None:
    """Refuse (429) a send over one of the hourly caps of policies.py. Sends for pending
    enrolments are counted per number among pending ones only, sends for confirmed enrolments
    among confirmed ones only: what anyone can trigger never uses up what only the owner can.
    Codes the owner typed in (answered) do not count at all."""
    if not confirmed:
        hotpath.lock_number(cursor, number_index=number_index)
    status = Enrolment.CONFIRMED if confirmed else Enrolment.PENDING
    since = now - policies.CAP_WINDOW
    by_number, by_enrolment = hotpath.sends_in_window(
        cursor,
        number_index=number_index,
        enrolment_status=status,
        enrolment_id=enrolment_id,
        since=since,
    )
    number_cap = (
        policies.SMS_PER_NUMBER_PER_HOUR
        if confirmed
        else policies.SMS_UNCONFIRMED_PER_NUMBER_PER_HOUR
    )
    if by_number >= number_cap:
        code = "sms_cap_number" if confirmed else "sms_cap_unconfirmed"
        rows = {"number_index": number_index, "enrolment_status": status}
        raise errors.limited(
            code, retry_after=_cap_wait(rows, cap=number_cap, since=since, now=now)
        )
    if enrolment_id and by_enrolment >= policies.SMS_PER_ENROLMENT_PER_HOUR:
        wait = _cap_wait(
            {"enrolment_ref": enrolment_id},
            cap=policies.SMS_PER_ENROLMENT_PER_HOUR,
            since=since,
            now=now,
        )
        raise errors.limited("sms_cap_enrolment", retry_after=wait)


def _cap_wait(rows: dict, *, cap: int, since: datetime, now: datetime) -> float:
    """Seconds until fewer than `cap` of these counted sends are in the window (a refusal's
    `retry_after`; not on the hot path)."""
    times = list(
        SmsSend.objects.filter(status=SmsSend.SENT, sent_at__gte=since, **rows)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    if len(times) < cap:  # pragma: no cover (a refusal is only made over the cap)
        return 0
    return (times[len(times) - cap] + policies.CAP_WINDOW - now).total_seconds()


def resend_too_soon(last_sent_at: datetime, now: datetime) -> VaultError:
    """429 with the whole seconds left until RESEND_AFTER has passed since the last code."""
    return errors.limited(
        "resend_too_soon", retry_after=(last_sent_at + policies.RESEND_AFTER - now).total_seconds()
    )


def transmit(outgoing: Outgoing, *, on_failure: Callable[[object, datetime], None]) -> bool:
    """Hand the SMS to the gateways (outside any transaction), then record their answers in one
    short transaction; if none took it, the send is marked failed, a failure event is written
    and `on_failure(cursor, now)` undoes what the send had prepared. True if it went out."""
    number = crypto.decrypt_number(
        outgoing.number_ciphertext, enrolment_id=outgoing.enrolment_id, version=outgoing.key_version
    )
    outcome = gateways.deliver(
        send_id=outgoing.send_id, to=number, hint=outgoing.hint, body=outgoing.body
    )
    now = timezone.now()
    with writelock.serialised_writes(), transaction.atomic(), connection.cursor() as cursor:
        hotpath.record_delivery(
            cursor, send_id=outgoing.send_id, attempts=outcome.attempts, gateway=outcome.gateway
        )
        if not outcome.ok:
            hotpath.add_event(
                cursor, client=outgoing.client, action="sms.send",
                enrolment_id=outgoing.enrolment_id, outcome="failure", now=now,
                detail=outcome.error,
            )  # fmt: skip
            on_failure(cursor, now)
    return outcome.ok


def unavailable(what: str) -> VaultError:
    return VaultError(
        "sms_unavailable", f"No SMS gateway could deliver the {what}. Try again later.", status=503
    )
