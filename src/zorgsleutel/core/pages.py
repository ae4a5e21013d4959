"""What every page view shares: render (a page with a form's errors says so in its title), show
a flow's error on its field."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zorgsleutel.core.errors import DomainError, FieldErrors, PermissionDenied


def show_error(form, error: DomainError) -> None:
    """Tie a flow's error to its field (or the form), every one of them for FieldErrors: the
    field template shows it above the control, the error summary links to it."""
    for one in error.errors if isinstance(error, FieldErrors) else [error]:
        form.add_error(one.field if one.field in form.fields else None, str(one.message))


def has_form_errors(context: dict | None) -> bool:
    """Whether a form on the page was sent back with errors (the title then starts "Fout:")."""
    return any(
        isinstance(value, forms.BaseForm) and value.is_bound and bool(value.errors)
        for value in (context or {}).values()
    )


def render(
    request,
    template: str,
    context: dict | None = None,
    status: int | None = None,
    refusal: DomainError | None = None,
):
    """Django's render, with `form_errors` for the page title when a form has errors; a
    `refusal` (a page that refuses, e.g. rate limited) gives the status, unless one is named,
    and its headers (Retry-After)."""
    context = {**(context or {}), "form_errors": has_form_errors(context)}
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
