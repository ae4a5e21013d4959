"""Logged-in sessions: assurance recorded, idle and absolute timeouts (policies)."""

from __future__ import annotations

from django.contrib import auth, messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from zorgsleutel import policies
from zorgsleutel.core import clock

AUTH_AT, SEEN_AT, ACR, AMR = "zs_auth_at", "zs_seen_at", "zs_acr", "zs_amr"


def log_in(request, user, *, acr: str, amr: list[str]) -> None:
    """Log the user in on a new session id and record how (assurance level and means)."""
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = clock.now().timestamp()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session[ACR] = acr
    request.session[AMR] = amr


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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
