"""Notices: a fixed text (texts.py) sent to a confirmed enrolment's number, e.g. before the
portal erases an old enrolment after a password reset, so the old phone hears of the change.

Clients choose a kind from policies.NOTICE_KINDS, never the words. A notice goes through the
same gateways and caps as codes (it counts towards the enrolment's and the number's confirmed
caps), but carries no code: it neither waits for nor starts the resend wait between codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from zorgsleutel.vault import hotpath, policies, sending, texts
from zorgsleutel.vault.errors import VaultError


@dataclass(frozen=True)
class NoticeSent:
    enrolment: str
    notice: str
    hint: str


@dataclass(frozen=True)
class PreparedNotice:
    outgoing: sending.Outgoing
    kind: str


def prepare_notice(*, client: str, enrolment_id: str, kind: str, locale: str) -> PreparedNotice:
    """Check and record a notice to a confirmed enrolment's number. Runs in the caller's
    transaction; every check comes before the first write (a refusal leaves only the nonce)."""
    if kind not in policies.NOTICE_KINDS:
        raise VaultError("unknown_notice_kind", "No such notice.", field="kind")
    now = timezone.now()
    with connection.cursor() as cursor:
        # The send path's own lookup (and row lock); its challenge columns play no part here.
        row = hotpath.lock_enrolment(
            cursor, enrolment_id=enrolment_id, client=client, now=now, resend_after=now
        )
        if row is None:
            raise VaultError("unknown_enrolment", "No such enrolment.", status=404)
        if not row.confirmed:
            raise VaultError(
                "enrolment_not_confirmed",
                "Notices go only to confirmed enrolments.",
                status=409,
            )
        sending.check_caps(
            cursor, number_index=row.number_index, enrolment_id=row.enrolment_id,
            confirmed=True, now=now,
        )  # fmt: skip
        outgoing = sending.record(
            cursor,
            client=client,
            action="notice",
            enrolment_id=row.enrolment_id,
            number_index=row.number_index,
            enrolment_status=row.enrolment_status,
            challenge_id="",
            hint=row.hint,
            number_ciphertext=bytes(row.number_ciphertext),
            key_version=row.key_version,
            body=texts.notice_message(kind, locale),
            now=now,
            detail=kind,
        )
    return PreparedNotice(outgoing, kind)


def deliver_notice(prepared: PreparedNotice) -> NoticeSent:
    """Send a prepared notice (outside any transaction); VaultError(503) if no gateway took it
    (the send is marked failed and a failure event written: nothing else to undo)."""
    outgoing = prepared.outgoing
    if not sending.transmit(outgoing, on_failure=lambda cursor, now: None):
        raise sending.unavailable("notice")
    return NoticeSent(outgoing.enrolment_id, prepared.kind, outgoing.hint)
