"""Beheer: create users, resend activation links, block, unblock and delete members.

Every flow checks permission first, then makes its change, audit event and mail in one
transaction. Every refusal is audited (`permission.denied`, its code as `reason`); one decided
inside the transaction undoes what it wrote and keeps its event (audit.atomic). None of them
touches a password or a phone number: those only the person sets, through their own link
(seed 000: "Deze gegevens zijn niet te wijzigen door de beheerder").
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies, vaultclient
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.authn import limits, refusals
from zorgsleutel.core import audit, clock, ratelimit
from zorgsleutel.core.errors import Conflict, DomainError, NotFound
from zorgsleutel.messaging import outbox
from zorgsleutel.people import emails, permissions, signals
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
            "days": policies.INVITATION_LINK_TTL.days,
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


def invite_member(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    email: str,
    role: str = policies.MEMBER,
    application_roles: list[str] | None = None,
) -> Membership:
    """Beheer → Nieuwe gebruiker: an invited membership and the mail that lets the person take
    it up. The same answer, events and work whether or not the address has an account."""
    acting = permissions.require(actor, "members.create", organisation)
    if not policies.may_grant(acting.role, role):
        raise _refused(
            "members.create",
            refusals.error("role_not_allowed", role=_role_name(role)),
            actor=actor,
            organisation=organisation,
            target_role=role,
        )
    unknown = set(application_roles or []) - set(organisation.application_roles or [])
    if unknown:
        raise DomainError(
            "unknown_application_role",
            _("Unknown application role: %(roles)s.") % {"roles": ", ".join(sorted(unknown))},
            field="application_roles",
        )
    email = check_business_email(email, organisation)
    name = " ".join(name.split())
    if not name:
        raise DomainError("name_required", _("Fill in a name."), field="name")
    already = refusals.error("already_member", Conflict, field="email")
    try:
        with audit.atomic():
            membership = add_invited_membership(
                organisation=organisation,
                email=email,
                name=name,
                role=role,
                application_roles=application_roles,
            )
            if membership is None:
                raise _refused("members.create", already, actor=actor, organisation=organisation)
            # Nothing here says whether the address had an account: this is the
            # organisation's own log.
            audit.record(
                "member.created",
                actor=actor,
                organisation=organisation,
                target=membership.user,
                details={"role": role, "application_roles": membership.application_roles},
            )
    except IntegrityError:  # a parallel invitation of the same address won
        raise _refused("members.create", already, actor=actor, organisation=organisation) from None
    return membership


def _refused(action: str, error: DomainError, *, actor, organisation, target=None, **details):
    """A refused action, audited in the organisation's log (`permission.denied`)."""
    return audit.refused(
        "permission.denied",
        error,
        actor=actor,
        organisation=organisation,
        target=target,
        details={"action": action, **details},
    )


def _role_name(role: str) -> str:
    return str(dict(Membership.ROLES).get(role, role))


def _target(actor: User, action: str, membership: Membership) -> Membership:
    """The membership an action is about, if the actor may act on it: the permission in this
    organisation, never on oneself, and only on people whose role the actor may give (seed 003:
    a manager manages care workers, not administrators or other managers)."""
    acting = permissions.require(actor, action, membership.organisation)
    where = {"actor": actor, "organisation": membership.organisation, "target": membership.user}
    if membership.user_id == actor.pk:
        raise _refused(action, refusals.error("not_yourself"), **where)
    if not policies.may_grant(acting.role, membership.role):
        raise _refused(
            action,
            refusals.error("role_not_allowed", role=_role_name(membership.role)),
            target_role=membership.role,
            **where,
        )
    return membership


def _keep_an_administrator(membership: Membership, *, actor: User, action: str) -> None:
    """Inside the transaction: refuse to take away the organisation's last active administrator."""
    if membership.role != policies.ADMINISTRATOR:
        return
    others = (
        Membership.objects.select_for_update()
        .filter(organisation=membership.organisation, role=policies.ADMINISTRATOR)
        .exclude(pk=membership.pk)
        .filter(state=Membership.ACTIVE, user__state=User.ACTIVE)
    )
    if not list(others):
        raise _refused(
            action,
            refusals.error("last_administrator", Conflict),
            actor=actor,
            organisation=membership.organisation,
            target=membership.user,
        )


def change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """An administrator appoints a member manager or administrator, or takes the role back."""
    action = "managers.appoint"
    acting = permissions.require(actor, action, membership.organisation)
    if role not in dict(Membership.ROLES):
        raise DomainError("unknown_role", _("Choose one of the roles."), field="role")
    where = {"actor": actor, "organisation": membership.organisation, "target": membership.user}
    if not policies.may_grant(acting.role, role):
        raise _refused(action, refusals.error("role_not_allowed", role=_role_name(role)), **where)
    if membership.user_id == actor.pk:
        raise _refused(action, refusals.error("not_yourself"), **where)
    with audit.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if role != policies.ADMINISTRATOR:
            _keep_an_administrator(membership, actor=actor, action=action)
        previous, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        audit.record(
            "member.role_changed",
            actor=actor,
            organisation=membership.organisation,
            target=membership.user,
            details={"from": previous, "to": role},
        )
    return membership


