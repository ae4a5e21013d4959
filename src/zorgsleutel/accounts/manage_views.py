"""Beheer pages (seed 000 and 003): people of an organisation, Nieuwe gebruiker, and the actions
a manager may take. Parse, check permission (inside the flows), call one flow, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zorgsleutel import policies
from zorgsleutel.accounts import forms, queries
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.pages import changed_row, confirm, confirmed, done, guard, render, show_error
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Organisation

STATE_LABELS = {
    "invited": gettext_lazy("invited"),
    queries.LINK_EXPIRED: gettext_lazy("link expired"),
    "active": gettext_lazy("active"),
    "blocked": gettext_lazy("blocked"),
    "deleted": gettext_lazy("deleted"),
}


def _organisation(public_id) -> Organisation:
    return get_object_or_404(Organisation, public_id=public_id)


@never_cache
@guard
def index(request):
    allowed = [
        m
        for m in request.user.memberships.select_related("organisation")
        if policies.allows(m.role, "members.view")
    ]
    if len(allowed) == 1:
        return redirect("accounts:members", public_id=allowed[0].organisation.public_id)
    if not allowed:
        raise PermissionDenied("forbidden", _("You do not manage any organisation."))
    return render(request, "beheer/index.html", {"memberships": allowed})


@never_cache
@guard
def member_list(request, public_id):
    organisation = _organisation(public_id)
    acting = permissions.require(request.user, "members.view", organisation)
    search = request.GET.get("q", "")
    page = queries.page_of_members(organisation, search=search, page=request.GET.get("page", 1))
    changed = changed_row(request)
    rows = [
        (m, queries.state_of(m), STATE_LABELS[queries.state_of(m)], f"member-{m.pk}" == changed)
        for m in page.object_list
    ]
    return render(
        request,
        "beheer/members.html",
        {
            "organisation": organisation,
            "page": page,
            "rows": rows,
            "search": search,
            "acting": acting,
            # Managers act on care workers only (seed 003); the flows enforce it too.
            "manageable": policies.ROLE_GRANTS.get(acting.role, frozenset()),
            "roles": [
                (v, label) for v, label in Membership.ROLES if policies.may_grant(acting.role, v)
            ],
        },
    )


@never_cache
@guard
@require_http_methods(["GET", "POST"])
def new_member(request, public_id):
    organisation = _organisation(public_id)
    acting = permissions.require(request.user, "members.create", organisation)
    roles = [
        (value, label)
        for value, label in Membership.ROLES
        if policies.may_grant(acting.role, value)
    ]
    # Aan de slag links here with the role it is about (?rol=manager): chosen, not given.
    chosen = request.GET.get("rol", "")
    form = forms.NewUserForm(
        request.POST or None,
        roles=roles,
        application_roles=organisation.application_roles or [],
        initial={"role": chosen} if chosen in dict(roles) else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership = members.invite_member(
                actor=request.user,
                organisation=organisation,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                application_roles=form.cleaned_data.get("application_roles") or [],
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            show_error(form, error)
        else:
            # The same words whether or not the address has an account (Tenancy): what was
            # typed, never the account's own name.
            done(
                request,
                _(
                    "%(name)s (%(email)s) is invited to %(organisation)s and receives an e-mail "
                    "with a link to start."
                )
                % {
                    "name": membership.invited_name,
                    "email": membership.user.email,
                    "organisation": organisation.name,
                },
                row=f"member-{membership.pk}",
            )
            return redirect("accounts:members", public_id=organisation.public_id)
    return render(request, "beheer/new_member.html", {"form": form, "organisation": organisation})


# What each action on a member asks and says (docs/look.md, "Actions"): the ones in ASK show a
# confirmation page first; every result names the person and the organisation.
ACTIONS = {  # action: (flow, permission)
    "resend": (members.resend_activation, "members.resend_activation"),
    "block": (members.block_member, "members.block"),
    "unblock": (members.unblock_member, "members.unblock"),
    "delete": (members.delete_member, "members.delete"),
}
DONE = {
    "resend": gettext_lazy("A new activation link has been sent to %(name)s (%(email)s)."),
    "block": gettext_lazy("%(name)s is blocked in %(organisation)s."),
    "unblock": gettext_lazy("%(name)s is unblocked in %(organisation)s."),
    "delete": gettext_lazy("%(name)s is removed from %(organisation)s."),
}
ASK = {  # action: (question, consequences, button)
    "block": (
        gettext_lazy("Block %(name)s in %(organisation)s?"),
        [
            gettext_lazy(
                "%(name)s (%(email)s) can then do nothing in %(organisation)s any more: not log "
                "in for it, and their API tokens and app IDs do not work there."
            ),
            gettext_lazy("You can unblock them later, here under Management."),
        ],
        gettext_lazy("Block"),
    ),
    "delete": (
        gettext_lazy("Remove %(name)s from %(organisation)s?"),
        [
            gettext_lazy(
                "%(name)s (%(email)s) is then no longer a member of %(organisation)s and loses "
                "their role and application roles there."
            ),
            gettext_lazy("This cannot be undone: to let them back in, invite them again."),
        ],
        gettext_lazy("Delete"),
    ),
}


def _names(membership: Membership, organisation: Organisation) -> dict:
    return {
        "name": membership.display_name,
        "email": membership.user.email,
        "organisation": organisation.name,
    }


@guard
@require_http_methods(["GET", "POST"])
def member_action(request, public_id, membership_id, action):
    organisation = _organisation(public_id)
    if action not in ACTIONS:
        raise Http404
    membership = get_object_or_404(Membership, pk=membership_id, organisation=organisation)
    flow, permission = ACTIONS[action]
    names = _names(membership, organisation)
    back = reverse("accounts:members", args=[organisation.public_id])
    if action in ASK and not confirmed(request):  # the page asks; only its POST acts
        members.check_action(actor=request.user, action=permission, membership=membership)
        question, consequences, button = ASK[action]
        return confirm(
            request,
            question=question % names,
            consequences=[line % names for line in consequences],
            button=str(button),
            back=back,
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        flow(actor=request.user, membership=membership)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        done(request, DONE[action] % names, row=f"member-{membership.pk}")
    return redirect(back)


# What a role change takes away, in people's words (policies.lost_permissions): the confirmation
# page lists it.
RIGHTS = {
    "members.view": gettext_lazy("manage people, their app IDs and smartcards"),
    "managers.appoint": gettext_lazy("appoint managers and administrators"),
    "audit.view": gettext_lazy("read the audit log"),
    "smartcards.order": gettext_lazy("order blank smartcards"),
    "sso_clients.register": gettext_lazy(
        "register the organisation's applications (single sign-on)"
    ),
}


@guard
@require_POST
def member_role(request, public_id, membership_id):
    """Administrators appoint managers and administrators (seed 003, role 1); taking rights away
    asks first."""
    organisation = _organisation(public_id)
    membership = get_object_or_404(Membership, pk=membership_id, organisation=organisation)
    role = request.POST.get("role", "")[:20]
    names = _names(membership, organisation)
    back = reverse("accounts:members", args=[organisation.public_id])
    lost = policies.lost_permissions(membership.role, role)
    try:
        if lost and not confirmed(request):
            members.check_role_change(actor=request.user, membership=membership, role=role)
            roles = dict(Membership.ROLES)
            names.update(old=roles[membership.role], new=roles[role])
            return confirm(
                request,
                question=_("Change the role of %(name)s from %(old)s to %(new)s?") % names,
                consequences=[_("In %(organisation)s, %(name)s can then no longer:") % names],
                items=[str(RIGHTS[p]) for p in lost if p in RIGHTS],
                button=_("Change role"),
                back=back,
                carry={"role": role},
            )
        changed = members.change_role(actor=request.user, membership=membership, role=role)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        done(
            request,
            _("%(name)s now has the role %(role)s in %(organisation)s.")
            % {**names, "name": changed.display_name, "role": changed.get_role_display()},
            row=f"member-{membership.pk}",
        )
    return redirect(back)
