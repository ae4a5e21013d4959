"""What every page view shares: render (a page with a form's errors says so in its title), show
a flow's error on its field, ask before a destructive action (`confirmed`, `confirm`) and say
what it changed (`done`, `changed_row`)."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, resolve_url
from django.shortcuts import render as django_render
from django.utils.http import urlencode
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
    """Pages for logged-in people: anonymous -> the login page, which returns here after the
    login (`?next=`, a GET's own path: authn/landing.py); a flow's refusal -> the 403 page (the
    refusal itself is audited where it was decided)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return to_login(request)
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


def to_login(request):
    """The login page; for a GET, with this page to return to after the login (`next`)."""
    login = resolve_url(settings.LOGIN_URL)
    if request.method != "GET":
        return redirect(login)
    return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")


# --- Actions that say what they do (docs/look.md, "Actions") -----------------------------------
# A destructive or weighty action asks first: a GET, or the first POST (a list's button), shows a
# confirmation page that names the object and the consequence; only the POST from that page,
# which carries CONFIRM_FIELD (and its CSRF token), acts. The view checks the permission for the
# page as well as the flow does for the act, so both refuse alike.
CONFIRM_FIELD = "bevestigd"
CONFIRM_VALUE = "ja"


def confirmed(request) -> bool:
    """Whether this is the confirming POST of a confirmation page."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE


def confirm(
    request,
    *,
    question: str,
    consequences: list[str],
    items: list[str] | None = None,
    button: str,
    back: str,
    carry: dict[str, str] | None = None,
    warning: str = "",
    danger: bool = True,
):
    """The confirmation page (changes nothing): the question names the object, each consequence
    is a paragraph (`items` a list after them), `warning` an alert above the buttons; `button`
    (a danger button unless the action takes nothing away) posts `carry` (what the first POST
    chose, e.g. a role or a reason) back to this URL; "Back" goes to `back`."""
    return render(
        request,
        "web/confirm.html",
        {
            "question": question,
            "consequences": consequences,
            "items": items or [],
            "button": button,
            "back": back,
            "carry": sorted((carry or {}).items()),
            "warning": warning,
            "danger": danger,
            "confirm_field": CONFIRM_FIELD,
            "confirm_value": CONFIRM_VALUE,
        },
    )


# The changed row travels with the success message (its extra tags), so it is highlighted on the
# page that shows the message, once.
_ROW_TAG = "row:"


def done(request, message: str, *, row: str = "") -> None:
    """A success message that names what changed; `row` is the id of its row on the list the
    action returns to (highlighted there: `changed_row`)."""
    messages.success(request, message, extra_tags=f"{_ROW_TAG}{row}" if row else "")


def changed_row(request) -> str:
    """The id of the row the message on this page is about, or ""."""
    for message in messages.get_messages(request):
        for tag in (message.extra_tags or "").split():
            if tag.startswith(_ROW_TAG):
                return tag[len(_ROW_TAG) :]
    return ""
