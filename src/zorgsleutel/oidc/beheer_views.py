"""Beheer → Applicaties (single sign-on): an organisation's administrators see the applications
that may receive its people (an operator's, or its own), register its own (the console's form
without the organisations: for this organisation alone; the secret shown once, on the answer
to the form), and delete one it registered itself (asks first). Every view asks
people.permissions.require ("sso_clients.register"); the flows ask again. Another
organisation's application is not found here (404), as if it did not exist."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zorgsleutel import policies
from zorgsleutel.core.errors import DomainError, NotFound, PermissionDenied
from zorgsleutel.core.pages import confirmed, done, guard, render, show_error
from zorgsleutel.oidc import assertions, clients
from zorgsleutel.oidc.console_views import delete_question
from zorgsleutel.oidc.forms import OwnClientForm
from zorgsleutel.oidc.validator import issuer
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Organisation

ACTION = "sso_clients.register"


def _organisation(request, public_id) -> Organisation:
    organisation = get_object_or_404(Organisation, public_id=public_id)
    permissions.require(request.user, ACTION, organisation)  # audited; guard shows the 403
    return organisation


def _not_found(request):
    return render(
        request,
        "errors/error.html",
        {
            "status": 404,
            "title": _("Not found"),
            "message": _("This single sign-on application does not exist."),
        },
        status=404,
    )


def registered_by(client, organisation) -> str:
    """Who registered it, as this organisation may read it: Zorgsleutel's operators, or the
    person of its own who did (while the organisation still knows them: policies.known_to)."""
    if client.owner_id is None:
        return _("Zorgsleutel's operators")
    person = client.created_by
    if person is not None and policies.known_to(organisation, person):
        return person.name
    return _("an administrator of your organisation")


@never_cache
@guard
def client_list(request, public_id):
    organisation = _organisation(request, public_id)
    rows = [(c, registered_by(c, organisation)) for c in clients.clients_of(organisation)]
    return render(request, "oidc/beheer_clients.html", {"organisation": organisation, "rows": rows})


@never_cache
@guard
@require_http_methods(["GET", "POST"])
def register(request, public_id):
    organisation = _organisation(request, public_id)
    posted = request.method == "POST"
    form = OwnClientForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        organisation=organisation,
    )
    if posted and form.is_valid():
        try:
            registered = clients.register_client(
                actor=request.user,
                organisations=[organisation],
                owner=organisation,
                **form.registration(),
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            show_error(form, error)
        else:
            return render(
                request,
                "oidc/beheer_registered.html",
                {
                    "organisation": organisation,
                    "client": registered.client,
                    "client_id": registered.client_id,
                    "secret": registered.secret,
                    "client_keys": assertions.describe(registered.client.jwks),
                    "issuer": issuer(),
                },
            )
    return render(
        request, "oidc/beheer_register.html", {"organisation": organisation, "form": form}
    )


@never_cache
@guard
def client_detail(request, public_id, client_id):
    organisation = _organisation(request, public_id)
    try:
        client = clients.client_of(organisation, client_id)
    except NotFound:
        return _not_found(request)
    return render(
        request,
        "oidc/beheer_client.html",
        {
            "organisation": organisation,
            "client": client,
            "own": client.owner_id == organisation.pk,
            "registered_by": registered_by(client, organisation),
            "redirect_uris": client.application.redirect_uris.split(),
            "post_logout_redirect_uris": client.post_logout_redirect_uris.split(),
            "issuer": issuer(),
        },
    )


@never_cache
@guard
@require_http_methods(["GET", "POST"])
def delete(request, public_id, client_id):
    """Asks first, naming the application and what stops (a GET, or a POST without the page's
    confirmation); the page's POST deletes. One the organisation did not register the flow
    refuses (audited), asked or not."""
    organisation = _organisation(request, public_id)
    try:
        client = clients.client_of(organisation, client_id)
    except NotFound:
        return _not_found(request)
    name = client.application.name
    if client.owner_id == organisation.pk and not confirmed(request):
        back = reverse("oidc:own_client", args=[organisation.public_id, client.public_id])
        return delete_question(request, name, back)
    clients.delete_client(actor=request.user, public_id=client.public_id, organisation=organisation)
    done(request, _("The application %(name)s is deleted.") % {"name": name})
    return redirect("oidc:own_clients", public_id=organisation.public_id)
