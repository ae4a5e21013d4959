"""The UZI path behind the reverse proxy: a TLS client certificate answers a card challenge.

nginx (deploy/nginx) asks for the certificate on this path only and passes it on; the portal
believes the header only from a trusted proxy and verifies the chain itself (cards.flows). The
browser then returns to the page that showed the challenge, which collects the verdict.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from zorgsleutel import policies
from zorgsleutel.authn import challenges
from zorgsleutel.cards import flows
from zorgsleutel.core import audit, clientcert, ratelimit
from zorgsleutel.core.errors import DomainError, RateLimited
from zorgsleutel.core.pages import render
from zorgsleutel.core.requestcontext import client_ip, limit_key


@never_cache
@require_GET
def tls_present(request, challenge_id: str):
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith("/"):
        back = "/"
    try:
        # The card API's limits hold here too: per client address, answers per challenge.
        ratelimit.hit("card-ip", limit_key(client_ip(request)), policies.CARD_RATE_LIMITS["per_ip"])
        ratelimit.hit(
            "card-answer", challenge_id[:40], policies.CARD_RATE_LIMITS["answers_per_challenge"]
        )
        certificate = clientcert.client_certificate(request)
        if certificate is None:
            raise DomainError(
                "no_certificate",
                _(
                    "Your browser sent no certificate. Put your UZI card in the reader and choose "
                    "its certificate when the browser asks."
                ),
            )
        flows.answer_with_tls_certificate(challenge_id=challenge_id[:40], certificate=certificate)
    except clientcert.UntrustedProxy as error:
        audit.record(
            "card.forged_header",
            actor="anonymous",
            outcome=audit.DENIED,
            details={"peer": error.peer, "challenge": challenge_id[:40]},
        )
        return render(request, "cards/tls_result.html", {"error": error}, status=403)
    except RateLimited as error:
        return render(request, "cards/tls_result.html", {"error": error}, refusal=error)
    except DomainError as error:
        # A refused card is shown by the page that waits for the verdict; anything else here.
        if challenges.maybe_answered(challenge_id[:40]):
            return HttpResponseRedirect(settings.SITE_URL.rstrip("/") + back)
        return render(
            request,
            "cards/tls_result.html",
            {"error": error, "back": settings.SITE_URL.rstrip("/") + back},
            status=400,
        )
    return HttpResponseRedirect(settings.SITE_URL.rstrip("/") + back)
