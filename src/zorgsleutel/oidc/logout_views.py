"""GET/POST /oidc/logout: RP-Initiated Logout 1.0 (endsession.py decides; docs/oidc.md,
"Logout"). Exempt from Django's CSRF middleware because an application may POST its request
from its own pages (section 2); the person's confirmation is CSRF-checked here instead."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from zorgsleutel.authn import sessions
from zorgsleutel.core.middleware import allow_form_answers_to
from zorgsleutel.core.pages import confirm, confirmed, render
from zorgsleutel.oidc import endsession, formaction

PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


def _csrf_refusal(request):
    """Django's CSRF check of this POST: None when it passes, else its 403 answer."""
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def end_session(request):
    params = request.POST if request.method == "POST" else request.GET
    try:
        asked = endsession.parse(params)
    except endsession.Refused as error:
        return render(
            request,
            "oidc/logout_invalid.html",
            {"error": error.code, "description": error.message},
            status=400,
        )
    person = sessions.logged_in_person(request)
    if person is not None:
        if confirmed(request):
            refused = _csrf_refusal(request)
            if refused is not None:
                return refused
        elif not endsession.of_this_session(asked, request.session, person):
            return _ask(request, asked)
        endsession.log_out(request, person, asked)
    if asked.redirect_to:
        return HttpResponseRedirect(asked.redirect_to)
    messages.info(request, _("You are logged out."))
    return redirect(settings.LOGIN_URL)


def _ask(request, asked):
    """Uitloggen bij Zorgsleutel? (changes nothing; its POST carries the request along)."""
    consequences = [
        _("You are logged out of Zorgsleutel and of the applications you logged in to with it.")
    ]
    if asked.client is not None:
        consequences.insert(
            0,
            _("%(application)s asks to log you out.")
            % {"application": asked.client.application.name},
        )
    response = confirm(
        request,
        question=_("Log out of Zorgsleutel?"),
        consequences=consequences,
        button=_("Log out"),
        back=resolve_url(settings.LOGIN_REDIRECT_URL),
        carry={name: request.GET.get(name) or request.POST.get(name, "") for name in PARAMS},
        danger=False,
    )
    return _leading_to(response, asked.redirect_to)


def _leading_to(response, redirect_to: str):
    """The question's answer is a redirect to the post-logout URI (registered by the asking
    application, checked by endsession.parse): its origin joins the CSP's form-action, which
    browsers apply to a form's redirects too (oidc/formaction.py); nothing else widens."""
    if not redirect_to:
        return response
    parts = urlsplit(redirect_to)
    origin = f"{parts.scheme}://{parts.netloc}"
    if not formaction.ORIGIN.fullmatch(origin):
        return response
    return allow_form_answers_to(response, origin)
