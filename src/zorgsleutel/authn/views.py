"""The one polling view of every cross-device challenge (challenges.py)."""

from __future__ import annotations

from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from zorgsleutel.authn import challenges
from zorgsleutel.core.errors import DomainError

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
    key = request.session.session_key
    if not key:
        return JsonResponse({"status": "invalid"}, status=404)
    try:
        with transaction.atomic():
            collected = challenges.collect(session_key=key, public_id=challenge_id)
            if collected.status == "waiting":
                return JsonResponse({"status": "waiting"})
            outcome = challenges.finisher(collected.kind, collected.purpose)(request, collected)
    except DomainError as error:
        return JsonResponse({"status": "expired", "message": str(error.message)}, status=410)
    return JsonResponse(outcome, status=_STATUSES.get(outcome["status"], 200))
