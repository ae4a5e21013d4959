"""A membership's life and its person's: the links that invite, taking up an invitation, and the
end of an account (anonymised, its phone erased after commit).

No permission is checked here: the callers (Beheer's verbs in members.py, the import, the
onboarding, the person's own activation, reset and *Dit was ik niet*) check theirs and hold the
transaction; these helpers write inside it. Only accept_invitation is a whole flow: the person
takes up an invitation as themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies, vaultclient
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.authn import means, refusals
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError, NotFound
from zorgsleutel.messaging import outbox
from zorgsleutel.people import emails, signals
from zorgsleutel.people.models import Organisation


def check_business_email(email: str, organisation: Organisation) -> str:
    """Lower-cased e-mail if the organisation accepts it (a valid address, a business one, in an
    allowed domain)."""
    email = emails.normalise(email)
    domain = email.rpartition("@")[2]
    allowed = [d.lower() for d in organisation.allowed_email_domains or []]
    if allowed and domain not in allowed:
        raise DomainError(
            "email_domain_not_allowed",
            _("%(organisation)s only accepts e-mail addresses ending in %(domains)s.")
            % {"organisation": organisation.name, "domains": ", ".join("@" + d for d in allowed)},
            field="email",
        )
    if domain in policies.CONSUMER_EMAIL_DOMAINS:
        raise DomainError(
            "consumer_email",
            _("Use a business e-mail address; addresses at %(domain)s are not accepted.")
            % {"domain": domain},
            field="email",
        )
    return email


def send_activation(
    *, user: User, organisation: Organisation | None, membership=None, send_at=None
) -> LinkToken:
    """Issue a fresh activation link (revoking open ones) and queue its mail (this transaction).
    With a membership, activating the account accepts that membership."""
    raw = tokens.issue(
        user=user,
        purpose=LinkToken.ACTIVATION,
        ttl=policies.ACTIVATION_LINK_TTL,
        send_at=send_at,
        membership=membership,
    )
    link = settings.SITE_URL + reverse("accounts:activate", args=[raw])
    outbox.enqueue_mail(
        template="activation",
        to=user.email,
        locale=user.language,
        context={
            # The name this organisation typed: another organisation's text never appears in
            # this one's mail (the account's name came from whoever invited it first).
            "name": membership.invited_name
            if membership and membership.invited_name
            else user.name,
            "organisation": organisation.name if organisation else settings.SITE_NAME,
            "link": link,
            "hours": int(policies.ACTIVATION_LINK_TTL.total_seconds() // 3600),
        },
        send_at=send_at,
    )
    return LinkToken.objects.get(token_hash=tokens.digest(raw))


def send_invitation(*, membership: Membership, send_at=None) -> LinkToken:
    """Mail someone who already has an account a link to accept this membership (logged in)."""
    user, organisation = membership.user, membership.organisation
    raw = tokens.issue(
        user=user,
        purpose=LinkToken.INVITATION,
        ttl=policies.INVITATION_LINK_TTL,
        send_at=send_at,
        membership=membership,
    )
    outbox.enqueue_mail(
        template="invitation",
        to=user.email,
        locale=user.language,
        context={
            "name": user.name,
            "organisation": organisation.name,
            "role": str(dict(Membership.ROLES)[membership.role]),
            "link": settings.SITE_URL + reverse("accounts:invitation", args=[raw]),
            "hours": int(policies.INVITATION_LINK_TTL.total_seconds() // 3600),
        },
        send_at=send_at,
    )
    return LinkToken.objects.get(token_hash=tokens.digest(raw))


def send_membership_link(*, membership: Membership, send_at=None) -> LinkToken:
    """The link that lets the person take up an invited membership: activation for an account
    without credentials yet, an invitation to accept for one that has them."""
    if membership.user.state == User.INVITED:
        return send_activation(
            user=membership.user,
            organisation=membership.organisation,
            membership=membership,
            send_at=send_at,
        )
    return send_invitation(membership=membership, send_at=send_at)


def add_invited_membership(
    *,
    organisation: Organisation,
    email: str,
    name: str,
    role: str,
    application_roles: list[str] | None = None,
    send_at=None,
    password_hash: str = "",
) -> Membership | None:
    """Inside a transaction: an invited membership for this address and its link, whether or
    not the address has an account (Tenancy: the organisation learns nothing about an existing
    account; the person accepts, or activates a new one). None if the person is already in
    the organisation."""
    user = User.objects.select_for_update().filter(email=email).first()
    if user is None:
        user = _new_invited_account(email, name, password_hash)
    elif Membership.objects.filter(user=user, organisation=organisation).exists():
        return None
    membership = Membership.objects.create(
        user=user,
        organisation=organisation,
        role=role,
        application_roles=sorted(application_roles or []),
        state=Membership.INVITED,
        invited_name=name,
    )
    send_membership_link(membership=membership, send_at=send_at)
    return membership


def _new_invited_account(email: str, name: str, password_hash: str = "") -> User:
    """An account for an address that had none: invited, without credentials until activated."""
    user = User(email=email, name=name, state=User.INVITED)
    if password_hash:
        user.password = password_hash  # an import's hash; Argon2id replaces it at activation
    else:
        user.set_unusable_password()
    user.save()
    return user


def accept_invitation(*, actor: User, membership: Membership) -> Membership:
    """The person takes up an organisation's invitation (logged in as themselves)."""
    # Refusals go to the platform's log only: the inviting organisation must not learn that
    # the address it typed is an operator's, or someone else's account (Tenancy).
    if actor.is_operator:
        raise audit.refused(
            "permission.denied",
            refusals.error("operator_not_member"),
            actor=actor,
            details={"action": "members.accept"},
        )
    with audit.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("organisation")
            .filter(pk=membership.pk, user=actor)
            .first()
        )
        if membership is None or membership.state != Membership.INVITED:
            raise audit.refused(
                "permission.denied",
                NotFound("invalid_link", _("This invitation is not open (any more).")),
                actor=actor,
                details={"action": "members.accept"},
            )
        holds_card = means.standing_of(actor, "smartcard") != means.NONE
        if policies.smartcard_role_refusal(membership.role, holds_card=holds_card) is not None:
            raise audit.refused(  # the platform's log: the organisation learns nothing
                "permission.denied",
                refusals.error("smartcard_holder_role_own"),
                actor=actor,
                details={"action": "members.accept"},
            )
        accept(membership)
        audit.record(
            "member.accepted", actor=actor, organisation=membership.organisation, target=actor
        )
        signals.memberships_changed.send(sender=__name__, person=actor)
    return membership


