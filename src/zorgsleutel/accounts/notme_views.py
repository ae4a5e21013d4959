"""The *Dit was ik niet* page: confirm with one button (a GET never changes anything)."""

from __future__ import annotations

from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zorgsleutel.accounts.flows import notme
from zorgsleutel.core.errors import DomainError
from zorgsleutel.core.pages import render


@never_cache
@require_http_methods(["GET", "POST"])
def not_me_view(request, token: str):
    try:
        if request.method == "POST":
            reported = notme.report_not_me(raw=token)
            return render(
                request,
                "accounts/not_me_done.html",
                {
                    "organisations": [m.organisation.name for m in reported.blocked],
                    "removed": [name for _means, name in reported.removed],
                },
            )
        report = notme.open_report(token)
    except DomainError as error:
        return render(request, "accounts/link_invalid.html", {"message": error.message}, status=404)
    return render(request, "accounts/not_me.html", {"report": report})
