"""Dev mailbox pages. The app is installed only when DEBUG is on; the views check it again."""

from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from zorgsleutel.devtools import mailbox as dev_mailbox


def _require_debug() -> None:
    if not settings.DEBUG:
        raise Http404


@never_cache
def mailbox(request: HttpRequest) -> HttpResponse:
    _require_debug()
    items, warning = dev_mailbox.entries()
    for item in items:
        item["sent_at_local"] = datetime.fromisoformat(item["sent_at"])
    return render(request, "devtools/mailbox.html", {"items": items, "warning": warning})


@never_cache
def mailbox_json(request: HttpRequest) -> JsonResponse:
    _require_debug()
    items, warning = dev_mailbox.entries()
    return JsonResponse(
        {"messages": items, "warning": warning}, json_dumps_params={"ensure_ascii": False}
    )