def accept(membership: Membership) -> None:
    """Inside a transaction: the membership is accepted, its open links used up."""
    now = clock.now()
    membership.state = Membership.ACTIVE
    membership.accepted_at = now
    membership.save(update_fields=["state", "accepted_at"])
    LinkToken.objects.filter(membership=membership, used_at=None, revoked_at=None).update(
        used_at=now
    )


def anonymise(user: User) -> None:
    """Keep the row (audit events point at its pseudonymous public_id), drop everything personal."""
    user.email = f"deleted-{user.public_id}@invalid"
    user.name = ""
    user.state = User.DELETED
    user.phone_enrolment = ""
    user.auth_epoch += 1
    user.set_unusable_password()
    user.save()
    signals.sessions_ended.send(sender=__name__, reason="account_deleted", person=user)
    LinkToken.objects.filter(user=user, used_at=None, revoked_at=None).update(
        revoked_at=clock.now()
    )


def reinvite_as_new(email: str, invitations: list[Membership]) -> None:
    """Open invitations of an account that has just been erased: from the inviting
    organisations' side the address now has no account, so each becomes what inviting a new
    address makes (an invited account under the address, an activation mail)."""
    if not invitations:
        return
    fresh = _new_invited_account(email, invitations[0].invited_name or email)
    for membership in invitations:
        Membership.objects.filter(pk=membership.pk).update(user=fresh)
        membership.user = fresh
        send_membership_link(membership=membership)


def erase_phone(enrolment: str, user: User | None) -> None:
    """Erase a vault enrolment once the current transaction commits (at once outside one), so
    that no transaction, however far out, can erase a number its rows still point at and then
    roll back. A failure is audited for an operator to retry."""
    transaction.on_commit(lambda: _erase_now(enrolment, user))


def _erase_now(enrolment: str, user: User | None) -> None:
    try:
        vaultclient.get().erase(enrolment=enrolment)
    except vaultclient.VaultRefused as exc:
        if exc.code != "unknown_enrolment":
            audit.record(
                "phone.erase_failed",
                actor="system",
                target=user or "",
                outcome=audit.FAILURE,
                details={"error": exc.code, "enrolment": enrolment},
            )
    except vaultclient.VaultUnavailable as exc:
        audit.record(
            "phone.erase_failed",
            actor="system",
            target=user or "",
            outcome=audit.FAILURE,
            details={"error": str(exc)[:200], "enrolment": enrolment},
        )
