"""Beheer pages (seed 000 and 003): people of an organisation, Nieuwe gebruiker, and the actions
a manager may take. Parse, check permission (inside the flows), call one flow, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zorgsleutel import policies
from zorgsleutel.accounts import forms, queries
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.pages import guard, render, show_error
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
    rows = [(m, queries.state_of(m), STATE_LABELS[queries.state_of(m)]) for m in page.object_list]
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
    form = forms.NewUserForm(
        request.POST or None, roles=roles, application_roles=organisation.application_roles or []
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
            messages.success(
                request,
                _("%(email)s has been created and receives an activation mail.")
                % {"email": membership.user.email},
            )
            return redirect("accounts:members", public_id=organisation.public_id)
    return render(request, "beheer/new_member.html", {"form": form, "organisation": organisation})


ACTIONS = {  # action: (flow, permission, message when done)
    "resend": (
        members.resend_activation,
        "members.resend_activation",
        gettext_lazy("A new activation link has been sent."),
    ),
    "block": (members.block_member, "members.block", gettext_lazy("The account is blocked.")),
    "unblock": (
        members.unblock_member,
        "members.unblock",
        gettext_lazy("The account is unblocked."),
    ),
    "delete": (
        members.delete_member,
        "members.delete",
        gettext_lazy("The person has been removed from the organisation."),
    ),
}


@guard
@require_http_methods(["GET", "POST"])
def member_action(request, public_id, membership_id, action):
    organisation = _organisation(public_id)
    if action not in ACTIONS:
        raise Http404
    membership = get_object_or_404(Membership, pk=membership_id, organisation=organisation)
    flow, permission, done = ACTIONS[action]
    if request.method == "GET":  # a confirmation page; only POST changes anything
        permissions.require(request.user, permission, organisation)
        return render(
            request,
            "beheer/confirm.html",
            {"organisation": organisation, "membership": membership, "action": action},
        )
    try:
        flow(actor=request.user, membership=membership)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return redirect("accounts:members", public_id=organisation.public_id)


@guard
@require_POST
def member_role(request, public_id, membership_id):
    """Administrators appoint managers and administrators (seed 003, role 1)."""
    organisation = _organisation(public_id)
    membership = get_object_or_404(Membership, pk=membership_id, organisation=organisation)
    try:
        changed = members.change_role(
            actor=request.user, membership=membership, role=request.POST.get("role", "")[:20]
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(name)s now has the role %(role)s.")
            % {"name": changed.display_name, "role": changed.get_role_display()},
        )
    return redirect("accounts:members", public_id=organisation.public_id)
