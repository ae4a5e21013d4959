"""Pages of the portal shell: home, an administrator's Aan de slag, health, error pages."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from zorgsleutel import policies, vaultclient
from zorgsleutel.core import pages
from zorgsleutel.core.middleware import wants_json
from zorgsleutel.organisations import stepplan
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Organisation
from zorgsleutel.web import nextsteps

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


@never_cache
@require_GET
@pages.guard
def next_steps(request: HttpRequest, public_id) -> HttpResponse:
    """Aan de slag (where a new administrator lands, authn/landing.py): the organisation's next
    steps, ticked as they are done; for its administrators only."""
    organisation = get_object_or_404(Organisation, public_id=public_id)
    permissions.require(request.user, "organisation.next_steps", organisation)
    care_provider = policies.card_order_refusal(organisation) is None
    return pages.render(
        request,
        "web/next_steps.html",
        {
            "organisation": organisation,
            "next_steps": nextsteps.next_steps(organisation),
            # a validated care provider went through the step plan: all of it done now
            "steps": stepplan.plan(stepplan.LOGGED_IN) if care_provider else None,
        },
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and vault reachable: 200 with both "ok", else 503 naming what is down."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any database failure means unhealthy
        logger.exception("health: database unreachable")
        checks["database"] = "unreachable"
    try:
        checks["vault"] = "ok" if vaultclient.get().health() else "unhealthy"
    except vaultclient.VaultError as exc:
        logger.warning("health: vault: %s", exc)
        checks["vault"] = "unreachable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503
    )


_ERRORS = {
    400: (
        "bad_request",
        _("Bad request"),
        _("The request could not be understood. Nothing was changed."),
    ),
    403: ("forbidden", _("No access"), _("You do not have access to this page.")),
    404: ("not_found", _("Page not found"), _("This page does not exist (any more).")),
}


def _error(request: HttpRequest, status: int) -> HttpResponse:
    code, title, message = _ERRORS[status]
    if wants_json(request):
        return JsonResponse({"error": code, "message": str(message)}, status=status)
    context = {"status": status, "title": title, "message": message}
    return render(request, "errors/error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        message = str(_("Something went wrong on our side. Nothing was changed."))
        return JsonResponse({"error": "server_error", "message": message}, status=500)
    return render(request, "errors/500.html", status=500)