def resend_activation(*, actor: User, membership: Membership) -> LinkToken:
    """Nieuwe activatielink sturen: revoke open links, send a fresh one.

    Limited per membership and per actor (policies.RATE_LIMITS["invitation.resend"]), counted
    before the transaction so the refusal's audit event stays: a resend mails the person, and
    without a limit a manager's click (or a script with their API token) could mail anyone in
    the organisation over and over. Per membership, not per person: one organisation's resends
    never use up another's."""
    _target(actor, "members.resend_activation", membership)
    ratelimit.consume(
        action="invitation.resend",
        membership=membership.pk,
        user=actor.pk,
        actor=actor,
        target=membership.user,
        code="resend_rate_limited",
        message=functools.partial(limits.message, "resend_rate_limited"),
    )
    with audit.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        if membership.state != Membership.INVITED:
            raise _refused(
                "members.resend_activation",
                refusals.error("not_invited", Conflict),
                actor=actor,
                organisation=membership.organisation,
                target=membership.user,
            )
        token = send_membership_link(membership=membership)
        audit.record(
            "member.activation_resent",
            actor=actor,
            organisation=membership.organisation,
            target=membership.user,
        )
    return token


def block_member(*, actor: User, membership: Membership) -> None:
    """Block the membership: the person can do nothing in this organisation any more (its
    pages, API tokens and app IDs), at once; their standing elsewhere is untouched. Someone
    left with no other active organisation is logged out everywhere."""
    _target(actor, "members.block", membership)
    with audit.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.state == Membership.BLOCKED:
            return
        _keep_an_administrator(membership, actor=actor, action="members.block")
        membership.state = Membership.BLOCKED
        membership.save(update_fields=["state"])
        user = User.objects.select_for_update().get(pk=membership.user_id)
        if not user.is_operator and not user.memberships.filter(state=Membership.ACTIVE).exists():
            user.auth_epoch += 1  # no organisation left to act in: end the sessions
            user.save(update_fields=["auth_epoch"])
        audit.record(
            "member.blocked", actor=actor, organisation=membership.organisation, target=user
        )


def unblock_member(*, actor: User, membership: Membership) -> None:
    _target(actor, "members.unblock", membership)
    with audit.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.state != Membership.BLOCKED:
            raise _refused(
                "members.unblock",
                refusals.error("not_blocked", Conflict),
                actor=actor,
                organisation=membership.organisation,
                target=membership.user,
            )
        membership.state = Membership.ACTIVE if membership.accepted_at else Membership.INVITED
        membership.save(update_fields=["state"])
        audit.record(
            "member.unblocked",
            actor=actor,
            organisation=membership.organisation,
            target=membership.user,
        )


def delete_member(*, actor: User, membership: Membership) -> None:
    """Remove the membership. An account left with no accepted membership is anonymised (its
    phone erased) when this organisation was really its organisation (an accepted membership)
    or the account was never activated; an invitation another account never accepted leaves
    that account alone. This organisation's decisions about the person's app IDs go with it
    (people.signals.memberships_changed)."""
    _target(actor, "members.delete", membership)
    organisation = membership.organisation
    with audit.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        _keep_an_administrator(membership, actor=actor, action="members.delete")
        was_accepted = membership.is_accepted
        # Recorded while the membership exists: the event keeps the address the organisation
        # knew the person by (audit `names`), which its log shows from now on.
        audit.record("member.deleted", actor=actor, organisation=organisation, target=user)
        Membership.objects.filter(pk=membership.pk).delete()
        signals.memberships_changed.send(sender=__name__, person=user)
        accepted_left = user.memberships.filter(accepted_at__isnull=False).exists()
        never_activated = user.state == User.INVITED and not user.memberships.exists()
        if not user.is_operator and not accepted_left and (was_accepted or never_activated):
            erase, email = user.phone_enrolment, user.email
            invitations = list(user.memberships.select_related("organisation"))
            anonymise(user)
            # The platform's log, not the organisation's: whether deleting an invitation ended
            # an account would tell the organisation that the address had none before.
            audit.record("account.anonymised", actor=actor, target=user)
            _reinvite_as_new(email, invitations)
            if erase:
                erase_phone(erase, user)


def _reinvite_as_new(email: str, invitations: list[Membership]) -> None:
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
    LinkToken.objects.filter(user=user, used_at=None, revoked_at=None).update(
        revoked_at=clock.now()
    )


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
