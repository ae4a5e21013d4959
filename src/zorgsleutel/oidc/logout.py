"""When a Zorgsleutel session ends, the applications it signed in to end theirs (docs/oidc.md,
"Logout").

**Which session a sign-in came from.** Django gives a session a new key at every login (and
`complete_login` starts a step-up from an empty one), so the key cannot name the session for
long. At its first sign-in to an application a session gets a `sid` of its own: 256 random
bits, kept in the session (`SID`) with the person it belongs to, carried across a step-up or a
timed-out session's new login of the *same* person (authn/sessions.py carries the key; `sid_for`
starts a new one for anyone else). The sign-in keeps it (and the SHA-256 of the session key
then, never the key: it is a bearer secret); the ID token carries it as `sid` (Back-Channel
Logout 1.0, section 2.1, for every client: it costs nothing and a client may add a back-channel
URI later), and so does every logout token.

**What ends.** Every flow that ends sessions sends people.signals.sessions_ended in its own
transaction (the portal's logout, a blocked membership, a reset, *Dit was ik niet*, a suspended
organisation, an erased account) or calls `end_session` (RP-initiated logout, endsession.py).
`end_sign_ins` then, in that transaction: revokes each sign-in's tokens
(families.revoke_family, the one place every family ends), marks it ended (its code, if still
unspent, is refused: validator.py), and writes one back-channel delivery per application,
person and session (backchannel.py sends it after commit: the request never waits for an
application).
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from zorgsleutel.core import clock
from zorgsleutel.oidc import claims, families
from zorgsleutel.oidc.models import Client, LogoutDelivery, SignIn

SID = "zs_sso_sid"  # in the session: {"sid": ..., "person": the person's pk}

# Why sign-ins ended (LogoutDelivery.reason, the audit events' `reason`).
REASONS = (
    "logout",  # the portal's Uitloggen
    "rp_logout",  # an application's end-session request (endsession.py)
    "membership_blocked",
    "credentials_reset",
    "not_me",  # Dit was ik niet
    "organisation_suspended",
    "account_deleted",
)


def sid_for(session, person) -> str:
    """This session's `sid` for `person`: the one it has, or a new one (a session that another
    person logged in to before never passes its sid on)."""
    kept = session.get(SID)
    if isinstance(kept, dict) and kept.get("person") == person.pk and kept.get("sid"):
        return kept["sid"]
    sid = secrets.token_urlsafe(32)
    session[SID] = {"sid": sid, "person": person.pk}
    return sid


def sid_of(session) -> str:
    """The `sid` this session signed in to applications with ("" when it never did)."""
    kept = session.get(SID) if session is not None else None
    return kept.get("sid", "") if isinstance(kept, dict) else ""


def session_digest(session_key: str | None) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def end_sign_ins(sign_ins, *, reason: str) -> list[LogoutDelivery]:
    """End these sign-ins (a queryset) in the caller's transaction: tokens revoked, marked
    ended, and a back-channel logout queued for each application with a back-channel URI, one
    per application, person and session. Returns the deliveries queued."""
    from zorgsleutel.oidc import backchannel

    if reason not in REASONS:
        raise ValueError(f"unknown logout reason {reason!r}")
    now = clock.now()
    queued: list[LogoutDelivery] = []
    with transaction.atomic():
        ending = list(
            sign_ins.filter(ended_at=None)
            .select_for_update(of=("self",))
            .select_related("user", "organisation")
            .order_by("pk")
        )
        if not ending:
            return queued
        clients = {
            client.application_id: client
            for client in Client.objects.select_related("application").filter(
                application_id__in={s.application_id for s in ending}
            )
        }
        told: set[tuple[int, int, str]] = set()
        for sign_in in ending:
            families.revoke_family(sign_in)
            client = clients.get(sign_in.application_id)
            key = (sign_in.application_id, sign_in.user_id, sign_in.sid)
            if (
                client is None
                or not client.backchannel_logout_uri
                or sign_in.redeemed_at is None  # the application never had the sign-in
                or key in told
            ):
                continue
            told.add(key)
            queued.append(
                LogoutDelivery.objects.create(
                    client=client,
                    user=sign_in.user,
                    organisation=sign_in.organisation,
                    sub=claims.subject(sign_in.user, client),
                    sid=sign_in.sid,
                    reason=reason,
                    created_at=now,
                )
            )
        SignIn.objects.filter(pk__in=[s.pk for s in ending]).update(ended_at=now)
        for delivery in queued:
            backchannel.queue(delivery)
    return queued


def end_session(session, person, *, reason: str) -> list[LogoutDelivery]:
    """End the sign-ins this session made (before it is logged out: the sid is in it)."""
    sid = sid_of(session)
    if not sid or person is None:
        return []
    return end_sign_ins(SignIn.objects.filter(user=person, sid=sid), reason=reason)


def on_sessions_ended(
    sender, *, reason: str, person=None, organisation=None, session=None, **kwargs
) -> None:
    """people.signals.sessions_ended's receiver (apps.py)."""
    if session is not None:
        end_session(session, person, reason=reason)
        return
    if person is None and organisation is None:
        raise ValueError("sessions_ended names a session, a person or an organisation")
    sign_ins = SignIn.objects.all()
    if person is not None:
        sign_ins = sign_ins.filter(user=person)
    if organisation is not None:
        sign_ins = sign_ins.filter(organisation=organisation)
    end_sign_ins(sign_ins, reason=reason)
