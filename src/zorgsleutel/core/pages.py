"""What every page view shares: render with accessible form errors, show a flow's error."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.forms import mark_errors


def show_error(form, error: DomainError) -> None:
    """Tie a flow's error to its field (or the form) so it is announced with the field."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def render(
    request,
    template: str,
    context: dict | None = None,
    status: int | None = None,
    refusal: DomainError | None = None,
):
    """Django's render; a form's errors marked for NL Design System; a `refusal` (a page that
    refuses, e.g. rate limited) gives the status, unless one is named, and its headers
    (Retry-After)."""
    if context and "form" in context:
        mark_errors(context["form"])
    if status is None:
        status = refusal.status if refusal is not None else 200
    response = django_render(request, template, context, status=status)
    for name, value in (refusal.headers() if refusal is not None else {}).items():
        response[name] = value
    return response


def locale() -> str:
    """The page's language as a mail locale ("nl" or "en")."""
    return "en" if (get_language() or "nl").startswith("en") else "nl"


def guard(view):
    """Pages for logged-in people: anonymous -> the login page; a flow's refusal -> the 403 page
    (the refusal itself is audited where it was decided)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            return render(
                request,
                "errors/error.html",
                {"status": 403, "title": _("No access"), "message": error.message},
                status=403,
            )

    return wrapped
