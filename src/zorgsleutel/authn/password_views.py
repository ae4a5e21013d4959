"""Inloggen met SMS-code (seed 000): the password page, the code page (Verifieer) and Uitloggen.
Next to their flow (password.py); parse, call the flow, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from zorgsleutel.authn import devices, landing, password, pending, sessions
from zorgsleutel.authn.forms import CodeForm, LoginForm
from zorgsleutel.authn.pending import PendingCode
from zorgsleutel.core.errors import DomainError, RateLimited
from zorgsleutel.core.pages import render, show_error
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.people import personevents, signals


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    """Inloggen. A right password is answered with the code page itself (4 requests per login,
    as Keycloak does); the code form posts to `authn:login_code`."""
    if request.user.is_authenticated:
        wanted = landing.safe(request, request.GET.get(landing.NEXT, ""))
        return redirect(wanted or landing.by_role(request.user))
    wanted = landing.keep(request) if request.method == "GET" else landing.carry(request)
    form = LoginForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():

        def keep(held: PendingCode) -> None:  # in the flow's transaction
            pending.keep(request.session, held)
            request.session.cycle_key()  # stores the session, pending step included, anew

        try:
            started = password.check_credentials(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
                device=request.COOKIES.get(devices.COOKIE_NAME),
                keep=keep,
            )
        except DomainError as error:
            show_error(form, error)
            if isinstance(error, RateLimited):
                refusal = error
        else:
            return _code_page(request, CodeForm(), started)
    return render(request, "authn/login.html", {"form": form, "next": wanted}, refusal=refusal)


def _code_page(request, form, held: PendingCode):
    return render(
        request,
        "authn/code.html",
        {"form": form, "hint": held.hint, "action": reverse("authn:login_code")},
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_code_view(request):
    held = pending.held(request.session, pending.LOGIN)
    if held is None:
        return redirect(settings.LOGIN_URL)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "resend" in request.POST:
        form = CodeForm()
        try:
            held = password.resend_code(held, ip=client_ip(request))
            pending.keep(request.session, held)
            messages.success(request, _("A new code has been sent."))
        except DomainError as error:
            messages.error(request, str(error.message))
    elif request.method == "POST" and form.is_valid():
        try:
            user = password.verify_code(pending=held, code=form.cleaned_data["code"])
        except DomainError as error:
            if error.code in ("login_expired", "account_blocked"):
                pending.drop(request.session)
                messages.error(request, str(error.message))
                return redirect(settings.LOGIN_URL)
            show_error(form, error)
        else:
            pending.drop(request.session)
            sessions.complete_login(request, user, password.MEANS)
            response = redirect(landing.destination(request, user))
            devices.set_cookie(request, response, user.pk)  # this browser is now known
            return response
    return _code_page(request, form, held)


@require_POST
def logout_view(request):
    """Log out: `logout.succeeded` in each of the person's organisations' logs (as the login's
    event), and the applications this session signed in to are told (people.signals.
    sessions_ended), in the transaction that deletes the session."""
    with transaction.atomic():
        if request.user.is_authenticated:
            personevents.record_for_person(
                "logout.succeeded", person=request.user, actor=request.user, target=request.user
            )
            signals.sessions_ended.send(
                sender=__name__, reason="logout", person=request.user, session=request.session
            )
        auth.logout(request)
    messages.info(request, _("You are logged out."))
    return redirect(settings.LOGIN_URL)
