"""Smartcard pages: log in with a card, your smartcards (make one, report it lost: it asks first),
and the guidance page; Beheer's member smartcards are manage_views.py. Parse, call a flow,
render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zorgsleutel import policies
from zorgsleutel.authn import challenges, landing, sessions
from zorgsleutel.cards import flows as card_flows
from zorgsleutel.core import clock, ratelimit
from zorgsleutel.core.errors import DomainError, RateLimited
from zorgsleutel.core.pages import confirm, confirmed, render, to_login
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.mobileapp import qr
from zorgsleutel.people.models import Membership
from zorgsleutel.smartcards import creation, lifecycle, login, runtime
from zorgsleutel.smartcards.models import Smartcard

RETURNED = "kaart"  # the challenge a browser returns with from the TLS path


def _card_page(request, started, *, again_url: str, back: str) -> dict:
    """What every page that shows a card challenge needs (authn/_wait.html)."""
    tls_url = ""
    if settings.UZI_TLS_URL:
        joiner = "&" if "?" in back else "?"
        returned = back + joiner + urlencode({RETURNED: started.challenge_id})
        tls_url = f"{settings.UZI_TLS_URL.rstrip('/')}/uzi/tls/{started.challenge_id}"
        tls_url += "?" + urlencode({"next": returned})
    return {
        "code": started.code,
        "qr": _qr_on_request(started.challenge_id),
        "url": started.url,
        "status_url": reverse("authn:challenge_status", args=[started.challenge_id]),
        "interval": policies.APP_POLL_INTERVAL_MS,
        "expires_in_ms": int((started.expires_at - clock.now()).total_seconds() * 1000),
        "again_url": again_url,
        "tls_url": tls_url,
        "server": settings.SITE_URL,
    }


def _qr_on_request(challenge_id: str) -> str:
    """The QR code behind a "show" button: the card client on this computer takes the code as
    typed (or the command shown), so the page does not make a QR code nobody asked for (it was
    a third of the login page's CPU, docs/benchmarks.md); wait.js loads it when opened."""
    return format_html(
        '<details class="qr-later"><summary>{}</summary>'
        '<img data-src="{}" alt="{}" width="{}" height="{}"></details>',
        _("Show the QR code"),
        reverse("smartcards:card_qr", args=[challenge_id]),
        _("QR code for the card client"),
        QR_PIXELS,
        QR_PIXELS,
    )


# The box of the image: a version-5 code (37 modules) with a border of 4, at 5 pixels a module.
# A longer site address makes a larger code, which the browser scales to the box.
QR_PIXELS = 225


@never_cache
@require_GET
def card_qr(request, challenge_id: str):
    """The QR code of a card challenge, for the browser session that started it only (and
    counted per address: each one is made for the asking)."""
    try:
        ratelimit.consume(action="smartcard.qr", ip=client_ip(request))
    except RateLimited as error:
        return HttpResponse(
            str(error.message),
            status=error.status,
            content_type="text/plain; charset=utf-8",
            headers=error.headers(),
        )
    try:
        url = card_flows.presentation_url(
            session_key=request.session.session_key or "", challenge_id=challenge_id
        )
    except DomainError:
        raise Http404 from None
    svg = qr.svg_document(url, title=_("QR code for the card client"))
    return HttpResponse(svg, content_type="image/svg+xml")


def _returned(request):
    """Back from the TLS path: the verdict, as the waiting page's poll would collect it."""
    returned = request.GET.get(RETURNED, "")[:40]
    if returned and challenges.maybe_answered(returned):
        outcome = challenges.finish(request, returned)
        if outcome["status"] == "ok":
            return redirect(outcome["next"])
        if outcome.get("message"):
            messages.error(request, outcome["message"])
    return None


# --- Inloggen met smartcard ---------------------------------------------------------------------


@never_cache
@require_GET
def login_with_card(request):
    done = _returned(request)
    if done is not None:
        return done
    if request.user.is_authenticated and policies.satisfies(sessions.session_acr(request), "high"):
        wanted = landing.safe(request, request.GET.get(landing.NEXT, ""))
        return redirect(wanted or landing.by_role(request.user))
    try:
        ratelimit.consume(action="smartcard.login_page", ip=client_ip(request))
    except RateLimited as error:
        return render(
            request,
            "errors/error.html",
            {"status": error.status, "title": _("Too many requests"), "message": error.message},
            refusal=error,
        )
    # Back from the TLS path with a refusal (?kaart=): the kept page stays kept.
    wanted = landing.carry(request) if RETURNED in request.GET else landing.keep(request)
    if not request.session.session_key:
        request.session.save()
    started = login.start(session_key=request.session.session_key, host=request.get_host())
    here = reverse("smartcards:login")
    return render(
        request,
        "smartcards/login.html",
        {
            **_card_page(request, started, again_url=landing.with_next(here, wanted), back=here),
            "next": wanted,
        },
    )


# --- Mijn Zorgsleutel: your smartcards ----------------------------------------------------------


def _mine(request):
    return Smartcard.objects.filter(user=request.user).select_related("organisation")


@never_cache
def mine(request):
    if not request.user.is_authenticated:
        return to_login(request)  # and back here after it
    cards = list(_mine(request).exclude(state=Smartcard.REVOKED).order_by("-issued_at"))
    means, authenticator = _session_login(request)
    for card in cards:
        card.renewable = (
            creation.renewal_refusal(card, session_means=means, authenticator=authenticator) is None
        )
    return render(request, "smartcards/mine.html", {"cards": cards})


def _session_login(request) -> tuple[str, str]:
    return (
        request.session.get(sessions.MEANS, ""),
        request.session.get(sessions.AUTHENTICATOR, ""),
    )


@never_cache
def renew(request, card_id: str):
    """Renew a smartcard: from a login with it, a code for `zorgsleutel card renew`."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    done = _returned(request)
    if done is not None:
        return done
    card = _mine(request).filter(public_id=card_id[:40]).first()
    means, authenticator = _session_login(request)
    try:
        started = creation.start_renewal(
            card=card,
            session_means=means,
            authenticator=authenticator,
            session_key=request.session.session_key,
            host=request.get_host(),
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("smartcards:mine")
    here = reverse("smartcards:renew", args=[card.public_id])
    context = _card_page(request, started, again_url=here, back=here)
    return render(request, "smartcards/renew.html", {**context, "card": card})


def finish_renew(request, collected: challenges.Collected) -> dict:
    if collected.status == "refused":
        error = (collected.result or {}).get("error", "")
        return {"status": "refused", "error": error, "message": collected.refusal_message()}
    messages.success(request, _("Your smartcard is renewed. Log in with it again."))
    return {"status": "ok", "next": reverse("smartcards:login")}


@never_cache
@require_http_methods(["GET", "POST"])
def report_lost(request, card_id: str):
    """The holder reports their card lost: asks first (it cannot be undone)."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if not confirmed(request):
        card = _mine(request).filter(public_id=card_id[:40]).exclude(state=Smartcard.REVOKED)
        card = card.first()
        if card is None:
            raise Http404
        return confirm(
            request,
            question=_("Report smartcard %(serial)s lost?") % {"serial": card.card_serial},
            consequences=[
                _(
                    "The card is revoked at once and for good: nobody can log in with it any "
                    "more, also not you when you find it again. You can then make a new one."
                )
            ],
            button=_("Report lost"),
            back=reverse("smartcards:mine"),
        )
    try:
        card = lifecycle.report_lost(actor=request.user, card_id=card_id)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _(
                "Your smartcard %(serial)s is revoked: nobody can use it any more. You can make "
                "a new one."
            )
            % {"serial": card.card_serial},
        )
    return redirect("smartcards:mine")


