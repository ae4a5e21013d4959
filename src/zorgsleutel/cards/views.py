"""The UZI card in the browser itself: a TLS client certificate answers a card challenge.

Two hosts take part (deploy/nginx): the UZI host asks for the certificate and passes it on, the
portal's host holds the session of the browser that started the challenge. Their cookies are
apart (another host name, and in production perhaps another site), so the answer is made in two
steps, both a POST (a GET only shows what the card is for):

1. `tls_present` on the UZI host: the page names what presenting the card does; its button
   POSTs, and the certificate of that TLS connection is held on the challenge (the header is
   believed from a trusted proxy only, core/clientcert.py), with a one-time value for this
   browser's way back (authn/challenges.hold);
2. `tls_return` on the portal's host: the browser brings the value back and POSTs it; only the
   session that started the challenge gets the certificate verified and answering
   (cards.flows), then it returns to the page that asked, which collects the verdict.

A link to the UZI host relayed to someone else ends at step 2: their browser has the value,
not the session. The card API's limits hold here too: per client address, answers per challenge.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zorgsleutel.authn import challenges
from zorgsleutel.cards import flows, verification
from zorgsleutel.core import audit, clientcert, ratelimit
from zorgsleutel.core.errors import DomainError, RateLimited
from zorgsleutel.core.middleware import allow_form_answers_to
from zorgsleutel.core.pages import render
from zorgsleutel.core.requestcontext import client_ip

VALUE_MAX = 100  # the one-time value is 43 characters


def _back(request) -> str:
    """The local page to return to on the portal's host (`next`), never another site."""
    back = (request.POST if request.method == "POST" else request.GET).get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith("/"):
        return "/"
    return back


def _portal(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _refused(request, error: DomainError, back: str | None = None):
    context = {"error": error, "back": _portal(back) if back else ""}
    if isinstance(error, RateLimited):
        return render(request, "cards/tls_result.html", context, refusal=error)
    return render(request, "cards/tls_result.html", context, status=error.status)


def _forged(request, error: clientcert.UntrustedProxy, challenge_id: str):
    audit.record(
        "card.forged_header",
        actor="anonymous",
        outcome=audit.DENIED,
        details={"peer": error.peer, "challenge": challenge_id},
    )
    return render(request, "cards/tls_result.html", {"error": error}, status=403)


def _no_certificate() -> DomainError:
    return DomainError(
        "no_certificate",
        _(
            "Your browser sent no certificate. Put your UZI card in the reader and choose "
            "its certificate when the browser asks."
        ),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def tls_present(request, challenge_id: str):
    """On the UZI host. GET: what presenting the card does, and a button; POST: this TLS
    connection's certificate, held for the browser that started the challenge."""
    challenge_id, back = challenge_id[:40], _back(request)
    try:
        ratelimit.consume(action="card.request", ip=client_ip(request))
        if request.method == "POST":
            ratelimit.consume(action="card.answer", challenge=challenge_id)
        certificate = clientcert.client_certificate(request)
        if request.method == "GET":
            return _present_page(request, challenge_id, back, certificate is not None)
        if certificate is None:
            raise _no_certificate()
        value = flows.hold_tls_certificate(challenge_id=challenge_id, certificate=certificate)
    except clientcert.UntrustedProxy as error:
        return _forged(request, error, challenge_id)
    except DomainError as error:
        return _refused(request, error, back)
    query = urlencode({"handoff": value, "next": back})
    url = _portal(reverse("cards:tls_return", args=[challenge_id])) + "?" + query
    return HttpResponseRedirect(url, status=303)


def _present_page(request, challenge_id: str, back: str, has_certificate: bool):
    info = flows.tls_presentation(challenge_id=challenge_id)
    response = render(
        request,
        "cards/tls_present.html",
        {**info, "has_certificate": has_certificate, "next": back, "cancel": _portal(back)},
    )
    # The button's answer redirects to the portal's host; form-action governs that redirect too.
    portal = urlsplit(settings.SITE_URL)
    origin = f"{portal.scheme}://{portal.netloc}"
    return allow_form_answers_to(response, origin)


@never_cache
@require_http_methods(["GET", "POST"])
def tls_return(request, challenge_id: str):
    """On the portal's host, back from the UZI host. GET: a form carrying the one-time value
    (it sends itself, cards/continue.js); POST: the held certificate answers, for the session
    that started the challenge only."""
    challenge_id, back = challenge_id[:40], _back(request)
    if request.method == "GET":
        value = request.GET.get("handoff", "")[:VALUE_MAX]
        return render(request, "cards/tls_return.html", {"handoff": value, "next": back})
    try:
        ratelimit.consume(action="card.request", ip=client_ip(request))
        flows.answer_with_held_tls_certificate(
            challenge_id=challenge_id,
            session_key=request.session.session_key or "",
            value=request.POST.get("handoff", "")[:VALUE_MAX],
        )
    except DomainError as error:
        # A refused card is shown by the page that asked (it collects the verdict); anything
        # else (another browser, an unreadable certificate, a limit) here.
        if error.code not in verification.UNREADABLE and challenges.maybe_answered(challenge_id):
            return HttpResponseRedirect(back)
        return _refused(request, error, back)
    return HttpResponseRedirect(back)
