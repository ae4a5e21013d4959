"""Invitations of people who already have an account: open the mailed link, log in, accept."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core.errors import DomainError
from zorgsleutel.core.pages import guard, render

INVALID = _("This invitation is not open (any more). Ask the organisation for a new one.")


def open_invitation(raw: str) -> LinkToken | None:
    """An open invitation link (or an activation link of an account activated since)."""
    for purpose in (LinkToken.INVITATION, LinkToken.ACTIVATION):
        token = tokens.find_open(raw, purpose)
        if token is not None:
            break
    else:
        return None
    membership = token.membership
    if membership is None or membership.state != Membership.INVITED:
        return None
    if token.user.state != User.ACTIVE:
        return None
    return token


@never_cache
@require_GET
def invitation_view(request, token: str):
    """The mailed link: after logging in, the person finds the invitation on *Mijn Zorgsleutel*."""
    link = open_invitation(token)
    if link is None:
        return render(request, "accounts/link_invalid.html", {"message": INVALID}, status=404)
    organisation = link.membership.organisation.name
    if not request.user.is_authenticated:
        messages.info(
            request,
            _("Log in to accept the invitation of %(organisation)s.")
            % {"organisation": organisation},
        )
        return redirect(settings.LOGIN_URL)
    if request.user.pk != link.user_id:
        return render(
            request,
            "accounts/link_invalid.html",
            {"message": _("This invitation is for another account. Log out first.")},
            status=403,
        )
    return redirect(settings.LOGIN_REDIRECT_URL)


@require_POST
@guard
def accept_view(request, membership_id: int):
    membership = get_object_or_404(Membership, pk=membership_id, user=request.user)
    try:
        accepted = memberships.accept_invitation(actor=request.user, membership=membership)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("You are now a member of %(organisation)s.")
            % {"organisation": accepted.organisation.name},
        )
    return redirect(settings.LOGIN_REDIRECT_URL)
