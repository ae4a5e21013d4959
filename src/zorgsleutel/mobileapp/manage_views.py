"""Beheer → a member's app IDs (seed 003: blokkeren / deblokkeren, verwijderen, and letting them
link a new app): this organisation's decisions, for itself only. Blocking and deleting ask first
(docs/look.md, "Actions"). Parse, check permission, call one flow, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.pages import changed_row, confirm, confirmed, done, guard, render
from zorgsleutel.mobileapp import devices as app_ids
from zorgsleutel.mobileapp import standing
from zorgsleutel.mobileapp.models import AppDecision
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Membership, Organisation

# What Beheer's action did, naming whose app and for which organisation (a decision holds there
# only: docs/accounts.md, "Who governs an authenticator").
DONE = {
    "block": gettext_lazy(
        'The app "%(app)s" of %(person)s is blocked for %(organisation)s. It still works for '
        "other organisations this person belongs to."
    ),
    "unblock": gettext_lazy('The app "%(app)s" of %(person)s works for %(organisation)s again.'),
    "delete": gettext_lazy(
        'The app "%(app)s" of %(person)s is removed for %(organisation)s. To let them link a '
        'new app, choose "Allow linking a new app".'
    ),
    "relink": gettext_lazy(
        "%(person)s may link a new app for %(organisation)s: they log in with password and SMS "
        "code once and link it."
    ),
}


# Beheer's actions that ask first: (question, consequence, button).
ASK = {
    "block": (
        gettext_lazy('Block the app "%(app)s" of %(person)s?'),
        gettext_lazy(
            "%(person)s can then not use this app for %(organisation)s until you unblock it. "
            "It keeps working for other organisations this person belongs to."
        ),
        gettext_lazy("Block"),
    ),
    "delete": (
        gettext_lazy('Delete the app "%(app)s" of %(person)s?'),
        gettext_lazy(
            "The app then no longer works for %(organisation)s, for good. %(person)s can link "
            'a new app only after you choose "Allow linking a new app".'
        ),
        gettext_lazy("Delete"),
    ),
}


@never_cache
@guard
def member_apps(request, public_id, membership_id):
    organisation = get_object_or_404(Organisation, public_id=public_id)
    membership = get_object_or_404(Membership, pk=membership_id, organisation=organisation)
    permissions.require(request.user, "members.view", organisation)
    here = reverse("mobileapp:member_apps", args=[public_id, membership_id])
    if request.method == "POST":
        action = request.POST.get("action", "")
        device_id = request.POST.get("device", "")[:40]
        try:
            if action not in ("block", "unblock", "delete", "relink"):
                raise DomainError("bad_action", _("Unknown action."))
            if action in ASK and not confirmed(request):  # the page asks; only its POST acts
                device = app_ids.managed_device(
                    actor=request.user,
                    organisation=organisation,
                    device_id=device_id,
                    action=action,
                )
                question, consequence, button = ASK[action]
                names = {
                    "app": device.name,
                    "person": membership.display_name,
                    "organisation": organisation.name,
                }
                return confirm(
                    request,
                    question=question % names,
                    consequences=[consequence % names],
                    button=str(button),
                    back=here,
                    carry={"action": action, "device": device.public_id},
                )
            device = app_ids.set_device_state(
                actor=request.user,
                organisation=organisation,
                device_id=device_id,
                action=action,
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            names = {
                "app": device.name,
                "person": membership.display_name,
                "organisation": organisation.name,
            }
            done(request, DONE[action] % names, row=f"app-{device.public_id}")
        return redirect(here)
    # Every app ID of a person who accepted this organisation, as it stands here (its own
    # decisions); an invitation shows nothing of the account (Tenancy).
    rows = []
    changed = changed_row(request)
    if membership.is_accepted:
        for device in standing.devices_of(membership.user):
            state = standing.state_for(device, organisation.pk)
            if state != AppDecision.RELEASED:
                current = f"app-{device.public_id}" == changed
                rows.append({"device": device, "state": state, "changed": current})
        rows.sort(key=lambda row: row["device"].enrolled_at, reverse=True)
    return render(
        request,
        "mobileapp/member_apps.html",
        {"organisation": organisation, "membership": membership, "devices": rows},
    )
