"""Operatorconsole → Single sign-on: the applications that log people in through Zorgsleutel;
registering one (its secret shown once, on the answer to the form) and deleting one (asks
first). Every view asks people.permissions.require_operator ("sso_clients.manage"); the flows
ask again."""

from __future__ import annotations

from functools import wraps

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zorgsleutel.core.errors import DomainError, NotFound
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.core.pages import confirm, confirmed, done, guard, render, show_error
from zorgsleutel.oidc import assertions, clients
from zorgsleutel.oidc.forms import ClientForm
from zorgsleutel.oidc.models import Client
from zorgsleutel.oidc.validator import issuer
from zorgsleutel.people.permissions import require_operator


def operator_only(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        require_operator(request.user, "sso_clients.manage")  # audited; guard shows the 403
        return view(request, *args, **kwargs)

    return never_cache(guard(checked))


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


@operator_only
def client_list(request):
    rows = (
        Client.objects.select_related("application", "owner")
        .prefetch_related("organisations")
        .order_by("application__name", "pk")
    )
    return render(request, "oidc/console_clients.html", {"clients": rows, "section": "sso"})


@require_http_methods(["GET", "POST"])
@operator_only
def register(request):
    form = ClientForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            registered = clients.register_client(
                actor=request.user,
                organisations=list(form.cleaned_data["organisations"]),
                **form.registration(),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            return render(
                request,
                "oidc/console_registered.html",
                {
                    "client": registered.client,
                    "client_id": registered.client_id,
                    "secret": registered.secret,
                    "client_keys": assertions.describe(registered.client.jwks),
                    "issuer": issuer(),
                    "section": "sso",
                },
            )
    return render(request, "oidc/console_register.html", {"form": form, "section": "sso"})


@operator_only
def client_detail(request, public_id):
    try:
        client = clients.get_client(public_id)
    except NotFound:
        return _not_found(request)
    return render(
        request,
        "oidc/console_client.html",
        {
            "client": client,
            "redirect_uris": client.application.redirect_uris.split(),
            "post_logout_redirect_uris": client.post_logout_redirect_uris.split(),
            "organisations": sorted(client.organisations.all(), key=lambda o: o.name),
            "events": AuditEvent.objects.filter(target=client.audit_ref).order_by("seq"),
            "issuer": issuer(),
            "client_keys": assertions.describe(client.jwks),
            "section": "sso",
        },
    )


@require_POST
@operator_only
def delete(request, public_id):
    """Asks first (naming the application and what stops); the confirming POST deletes."""
    try:
        client = clients.get_client(public_id)
    except NotFound:
        return _not_found(request)
    name = client.application.name
    if not confirmed(request):
        return delete_question(
            request, name, reverse("sso_console:client", args=[client.public_id])
        )
    clients.delete_client(actor=request.user, public_id=client.public_id)
    done(request, _("The application %(name)s is deleted.") % {"name": name})
    return redirect("sso_console:clients")


def delete_question(request, name: str, back: str):
    """Deleting an application asks first (the console's and Beheer's): what stops working."""
    return confirm(
        request,
        question=_("Delete the application %(name)s?") % {"name": name},
        consequences=[
            _(
                "Nobody can log in to %(name)s through Zorgsleutel any more: its client ID "
                "and secret stop working, and the access tokens it holds are revoked."
            )
            % {"name": name},
            _("This cannot be undone; the application would have to be registered anew."),
        ],
        button=_("Delete %(name)s") % {"name": name},
        back=back,
    )
