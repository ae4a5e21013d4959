"""Operatorconsole: applications (filter, detail, approve, reject), organisations (suspend,
reinstate) and the platform audit log. Every view checks the operator permission in the flow or
with `require_operator`; the assurance middleware already made operators log in with the app."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zorgsleutel.core import audit, auditevents, auditwords
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.core.pages import changed_row, confirm, confirmed, done, guard, render
from zorgsleutel.organisations import forms
from zorgsleutel.organisations.flows import applicant_account, applications, suspension
from zorgsleutel.organisations.flows.operators import require_operator
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.people import auditlog

PAGE_SIZE = 50


def operator_only(action: str):
    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            require_operator(request.user, action)  # audited; the guard shows the 403 page
            return view(request, *args, **kwargs)

        return never_cache(guard(checked))

    return decorate


@operator_only("applications.review")
def application_list(request):
    state = request.GET.get("state", Application.SUBMITTED)
    rows = Application.objects.order_by("-submitted_at")
    if state in dict(Application.STATES):
        rows = rows.filter(state=state)
    else:
        state = ""
    query = request.GET.get("q", "").strip()[:100]
    if query:
        rows = rows.filter(
            Q(organisation_name__icontains=query) | Q(ura=query) | Q(kvk_number=query)
        )
    counts = dict(Application.objects.values_list("state").annotate(n=Count("id")))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = [("", _("all"), sum(counts.values()))] + [
        (key, label, counts.get(key, 0)) for key, label in Application.STATES
    ]
    return render(
        request,
        "console/applications.html",
        {"page": page, "state": state, "filters": filters, "q": query},
    )


@operator_only("applications.review")
def application_detail(request, public_id):
    return _application_page(request, get_object_or_404(Application, public_id=public_id))


def _application_page(request, application, reason_form=None):
    return render(
        request,
        "console/application.html",
        {
            "application": application,
            "account": applicant_account.standing(application),  # operators may know it
            "reason_form": reason_form or forms.ReasonForm(),
            "events": auditlog.rows(
                AuditEvent.objects.filter(target=application.audit_ref).order_by("seq")
            ),
        },
    )


def _decide(request, public_id, flow, success: str, **kwargs):
    try:
        flow(actor=request.user, application_id=public_id, **kwargs)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, success)
    return redirect("console:application", public_id=public_id)


def _named(application: Application) -> dict:
    return {
        "name": application.organisation_name,
        "applicant": application.applicant_name,
        "email": application.applicant_email,
    }


@require_http_methods(["GET", "POST"])
@operator_only("applications.review")
def approve(request, public_id):
    """Goedkeuren: asks first, naming the organisation and what the applicant receives."""
    application = get_object_or_404(Application, public_id=public_id)
    names = _named(application)
    if not confirmed(request):
        return confirm(
            request,
            question=_("Approve the application of %(name)s?") % names,
            consequences=[
                _(
                    "%(applicant)s (%(email)s) is then sent the confirmation with the "
                    "validation link. With it and their UZI card they validate %(name)s and "
                    "become its administrator."
                )
                % names
            ],
            button=_("Approve"),
            danger=False,
            back=reverse("console:application", args=[application.public_id]),
        )
    return _decide(
        request,
        public_id,
        applications.approve_application,
        _(
            "The application of %(name)s is approved. %(applicant)s has been sent the "
            "confirmation with the validation link."
        )
        % names,
    )


@require_POST
@operator_only("applications.review")
def reject(request, public_id):
    """Afwijzen: the reason first, then a page that asks, naming the organisation and the
    reason the applicant receives."""
    application = get_object_or_404(Application, public_id=public_id)
    back = reverse("console:application", args=[application.public_id])
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():  # the page again, the reason's error on its field
        return _application_page(request, application, reason_form=form)
    names = {**_named(application), "reason": form.cleaned_data["reason"]}
    if not confirmed(request):
        return confirm(
            request,
            question=_("Reject the application of %(name)s?") % names,
            consequences=[
                _("%(applicant)s (%(email)s) is then sent this reason:") % names,
                form.cleaned_data["reason"],
                _("This cannot be undone; the applicant can apply again."),
            ],
            button=_("Reject"),
            back=back,
            carry={"reason": form.cleaned_data["reason"]},
        )
    return _decide(
        request,
        public_id,
        applications.reject_application,
        _("The application of %(name)s is rejected. %(applicant)s has been sent the reason.")
        % names,
        reason=form.cleaned_data["reason"],
    )


@require_POST
@operator_only("applications.review")
def renew_link(request, public_id):
    return _decide(
        request,
        public_id,
        applications.renew_validation_link,
        _("A new validation link has been sent; the old one no longer works."),
    )


@operator_only("organisations.suspend")
def organisation_list(request):
    rows = Organisation.objects.annotate(members=Count("memberships")).order_by("name")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(ura=query) | Q(kvk_number=query))
    return _organisations_page(request, rows, query)


def _organisations_page(request, rows, query: str, suspending=None, suspend_form=None):
    """The list; `suspend_form` sent back with its error for the row of `suspending`."""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    changed = changed_row(request)
    for organisation in page:
        organisation.changed = f"organisation-{organisation.public_id}" == changed
    return render(
        request,
        "console/organisations.html",
        {"page": page, "q": query, "suspending": suspending, "suspend_form": suspend_form},
    )


@require_POST
@operator_only("organisations.suspend")
def suspend(request, public_id):
    """Schorsen: the reason first (its error on that organisation's row), then a page that
    asks, naming the organisation."""
    target = get_object_or_404(Organisation, public_id=public_id)
    # The row's reason field has the id reason-<pk> (organisations.html): the summary links it.
    form = forms.SuspensionForm(request.POST, auto_id=f"%s-{target.pk}")
    if not form.is_valid():  # that organisation's row again, as a search for it would show it
        rows = Organisation.objects.annotate(members=Count("memberships")).filter(pk=target.pk)
        rows = rows.order_by("name")
        return _organisations_page(
            request, rows, target.name, suspending=target.pk, suspend_form=form
        )
    reason = form.cleaned_data["reason"]
    if not confirmed(request):
        names = {"name": target.name}
        return confirm(
            request,
            question=_("Suspend %(name)s?") % names,
            consequences=[
                _(
                    "Every member of %(name)s is logged out at once and can do nothing "
                    "for %(name)s until you reinstate it."
                )
                % names,
                _("Reason: %(reason)s") % {"reason": reason},
            ],
            button=_("Suspend"),
            back=reverse("console:organisations"),
            carry={"reason": reason},
        )
    try:
        organisation = suspension.suspend_organisation(
            actor=request.user, public_id=public_id, reason=reason
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        done(
            request,
            _("%(name)s is suspended; its members' sessions have ended.")
            % {"name": organisation.name},
            row=f"organisation-{organisation.public_id}",
        )
    return redirect("console:organisations")


@require_POST
@operator_only("organisations.suspend")
def reinstate(request, public_id):
    try:
        organisation = suspension.reinstate_organisation(actor=request.user, public_id=public_id)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        done(
            request,
            _("%(name)s is reinstated.") % {"name": organisation.name},
            row=f"organisation-{organisation.public_id}",
        )
    return redirect("console:organisations")


@operator_only("audit.platform")
def platform_audit(request):
    rows = AuditEvent.objects.order_by("-seq")
    action = request.GET.get("action", "").strip()[:60]
    if action:
        rows = rows.filter(action__startswith=action)
    outcome = request.GET.get("outcome", "")
    if outcome in (audit.SUCCESS, audit.FAILURE, audit.DENIED):
        rows = rows.filter(outcome=outcome)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/audit.html",
        {
            "page": page,
            "rows": auditlog.rows(page.object_list),
            "action": action,
            "outcome": outcome,
            "event_types": auditwords.choices(auditevents.EVENT_TYPES),
            "outcome_choices": auditlog.outcome_choices(),
        },
    )