def _membership_for(request) -> Membership | None:
    """The organisation the person makes a card for: the one asked (?lid=), else their only
    accepted one."""
    accepted = [m for m in policies.accepted_memberships(request.user)]
    asked = request.GET.get("lid", "") or request.POST.get("lid", "")
    if asked.isdigit():
        return next((m for m in accepted if m.pk == int(asked)), None)
    return accepted[0] if len(accepted) == 1 else None


@never_cache
def create(request):
    """Smartcard aanmaken: what is needed, then the code for the card client."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    done = _returned(request)
    if done is not None:
        return done
    membership = _membership_for(request)
    context: dict = {
        "memberships": policies.accepted_memberships(request.user),
        "membership": membership,
        "available": runtime.available(),
    }
    if membership is None or not context["available"]:
        return render(request, "smartcards/create.html", context)
    reason = creation.creation_refusal(request.user, membership)
    if reason is not None:
        context["refusal"] = creation.refusal(reason)
        return render(request, "smartcards/create.html", context)
    proof = creation.proof_for(request.user, membership.organisation)
    context["proof"] = proof
    if not request.session.session_key:
        request.session.save()
    here = reverse("smartcards:create") + "?" + urlencode({"lid": membership.pk})
    purpose = creation.CREATE if proof is not None else creation.UZI_PROOF
    started = creation.start(
        person=request.user,
        membership=membership,
        purpose=purpose,
        session_key=request.session.session_key,
        host=request.get_host(),
    )
    context.update(_card_page(request, started, again_url=here, back=here))
    context["purpose"] = purpose
    return render(request, "smartcards/create.html", context)


def _same_person(request, collected) -> bool:
    person = sessions.logged_in_person(request)
    membership = Membership.objects.filter(pk=int(collected.subject or 0)).first()
    return person is not None and membership is not None and membership.user_id == person.pk


def finish_uzi_proof(request, collected: challenges.Collected) -> dict:
    """The UZI card proved who the member is: on to making the card (the same page)."""
    if collected.status == "refused":
        error = (collected.result or {}).get("error", "")
        return {"status": "refused", "error": error, "message": collected.refusal_message()}
    if not _same_person(request, collected):
        message = _("Your session has ended. Log in again.")
        return {"status": "refused", "error": "session_ended", "message": message}
    messages.success(request, _("Your UZI card is accepted. Now make your smartcard."))
    url = reverse("smartcards:create") + "?" + urlencode({"lid": collected.subject})
    return {"status": "ok", "next": url}


def finish_create(request, collected: challenges.Collected) -> dict:
    """The card client made the card: the person's smartcards, and how to log in with it."""
    if collected.status == "refused":
        error = (collected.result or {}).get("error", "")
        return {"status": "refused", "error": error, "message": collected.refusal_message()}
    if not _same_person(request, collected):
        message = _("Your smartcard is ready. Log in with it.")
        return {"status": "ok", "next": reverse("smartcards:login"), "message": message}
    messages.success(request, _("Your smartcard is ready. From now on you can log in with it."))
    return {"status": "ok", "next": reverse("smartcards:mine")}


def guidance(request):
    """*Smartcard aanmaken*, step by step (seed 003, 2c)."""
    return render(request, "smartcards/guidance.html")
