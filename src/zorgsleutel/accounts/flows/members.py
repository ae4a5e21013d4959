"""Beheer's verbs: invite a member, change a role, resend the activation link, block, unblock
and delete a membership.

Every flow checks permission first, then makes its change, audit event and mail in one
transaction. Every refusal is audited (`permission.denied`, its code as `reason`); one decided
inside the transaction undoes what it wrote and keeps its event (audit.atomic). None of them
touches a password or a phone number: those only the person sets, through their own link
(seed 000: "Deze gegevens zijn niet te wijzigen door de beheerder"). What happens to a
membership over its life (its links, its acceptance, the end of an account) is memberships.py's.
"""

from __future__ import annotations

import functools

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.accounts.flows import memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.authn import limits, means, refusals
from zorgsleutel.core import audit, ratelimit
from zorgsleutel.core.errors import Conflict, DomainError
from zorgsleutel.people import permissions, signals
from zorgsleutel.people.models import Organisation


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
    email = memberships.check_business_email(email, organisation)
    name = " ".join(name.split())
    if not name:
        raise DomainError("name_required", _("Fill in a name."), field="name")
    already = refusals.error("already_member", Conflict, field="email")
    try:
        with audit.atomic():
            membership = memberships.add_invited_membership(
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


def check_action(*, actor: User, action: str, membership: Membership) -> Membership:
    """May the actor take `action` (policies.PERMISSIONS: "members.block", "members.delete") on
    this membership? Asked by the confirmation page, which changes nothing: refused and audited
    as the flow itself would refuse."""
    return _target(actor, action, membership)


def check_role_change(*, actor: User, membership: Membership, role: str) -> Membership:
    """May the actor give this membership `role`? Asked by the confirmation page and by
    change_role: refused (and audited) alike."""
    action = "managers.appoint"
    acting = permissions.require(actor, action, membership.organisation)
    if role not in dict(Membership.ROLES):
        raise DomainError("unknown_role", _("Choose one of the roles."), field="role")
    where = {"actor": actor, "organisation": membership.organisation, "target": membership.user}
    if not policies.may_grant(acting.role, role):
        raise _refused(action, refusals.error("role_not_allowed", role=_role_name(role)), **where)
    if membership.user_id == actor.pk:
        raise _refused(action, refusals.error("not_yourself"), **where)
    holds_card = means.standing_of(membership.user, "smartcard") != means.NONE
    if policies.smartcard_role_refusal(role, holds_card=holds_card) is not None:
        raise _refused(action, refusals.error("smartcard_holder_role"), **where)
    return membership


def change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """An administrator appoints a member manager or administrator, or takes the role back."""
    action = "managers.appoint"
    check_role_change(actor=actor, membership=membership, role=role)
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
        token = memberships.send_membership_link(membership=membership)
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
            ended = {"person": user}  # every application they signed in to
        else:  # the applications they signed in to for this organisation
            ended = {"person": user, "organisation": membership.organisation}
        signals.sessions_ended.send(sender=__name__, reason="membership_blocked", **ended)
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
            memberships.anonymise(user)
            # The platform's log, not the organisation's: whether deleting an invitation ended
            # an account would tell the organisation that the address had none before.
            audit.record("account.anonymised", actor=actor, target=user)
            memberships.reinvite_as_new(email, invitations)
            if erase:
                memberships.erase_phone(erase, user)
