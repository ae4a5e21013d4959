"""Beheer: create users, resend activation links, block, unblock and delete members.

Every flow checks permission first (a refusal is audited and committed on its own), then makes
its change, audit event and mail in one transaction. None of them touches a password or a phone
number: those only the person sets, through their own link (seed 000: "Deze gegevens zijn niet
te wijzigen door de beheerder").
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies, vaultclient
from zorgsleutel.accounts import permissions, tokens
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, PermissionDenied
from zorgsleutel.messaging import outbox
from zorgsleutel.organisations.models import Organisation


def check_business_email(email: str, organisation: Organisation) -> str:
    """Lower-cased e-mail if the organisation accepts it (business address, allowed domain)."""
    email = email.strip().lower()
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


def send_activation(*, user: User, organisation: Organisation | None, send_at=None) -> LinkToken:
    """Issue a fresh activation link (revoking open ones) and queue its mail (this transaction)."""
    raw = tokens.issue(
        user=user, purpose=LinkToken.ACTIVATION, ttl=policies.ACTIVATION_LINK_TTL, send_at=send_at
    )
    link = settings.SITE_URL + reverse("accounts:activate", args=[raw])
    outbox.enqueue_mail(
        template="activation",
        to=user.email,
        locale=user.language,
        context={
            "name": user.name,
            "organisation": organisation.name if organisation else settings.SITE_NAME,
            "link": link,
            "hours": int(policies.ACTIVATION_LINK_TTL.total_seconds() // 3600),
        },
        send_at=send_at,
    )
    return LinkToken.objects.get(token_hash=tokens.digest(raw))


def invite_member(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    email: str,
    role: str = policies.MEMBER,
    application_roles: list[str] | None = None,
) -> Membership:
    """Beheer → Nieuwe gebruiker: an invited account (or new membership) and its activation mail."""
    acting = permissions.require(actor, "members.create", organisation)
    if not policies.may_grant(acting.role, role):
        audit.record(
            "member.create",
            actor=actor,
            organisation=organisation,
            outcome=audit.DENIED,
            details={"role": role},
        )
        raise PermissionDenied("role_not_allowed", _("You may not give this role."))
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
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(email=email).first()
            created = user is None
            if created:
                user = User.objects.create(email=email, name=name, state=User.INVITED)
                user.set_unusable_password()
                user.save(update_fields=["password"])
            elif user.state == User.DELETED:
                raise Conflict("account_deleted", _("This account was deleted."), field="email")
            if Membership.objects.filter(user=user, organisation=organisation).exists():
                raise Conflict(
                    "already_member", _("This person is already a member."), field="email"
                )
            membership = Membership.objects.create(
                user=user,
                organisation=organisation,
                role=role,
                application_roles=sorted(application_roles or []),
            )
            audit.record(
                "member.created",
                actor=actor,
                organisation=organisation,
                target=user,
                details={
                    "role": role,
                    "application_roles": membership.application_roles,
                    "new_account": created,
                },
            )
            if user.state == User.INVITED:
                send_activation(user=user, organisation=organisation)
    except IntegrityError:
        raise Conflict(
            "already_member", _("This person is already a member."), field="email"
        ) from None
    return membership


def _target(actor: User, action: str, membership: Membership) -> Membership:
    """The membership an action is about, if the actor may act on it: the permission in this
    organisation, never on oneself, and only on people whose role the actor may give (seed 003:
    a manager manages care workers, not administrators or other managers)."""
    acting = permissions.require(actor, action, membership.organisation)
    if membership.user_id == actor.pk:
        raise PermissionDenied("not_yourself", _("You cannot do this to your own account."))
    if not policies.may_grant(acting.role, membership.role):
        audit.record(
            "permission.denied",
            actor=actor,
            organisation=membership.organisation,
            target=membership.user,
            outcome=audit.DENIED,
            details={"action": action, "target_role": membership.role},
        )
        raise PermissionDenied(
            "role_not_allowed",
            _("Only an administrator can do this to someone with the role %(role)s.")
            % {"role": membership.get_role_display()},
        )
    return membership


def _keep_an_administrator(membership: Membership) -> None:
    """Inside the transaction: refuse to take away the organisation's last active administrator."""
    if membership.role != policies.ADMINISTRATOR:
        return
    others = (
        Membership.objects.select_for_update()
        .filter(organisation=membership.organisation, role=policies.ADMINISTRATOR)
        .exclude(pk=membership.pk)
        .filter(user__state=User.ACTIVE)
    )
    if not list(others):
        raise Conflict(
            "last_administrator",
            _("An organisation always keeps at least one administrator. Appoint another first."),
        )


def change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """An administrator appoints a member manager or administrator, or takes the role back."""
    acting = permissions.require(actor, "managers.appoint", membership.organisation)
    if role not in dict(Membership.ROLES) or not policies.may_grant(acting.role, role):
        raise PermissionDenied("role_not_allowed", _("You may not give this role."))
    if membership.user_id == actor.pk:
        raise PermissionDenied("not_yourself", _("You cannot do this to your own account."))
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if role != policies.ADMINISTRATOR:
            _keep_an_administrator(membership)
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
    """Nieuwe activatielink sturen: revoke open links, send a fresh one."""
    _target(actor, "members.resend_activation", membership)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        if user.state != User.INVITED:
            raise Conflict("not_invited", _("This person has already activated the account."))
        token = send_activation(user=user, organisation=membership.organisation)
        audit.record(
            "member.activation_resent",
            actor=actor,
            organisation=membership.organisation,
            target=user,
        )
    return token


def block_member(*, actor: User, membership: Membership) -> None:
    """Block: the person cannot log in, and every session of theirs ends at once."""
    _target(actor, "members.block", membership)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        if user.state == User.BLOCKED:
            return
        if user.state == User.DELETED:
            raise Conflict("account_deleted", _("This account was deleted."))
        _keep_an_administrator(membership)
        user.state = User.BLOCKED
        user.auth_epoch += 1
        user.save(update_fields=["state", "auth_epoch"])
        audit.record(
            "member.blocked", actor=actor, organisation=membership.organisation, target=user
        )


def unblock_member(*, actor: User, membership: Membership) -> None:
    _target(actor, "members.unblock", membership)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        if user.state != User.BLOCKED:
            raise Conflict("not_blocked", _("This person is not blocked."))
        user.state = (
            User.ACTIVE if user.has_usable_password() and user.phone_enrolment else User.INVITED
        )
        user.save(update_fields=["state"])
        audit.record(
            "member.unblocked", actor=actor, organisation=membership.organisation, target=user
        )


def delete_member(*, actor: User, membership: Membership) -> None:
    """Remove the membership; with none left, erase the phone and anonymise the account."""
    _target(actor, "members.delete", membership)
    organisation = membership.organisation
    erase = ""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        _keep_an_administrator(membership)
        Membership.objects.filter(pk=membership.pk).delete()
        audit.record("member.deleted", actor=actor, organisation=organisation, target=user)
        if not user.memberships.exists() and not user.is_operator:
            erase = user.phone_enrolment
            anonymise(user)
            audit.record("account.anonymised", actor=actor, organisation=organisation, target=user)
    if erase:
        erase_phone(erase, user)


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
    """Erase a vault enrolment after commit; a failure is audited for an operator to retry."""
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
