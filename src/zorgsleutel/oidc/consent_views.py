"""Mijn Zorgsleutel → Gekoppelde applicaties: the applications a person allowed to receive
their data (consent.py), and withdrawing that (asks first); and an application's logo, served
from the portal for its consent page."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zorgsleutel.core.errors import NotFound
from zorgsleutel.core.pages import confirm, confirmed, done, guard, render
from zorgsleutel.oidc import consent
from zorgsleutel.oidc.models import Client


@never_cache
@require_GET
@guard
def linked(request):
    rows = [
        {"consent": found, "receives": consent.in_words(found.scopes)}
        for found in consent.granted(request.user)
    ]
    return render(request, "oidc/linked.html", {"rows": rows})


@never_cache
@require_http_methods(["GET", "POST"])
@guard
def withdraw(request, public_id):
    """Asks first (naming the application and what stops); the confirming POST withdraws. Only
    the person's own consent: another person's is not found (404), as one that never was."""
    try:
        found = consent.own_consent(request.user, public_id)
    except NotFound:
        raise Http404 from None
    name = found.client.application.name
    if not confirmed(request):
        return confirm(
            request,
            question=_("Withdraw your consent to %(name)s?") % {"name": name},
            consequences=[
                _(
                    "%(name)s no longer receives your data: the tokens it holds for you are "
                    "revoked, and the next time you log in to it, Zorgsleutel asks for your "
                    "consent again."
                )
                % {"name": name},
            ],
            button=_("Withdraw consent"),
            back=reverse("oidc:linked"),
        )
    try:
        consent.revoke(actor=request.user, public_id=found.public_id)
    except NotFound:  # withdrawn in another tab meanwhile
        raise Http404 from None
    done(request, _("Your consent to %(name)s is withdrawn.") % {"name": name})
    return redirect("oidc:linked")


@require_GET
def logo(request, public_id):
    """The logo an operator uploaded (a PNG the portal re-encoded itself): from our own origin,
    so the consent page needs no other host (CSP img-src 'self')."""
    found = Client.objects.filter(public_id=public_id).values_list("logo", flat=True).first()
    if not found:
        raise Http404
    response = HttpResponse(bytes(found), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
