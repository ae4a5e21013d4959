"""Beheer → a member's smartcards (seed 003: *blokkeren/deblokkeren, verwijderen*, and the identity
document seen in person). Blocking, unblocking and deleting ask first (docs/look.md, "Actions").
Parse, check permission, call one flow, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from zorgsleutel import policies
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.pages import changed_row, confirm, confirmed, done, guard, render
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Membership, Organisation
from zorgsleutel.smartcards import creation, lifecycle
from zorgsleutel.smartcards.forms import IdentitySeenForm
from zorgsleutel.smartcards.models import Smartcard

DONE = {
    "block": gettext_lazy(
        "Smartcard %(serial)s of %(person)s is blocked for %(organisation)s: it cannot be used "
        "until you unblock it."
    ),
    "unblock": gettext_lazy("Smartcard %(serial)s of %(person)s works again."),
    "delete": gettext_lazy(
        "Smartcard %(serial)s of %(person)s is deleted: its certificate is revoked for good."
    ),
}
# Beheer's actions ask first (docs/look.md, "Actions"): (question, consequence, button).
ASK = {
    "block": (
        gettext_lazy("Block smartcard %(serial)s of %(person)s?"),
        gettext_lazy("Nobody can then log in with this card until you unblock it."),
        gettext_lazy("Block"),
    ),
    "unblock": (
        gettext_lazy("Unblock smartcard %(serial)s of %(person)s?"),
        gettext_lazy(
            "Whoever holds the card can then log in with it and its PIN again. Unblock it only "
            "when you know that %(person)s has it."
        ),
        gettext_lazy("Unblock"),
    ),
    "delete": (
        gettext_lazy("Delete smartcard %(serial)s of %(person)s?"),
        gettext_lazy(
            "Its certificate is then revoked for good: the card never works again. %(person)s "
            "can make a new smartcard."
        ),
        gettext_lazy("Delete"),
    ),
}


@never_cache
@guard
def member_cards(request, public_id, membership_id):
    organisation = get_object_or_404(Organisation, public_id=public_id)
    membership = get_object_or_404(Membership, pk=membership_id, organisation=organisation)
    permissions.require(request.user, "members.view", organisation)
    here = reverse("smartcards:member_cards", args=[public_id, membership_id])
    identity_form = IdentitySeenForm(
        request.POST if request.POST.get("action") == "confirm_identity" else None,
        person=membership.display_name,
    )
    identity_refused = identity_form.is_bound and not identity_form.is_valid()
    if request.method == "POST" and not identity_refused:  # refused: the page, with its error
        action = request.POST.get("action", "")
        try:
            if action == "confirm_identity":
                lifecycle.confirm_identity(
                    actor=request.user, organisation=organisation, membership_id=membership.pk
                )
                messages.success(
                    request,
                    _(
                        "You confirmed the identity of %(person)s. They can now make their "
                        "smartcard under My Zorgsleutel."
                    )
                    % {"person": membership.display_name},
                )
            elif action in lifecycle.ACTIONS and not confirmed(request):  # the page asks
                card = lifecycle.managed_card(
                    actor=request.user,
                    organisation=organisation,
                    card_id=request.POST.get("card", ""),
                    action=action,
                )
                question, consequence, button = ASK[action]
                names = _names(card, membership)
                return confirm(
                    request,
                    question=question % names,
                    consequences=[consequence % names],
                    button=str(button),
                    back=here,
                    carry={"action": action, "card": card.public_id},
                    danger=action != "unblock",
                )
            elif action in lifecycle.ACTIONS:
                card = lifecycle.set_state(
                    actor=request.user,
                    organisation=organisation,
                    card_id=request.POST.get("card", ""),
                    action=action,
                )
                done(request, DONE[action] % _names(card, membership), row=f"card-{card.public_id}")
            else:
                raise DomainError("bad_action", _("Unknown action."))
        except PermissionDenied:
            raise
        except DomainError as error:
            messages.error(request, str(error.message))
        return redirect(here)
    cards = []
    proof = None
    if membership.is_accepted:
        cards = list(
            Smartcard.objects.filter(user_id=membership.user_id, organisation=organisation)
            .exclude(state=Smartcard.REVOKED)
            .order_by("-issued_at")
        )
        proof = creation.proof_for(membership.user, organisation)
    changed = changed_row(request)
    for card in cards:
        card.changed = f"card-{card.public_id}" == changed
    return render(
        request,
        "smartcards/member_cards.html",
        {
            "organisation": organisation,
            "membership": membership,
            "cards": cards,
            "proof": proof,
            "may_hold": membership.role not in policies.SMARTCARD_REFUSED_ROLES,
            "identity_form": identity_form,
        },
    )


def _names(card: Smartcard, membership: Membership) -> dict:
    return {
        "serial": card.card_serial,
        "person": membership.display_name,
        "organisation": membership.organisation.name,
    }
