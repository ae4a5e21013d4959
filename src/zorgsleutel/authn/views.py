"""The one polling view of every cross-device challenge (challenges.py)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from zorgsleutel.authn import challenges

_STATUSES = {"invalid": 404, "expired": 410}


@never_cache
@require_GET
def challenge_status(request, challenge_id: str):
    """Polled by the page that shows a challenge (a QR code, a card code).

    Most polls only read one cache key (no session, no row lock): a thousand waiting pages cost
    little. The page asks once more with `final=1` when its code expires, for the verdict. Once
    answered, the session that asked collects the outcome and the purpose's finisher turns it
    into the next page, in the transaction that used the challenge up.
    """
    challenge_id = challenge_id[:40]
    if not request.GET.get("final") and not challenges.maybe_answered(challenge_id):
        return JsonResponse({"status": "waiting"})
    outcome = challenges.finish(request, challenge_id)
    return JsonResponse(outcome, status=_STATUSES.get(outcome["status"], 200))
