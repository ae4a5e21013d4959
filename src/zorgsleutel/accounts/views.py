"""Account pages: Mijn Zorgsleutel, activation, Wachtwoord vergeten. Parse, call a flow. (Inloggen
and Verifieer are authn/password_views.py, next to their flow.)"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from zorgsleutel import policies
from zorgsleutel.accounts import forms, invitation_views
from zorgsleutel.accounts.flows import credentials, reset
from zorgsleutel.accounts.models import LinkToken
from zorgsleutel.authn import devices, landing, password, pending, sessions
from zorgsleutel.authn.forms import CodeForm
from zorgsleutel.core.errors import DomainError, RateLimited
from zorgsleutel.core.pages import locale, render, show_error
from zorgsleutel.core.requestcontext import client_ip

DONE_MESSAGES = {  # seed 000, step 6/7 of both sections: saved, and logged in by SMS
    LinkToken.ACTIVATION: gettext_lazy(
        "Your password and mobile number are saved and you are logged in. "
        "From now on you log in with your password and an SMS code."
    ),
    LinkToken.PASSWORD_RESET: gettext_lazy(
        "Your password and mobile number are saved and you are logged in. "
        "From now on you log in with your password and an SMS code to your new number."
    ),
}
# Saved, but the rules of an SMS login refuse the person (their message follows this one).
SAVED = gettext_lazy("Your password and mobile number are saved.")


@never_cache
def home_view(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    memberships = sorted(  # loaded with the person (authn/backends.py): no query
        policies.memberships(request.user), key=lambda m: m.organisation.name
    )
    return render(
        request,
        "accounts/home.html",
        {
            "memberships": [m for m in memberships if m.is_accepted],
            "invitations": [
                m for m in memberships if m.state == m.INVITED and not request.user.is_operator
            ],
            "acr": sessions.session_acr(request),
        },
    )


# --- Activation and password reset: set password and mobile number -----------------------------
def _setup_views(purpose: str, url_name: str, template_prefix: str):
    @never_cache
    @sensitive_post_parameters("password", "password_again", "phone")
    @require_http_methods(["GET", "POST"])
    def start(request, token: str):
        if purpose == LinkToken.ACTIVATION and invitation_views.open_invitation(token):
            return redirect("accounts:invitation", token=token)  # activated since: accept
        try:
            link = credentials.open_link(token, purpose)
        except DomainError as error:
            return render(
                request, "accounts/link_invalid.html", {"message": error.message}, status=404
            )
        form = forms.CredentialsForm(request.POST or None, user=link.user)
        if request.method == "POST" and form.is_valid():
            try:
                held = credentials.start_setup(
                    token=link,
                    password=form.cleaned_data["password"],
                    password_again=form.cleaned_data["password_again"],
                    phone=form.cleaned_data["phone"],
                    locale=locale(),
                    ip=client_ip(request),
                )
            except DomainError as error:
                show_error(form, error)
            else:
                pending.keep(request.session, held)
                return redirect(f"accounts:{url_name}_code", token=token)
        return render(
            request, f"accounts/{template_prefix}.html", {"form": form, "person": link.user}
        )

    @never_cache
    @sensitive_post_parameters("code")
    @require_http_methods(["GET", "POST"])
    def code(request, token: str):
        held = pending.held(request.session, purpose)
        if held is None or not credentials.belongs_to_link(held, token):
            return redirect(f"accounts:{url_name}", token=token)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and "resend" in request.POST:
            form = CodeForm()
            try:
                held = credentials.resend_code(held, ip=client_ip(request))
                pending.keep(request.session, held)
                messages.success(request, _("A new code has been sent."))
            except DomainError as error:
                messages.error(request, str(error.message))
        elif request.method == "POST" and form.is_valid():

            def log_in(user) -> None:  # in the flow's transaction
                pending.drop(request.session)
                sessions.complete_login(request, user, password.MEANS)

            try:
                done = credentials.complete_setup(
                    pending=held, code=form.cleaned_data["code"], log_in=log_in
                )
            except DomainError as error:
                if error.code == "invalid_link":
                    pending.drop(request.session)
                    return render(
                        request,
                        "accounts/link_invalid.html",
                        {"message": error.message},
                        status=404,
                    )
                show_error(form, error)
            else:
                pending.drop(request.session)
                if done.refused is not None:  # where an SMS login would have left them
                    messages.success(request, SAVED)
                    messages.error(request, str(done.refused.message))
                    return redirect(settings.LOGIN_URL)
                messages.success(request, DONE_MESSAGES[purpose])
                # where a login lands (on to the app first, if their role needs it)
                response = redirect(landing.destination(request, done.user))
                devices.set_cookie(request, response, done.user.pk)  # as after an SMS login
                return response
        return render(request, "authn/code.html", {"form": form, "hint": held.hint})

    return start, code


activate_view, activate_code_view = _setup_views(LinkToken.ACTIVATION, "activate", "activate")
reset_view, reset_code_view = _setup_views(LinkToken.PASSWORD_RESET, "reset", "reset")


@never_cache
@require_http_methods(["GET", "POST"])
def forgot_password_view(request):
    form = forms.ForgotPasswordForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            reset.request_reset(email=form.cleaned_data["email"], ip=client_ip(request))
        except RateLimited as error:  # this client only; the same for every address
            show_error(form, error)
            refusal = error
        else:
            hours = int(policies.PASSWORD_RESET_LINK_TTL.total_seconds() // 3600)
            return render(request, "accounts/forgot_password_sent.html", {"hours": hours})
    return render(request, "accounts/forgot_password.html", {"form": form}, refusal=refusal)
