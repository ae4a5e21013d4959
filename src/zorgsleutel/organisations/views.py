"""Seed 003 for the applicant: Voorbereiding, Aanvraagformulier, Organisatie valideren (UZI card,
then the app), and the guidance pages. Views parse, call one flow and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zorgsleutel import policies
from zorgsleutel.authn import challenges, means
from zorgsleutel.core import clock, ratelimit
from zorgsleutel.core.errors import DomainError, RateLimited
from zorgsleutel.core.pages import locale, render, show_error
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.mobileapp import flows as app_flows
from zorgsleutel.mobileapp import qr
from zorgsleutel.organisations import forms
from zorgsleutel.organisations.flows import applications, validation
from zorgsleutel.people.models import User

CHALLENGE = "zs_validation_challenge"  # session: the card challenge this page shows
VALIDATE_APP = "zs_validation_next"  # session: {challenge id: where its accepted card leads}
VALIDATED = "zs_validated"  # session: the new administrator, until the app is linked
ENROL_CODE = "zs_validation_enrolment"
VALIDATED_FOR = 30 * 60  # seconds this browser may link the administrator's app


def prepare(request):
    """Stap 1 Voorbereiding: the roles and what each person needs."""
    return render(request, "organisations/prepare.html", {"step": 1})


@never_cache
@require_http_methods(["GET", "POST"])
def apply(request):
    """Stap 2 Aanvraagformulier invullen."""
    form = forms.ApplicationForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.application()
        try:
            # The form mails the address it is given: per client and per recipient address.
            ratelimit.consume(
                action="application.submit",
                ip=client_ip(request),
                recipient=data.applicant_email.strip().lower(),
            )
            application = applications.submit_application(data=data, locale=locale())
        except RateLimited as error:
            show_error(form, error)
            refusal = error
        except DomainError as error:
            show_error(form, error)
        else:
            request.session["zs_application"] = application.applicant_email
            return redirect("organisations:applied")
    return render(request, "organisations/apply.html", {"form": form, "step": 2}, refusal=refusal)


def applied(request):
    return render(
        request,
        "organisations/applied.html",
        {"email": request.session.get("zs_application", ""), "step": 2},
    )


def validate_start(request):
    """`Ik wil een organisatie valideren`: what the applicant needs, and where the link is."""
    return render(request, "organisations/validate_start.html", {"step": 5})


def _link_invalid(request, error: DomainError):
    return render(
        request, "organisations/link_invalid.html", {"message": error.message}, status=404
    )


@never_cache
@require_GET
def validate(request, token: str):
    """Stap 5 Organisatie valideren: present the UZI card (card client or TLS certificate)."""
    try:
        application = validation.open_validation(token=token)
    except DomainError as error:
        return _link_invalid(request, error)
    earlier = request.session.get(CHALLENGE, "")
    if earlier and challenges.maybe_answered(earlier):  # back from the TLS path
        outcome = challenges.finish(request, earlier)  # as the waiting page's poll would
        if outcome["status"] == "ok":
            return redirect(outcome["next"])
        if outcome.get("message"):
            messages.error(request, outcome["message"])
    if not request.session.session_key:
        request.session.save()
    started = validation.start_card_challenge(
        token=token, session_key=request.session.session_key, host=request.get_host()
    )
    request.session[CHALLENGE] = started.challenge_id
    # Where each challenge's verdict leads (two links open in one browser stay apart).
    leads = dict(list((request.session.get(VALIDATE_APP) or {}).items())[-4:])
    leads[started.challenge_id] = reverse("organisations:validate_app", args=[token])
    request.session[VALIDATE_APP] = leads
    tls_url = ""
    if settings.UZI_TLS_URL:
        tls_url = f"{settings.UZI_TLS_URL.rstrip('/')}/uzi/tls/{started.challenge_id}"
        tls_url += "?next=" + reverse("organisations:validate", args=[token])
    return render(
        request,
        "organisations/validate.html",
        {
            "application": application,
            "code": started.code,
            "qr": qr.svg(started.url, title=_("QR code for the card client")),
            "url": started.url,
            "status_url": reverse("authn:challenge_status", args=[started.challenge_id]),
            "interval": policies.APP_POLL_INTERVAL_MS,
            "expires_in_ms": int(policies.CARD_CHALLENGE_TTL.total_seconds() * 1000),
            "again_url": reverse("organisations:validate", args=[token]),
            "tls_url": tls_url,
            "server": settings.SITE_URL,
            "step": 5,
        },
    )


def finish_validation(request, collected: challenges.Collected) -> dict:
    """The card's verdict for this browser, collected once (authn/views.py): the next page, or
    why not. Registered for validation.PURPOSE (organisations/apps.py)."""
    if request.session.get(CHALLENGE) == collected.public_id:
        request.session.pop(CHALLENGE, None)
    leads = dict(request.session.get(VALIDATE_APP) or {})
    next_page = leads.pop(collected.public_id, "")
    request.session[VALIDATE_APP] = leads
    if collected.status == "refused":
        return {"status": "refused", "message": collected.refusal_message()}
    user = validation.validated_user(collected=collected)
    request.session.cycle_key()
    request.session[VALIDATED] = {"user": str(user.public_id), "at": clock.now().timestamp()}
    return {"status": "ok", "next": next_page or reverse("organisations:validate_start")}


def _validated_user(request) -> User | None:
    held = request.session.get(VALIDATED) or {}
    if clock.now().timestamp() - held.get("at", 0) > VALIDATED_FOR:
        return None
    return User.objects.filter(public_id=held.get("user"), state=User.ACTIVE).first()


@never_cache
@require_GET
def validate_app(request, token: str):
    """Stap 5, continued: the new administrator links the Zorgsleutel app (QR code, PIN)."""
    user = _validated_user(request)
    if user is None:
        return redirect("organisations:validate", token=token)
    started = app_flows.open_enrolment_for(actor=user, code=request.session.get(ENROL_CODE, ""))
    if started is None:
        # the UZI card just proved this person (seed 003, stap 5): its assurance (cards/apps.py)
        started = app_flows.start_enrolment(actor=user, session_acr=means.get("uzi").acr)
    request.session[ENROL_CODE] = started.code
    return render(
        request,
        "organisations/validate_app.html",
        {
            "person": user,
            "qr": qr.svg(started.url, title=_("QR code to link the Zorgsleutel app")),
            "url": started.url,
            "status_url": reverse("organisations:validate_app_status", args=[token]),
            "interval": policies.APP_POLL_INTERVAL_MS,
            "step": 5,
        },
    )


@never_cache
@require_GET
def validate_app_status(request, token: str):
    user = _validated_user(request)
    code = request.session.get(ENROL_CODE)
    if user is None or not code:
        return JsonResponse({"status": "invalid"}, status=404)
    if not app_flows.enrolment_done(actor=user, code=code):
        return JsonResponse({"status": "waiting"})
    for key in (VALIDATED, ENROL_CODE):
        request.session.pop(key, None)
    return JsonResponse({"status": "ok", "next": reverse("organisations:validated")})


def validated(request):
    """Stap 6: log in with the app as the organisation's administrator."""
    return render(request, "organisations/validated.html", {"step": 6})


def help_index(request):
    return render(request, "organisations/help_index.html")


def help_administrator(request):
    return render(request, "organisations/help_administrator.html")


def help_manager(request):
    return render(request, "organisations/help_manager.html")
