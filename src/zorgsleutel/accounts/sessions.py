"""Logged-in sessions: assurance recorded, idle and absolute timeouts (policies)."""

from __future__ import annotations

from django.contrib import auth, messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from zorgsleutel import policies
from zorgsleutel.core import clock

AUTH_AT, SEEN_AT, ACR, AMR = "zs_auth_at", "zs_seen_at", "zs_acr", "zs_amr"
BACKEND = "zorgsleutel.accounts.backends.PersonBackend"  # loads the person of every session


def log_in(request, user, *, acr: str, amr: list[str]) -> None:
    """Log the user in on a new session id and record how (assurance level and means)."""
    auth.login(request, user, backend=BACKEND)
    now = clock.now().timestamp()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session[ACR] = acr
    request.session[AMR] = amr


# The QR page's poll serves browsers that are not logged in yet; it must not load their session.
UNSESSIONED_PATHS = ("/inloggen/app/status",)


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(UNSESSIONED_PATHS):
            return self.get_response(request)
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            started = request.session.get(AUTH_AT, 0)
            seen = request.session.get(SEEN_AT, 0)
            if (
                now - started > policies.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
                or now - seen > policies.SESSION_IDLE_TIMEOUT.total_seconds()
            ):
                auth.logout(request)
                messages.info(request, _("Your session has ended. Log in again."))
                return redirect("accounts:login")
            if now - seen > 60:  # write the session at most once a minute
                request.session[SEEN_AT] = now
        return self.get_response(request)


# Paths a session below its required assurance may still use: to link the app or log in with it.
_STEP_UP_PATHS = (
    "/mijn/app-koppelen",
    "/inloggen/app",
    "/uitloggen",
    "/static/",
    "/i18n/",
    "/dev/",
    "/healthz",
    "/api/app/",
)


class AssuranceMiddleware:
    """Sessions below the person's required assurance (policies.required_acr) may only link the
    app or log in with it: a care provider's manager who logged in by SMS must link the app."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # The path test comes first: step-up pages (and the QR poll) never load the session. A
        # session at the highest level any rule asks for needs no look at the person's roles.
        if (
            not request.path.startswith(_STEP_UP_PATHS)
            and user is not None
            and user.is_authenticated
            and not policies.satisfies(request.session.get(ACR, ""), "substantial")
        ):
            # policies.required_acr reads the memberships PersonBackend loaded with the person.
            required = policies.required_acr(user)
            if not policies.satisfies(request.session.get(ACR, ""), required):
                from zorgsleutel.mobileapp.models import AppDevice

                wants_page = request.method == "GET" and "text/html" in request.headers.get(
                    "Accept", ""
                )
                if not wants_page:
                    return JsonResponse(
                        {
                            "error": "assurance_required",
                            "message": str(_("Log in with the Zorgsleutel app.")),
                        },
                        status=403,
                    )
                has_app = AppDevice.objects.filter(user=user, state=AppDevice.ACTIVE).exists()
                if has_app:
                    auth.logout(request)
                    messages.info(request, _("Log in with the Zorgsleutel app."))
                    return redirect("mobileapp:login")
                messages.info(request, _("Link the Zorgsleutel app first: your role requires it."))
                return redirect("mobileapp:enrol")
        return self.get_response(request)
