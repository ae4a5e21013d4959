"""Seed 003 for the applicant: Voorbereiding, Aanvraagformulier, Organisatie valideren (UZI card,
then the app), and the guidance pages. Views parse, call one flow and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zorgsleutel import policies
from zorgsleutel.authn import challenges, landing, means, sessions
from zorgsleutel.core import ratelimit
from zorgsleutel.core.errors import DomainError, NotFound, RateLimited
from zorgsleutel.core.pages import locale, render, show_error
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.mobileapp import enrolment as app_enrolment
from zorgsleutel.mobileapp import qr
from zorgsleutel.organisations import firstapp, forms, stepplan
from zorgsleutel.organisations.flows import applications, validation

# The TLS path returns to the validation page with the challenge it answered (bound to this
# session: another browser cannot collect it).
RETURNED = "kaart"
# The application this browser submitted (its public id), for the step plan of the pages after.
APPLIED = "zs_application_id"


def _applied_here(request):
    """The application this browser submitted, if any (only its own)."""
    return applications.submitted_here(request.session.get(APPLIED, ""))


def prepare(request):
    """Stap 1 Voorbereiding: the roles and what each person needs."""
    return render(
        request, "organisations/prepare.html", {"steps": stepplan.plan(stepplan.PREPARING)}
    )


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
            request.session["zs_application_reference"] = application.reference
            request.session[APPLIED] = str(application.public_id)
            return redirect("organisations:applied")
    return render(
        request,
        "organisations/apply.html",
        {"form": form, "steps": stepplan.plan(stepplan.APPLYING)},
        refusal=refusal,
    )


def applied(request):
    """The confirmation (with the kenmerk), then, while the application waits for approval and
    after, where it is: the step plan follows the application's state."""
    application = _applied_here(request)
    stage = stepplan.stage_of(application, otherwise=stepplan.SUBMITTED)
    return render(
        request,
        "organisations/applied.html",
        {
            "email": request.session.get("zs_application", ""),
            "reference": request.session.get("zs_application_reference", ""),
            "stage": stage,
            "steps": stepplan.plan(stage),
        },
    )


def validate_start(request):
    """`Ik wil een organisatie valideren`: what the applicant needs, and where the link is."""
    application = _applied_here(request)
    stage = stepplan.stage_of(application, otherwise=stepplan.APPROVED)
    return render(
        request,
        "organisations/validate_start.html",
        {"stage": stage, "steps": stepplan.plan(stage)},
    )


def _link_invalid(request, error: DomainError):
    return render(
        request, "organisations/link_invalid.html", {"message": error.message}, status=404
    )


@never_cache
@require_GET
def validate(request, token: str):
    """Stap 5 Organisatie valideren: present the UZI card (card client or TLS certificate)."""
    returned = request.GET.get(RETURNED, "")[:40]
    if returned and challenges.maybe_answered(returned):  # back from the TLS path
        outcome = challenges.finish(request, returned)  # as the waiting page's poll would
        if outcome["status"] == "ok":
            return redirect(outcome["next"])
        if outcome.get("message"):
            messages.error(request, outcome["message"])
    if not request.session.session_key:
        request.session.save()
    try:
        page = validation.start_card_challenge(
            token=token,
            person=sessions.logged_in_person(request),
            session_acr=sessions.session_acr(request),
            session_key=request.session.session_key,
            host=request.get_host(),
        )
    except NotFound as error:
        return _link_invalid(request, error)
    except DomainError as error:  # the address's account, and this browser is not it
        return render(
            request,
            "organisations/validate_refused.html",
            {"refusal": error, "steps": stepplan.plan(stepplan.APPROVED)},
            refusal=error,
        )
    started = page.challenge
    tls_url = ""
    if settings.UZI_TLS_URL:
        back = reverse("organisations:validate", args=[token])
        back += "?" + urlencode({RETURNED: started.challenge_id})
        tls_url = f"{settings.UZI_TLS_URL.rstrip('/')}/uzi/tls/{started.challenge_id}"
        tls_url += "?" + urlencode({"next": back})
    return render(
        request,
        "organisations/validate.html",
        {
            "application": page.application,
            "account_name": page.account_name,
            "code": started.code,
            "qr": qr.svg(started.url, title=_("QR code for the card client")),
            "url": started.url,
            "status_url": reverse("authn:challenge_status", args=[started.challenge_id]),
            "interval": policies.APP_POLL_INTERVAL_MS,
            "expires_in_ms": int(policies.CARD_CHALLENGE_TTL.total_seconds() * 1000),
            "again_url": reverse("organisations:validate", args=[token]),
            "tls_url": tls_url,
            "server": settings.SITE_URL,
            "steps": stepplan.plan(
                stepplan.stage_of(page.application, otherwise=stepplan.APPROVED)
            ),
        },
    )


def finish_validation(request, collected: challenges.Collected) -> dict:
    """The card's verdict for this browser, collected once (authn/views.py): the next page, or
    why not. Registered for validation.PURPOSE (organisations/apps.py)."""
    if collected.status == "refused":
        error = (collected.result or {}).get("error", "")
        return {"status": "refused", "error": error, "message": collected.refusal_message()}
    try:
        done = validation.validate_organisation(
            collected=collected,
            person=sessions.logged_in_person(request),
            session_acr=sessions.session_acr(request),
        )
    except DomainError as error:
        return {"status": "refused", "error": error.code, "message": str(error.message)}
    if not done.new_account:  # logged in as the account: on to what an administrator does next
        messages.success(
            request,
            _("You are now the administrator of %(name)s.") % {"name": done.organisation.name},
        )
        return {"status": "ok", "next": landing.next_steps_url(done.organisation)}
    request.session.cycle_key()
    firstapp.keep(request.session, firstapp.FirstApp.started(done.administrator))
    return {"status": "ok", "next": reverse("organisations:validate_app")}


@never_cache
@require_GET
def validate_app(request):
    """Stap 5, continued: the new administrator links the Zorgsleutel app (QR code, PIN), in
    the browser that validated, while firstapp holds them."""
    held = firstapp.held(request.session)
    user = validation.new_administrator(public_id=held.administrator) if held else None
    if user is None:
        firstapp.drop(request.session)
        return redirect("organisations:validate_start")
    if validation.has_app(user):  # linked: step 6 logs in with it, no second app here
        firstapp.drop(request.session)
        return redirect("organisations:validated")
    session_key = request.session.session_key
    started = app_enrolment.open_enrolment_for(
        actor=user, code=held.enrolment, session_key=session_key, purpose=firstapp.PURPOSE
    )
    if started is None:
        # the UZI card just proved this person (seed 003, stap 5): its assurance (cards/apps.py)
        started = app_enrolment.start_enrolment(
            actor=user,
            session_acr=means.get("uzi").acr,
            session_key=session_key,
            purpose=firstapp.PURPOSE,
        )
        firstapp.keep(request.session, held.showing(started.code))
    return render(
        request,
        "organisations/validate_app.html",
        {
            "person": user,
            "qr": qr.svg(started.url, title=_("QR code to link the Zorgsleutel app")),
            "url": started.url,
            "status_url": reverse("authn:challenge_status", args=[started.challenge_id]),
            "expires_in_ms": int(policies.APP_ENROLMENT_TTL.total_seconds() * 1000),
            "interval": policies.APP_POLL_INTERVAL_MS,
            "steps": stepplan.plan(stepplan.VALIDATED),
        },
    )


def finish_first_app(request, collected: challenges.Collected) -> dict:
    """The browser that validated, once the new administrator's first app has enrolled (the
    one poll, authn/views.py): on to step 6, log in with it. Only while this browser still
    holds that administrator (firstapp); what the enrolment proved is asked again. Registered
    for firstapp.PURPOSE (organisations/apps.py)."""
    held = firstapp.held(request.session)
    try:
        person, _device = app_enrolment.confirm_enrolment(collected)
    except DomainError as error:
        return {"status": "refused", "error": error.code, "message": str(error.message)}
    if held is None or held.administrator != str(person.public_id):
        message = _("This page has expired. Log in with the app you linked.")
        return {"status": "refused", "error": "validation_expired", "message": message}
    firstapp.drop(request.session)
    return {"status": "ok", "next": reverse("organisations:validated")}


def validated(request):
    """Stap 6: log in with the app as the organisation's administrator."""
    return render(
        request, "organisations/validated.html", {"steps": stepplan.plan(stepplan.VALIDATED)}
    )


def help_index(request):
    return render(request, "organisations/help_index.html")


def help_administrator(request):
    return render(request, "organisations/help_administrator.html")


def help_manager(request):
    return render(request, "organisations/help_manager.html")
