"""Operatorconsole → Smartcard orders: the queue of blank-card orders (open ones first, oldest
first), an order with its ship form (the cards' serial numbers) and its cancel form. Every view
asks people.permissions.require_operator ("card_orders.handle"); the flows ask again."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.core.pages import confirm, confirmed, guard, render, show_error
from zorgsleutel.people import auditlog
from zorgsleutel.people.permissions import require_operator
from zorgsleutel.smartcards import orders as flows
from zorgsleutel.smartcards.models import CardOrder
from zorgsleutel.smartcards.order_forms import ReasonForm, ShipForm

PAGE_SIZE = 50
STATES = [
    (CardOrder.ORDERED, gettext_lazy("to ship")),
    (CardOrder.SHIPPED, gettext_lazy("shipped")),
    (CardOrder.CANCELLED, gettext_lazy("cancelled")),
]


def operator_only(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        require_operator(request.user, "card_orders.handle")  # audited; guard shows the 403
        return view(request, *args, **kwargs)

    return never_cache(guard(checked))


@operator_only
def queue(request):
    state = request.GET.get("state", CardOrder.ORDERED)
    rows = CardOrder.objects.select_related("organisation")
    if state in dict(STATES):
        rows = rows.filter(state=state)
    else:
        state = ""
    if state in (CardOrder.SHIPPED, CardOrder.CANCELLED):
        rows = rows.order_by("-state_changed_at", "-pk")  # what was handled last
    else:  # the queue: open orders first, oldest first
        waiting = Case(When(state=CardOrder.ORDERED, then=Value(0)), default=Value(1))
        rows = rows.annotate(waiting=waiting).order_by("waiting", "ordered_at", "pk")
    counts = dict(CardOrder.objects.values_list("state").annotate(n=Count("id")))
    filters = [(key, label, counts.get(key, 0)) for key, label in STATES] + [
        ("", _("all"), sum(counts.values()))
    ]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "smartcards/orders_queue.html",
        {"page": page, "state": state, "filters": filters},
    )


def _order_page(request, order, ship_form=None, reason_form=None):
    return render(
        request,
        "smartcards/orders_queue_order.html",
        {
            "order": order,
            "cards": order.cards.order_by("pk"),
            "ship_form": ship_form or ShipForm(),
            "reason_form": reason_form or ReasonForm(),
            "events": auditlog.rows(
                AuditEvent.objects.filter(target=order.audit_ref).order_by("seq")
            ),
        },
    )


def _get(order_id) -> CardOrder:
    return get_object_or_404(
        CardOrder.objects.select_related("organisation", "ordered_by"), public_id=order_id
    )


def _refused(request, order_id, error: DomainError):
    messages.error(request, str(error.message))
    return redirect("card_order_console:order", order_id=_get(order_id).public_id)


@operator_only
def order(request, order_id):
    return _order_page(request, _get(order_id))


@require_POST
@operator_only
def ship(request, order_id):
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            shipped = flows.ship_card_order(
                actor=request.user, order_id=order_id, serials=form.cleaned_data["serials"]
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            if error.field is None:  # the order's state: nothing to correct in the form
                return _refused(request, order_id, error)
            show_error(form, error)  # what was typed stays in the form
        else:
            messages.success(
                request,
                _("Order %(reference)s is shipped; the organisation's administrators are mailed.")
                % {"reference": shipped.public_id},
            )
            return redirect("card_order_console:order", order_id=shipped.public_id)
    return _order_page(request, _get(order_id), ship_form=form)


@require_POST
@operator_only
def cancel(request, order_id):
    """The reason first, then a page that asks, naming the order, its organisation and the
    reason its administrators read; that page's POST cancels."""
    form = ReasonForm(request.POST)
    if form.is_valid() and not confirmed(request):
        try:
            reason = flows.cancel_reason(form.cleaned_data["reason"])
        except DomainError as error:
            show_error(form, error)
            return _order_page(request, _get(order_id), reason_form=form)
        order = _get(order_id)
        names = {"reference": order.public_id, "organisation": order.organisation.name}
        return confirm(
            request,
            question=_("Cancel order %(reference)s of %(organisation)s?") % names,
            consequences=[
                _(
                    "The cards are then not shipped, and the administrators of %(organisation)s "
                    "are mailed this reason:"
                )
                % names,
                reason,
                _("This cannot be undone; they can order again."),
            ],
            button=_("Cancel order %(reference)s") % names,
            back=reverse("card_order_console:order", args=[order.public_id]),
            carry={"reason": reason},
        )
    if form.is_valid():
        try:
            cancelled = flows.cancel_card_order_as_operator(
                actor=request.user, order_id=order_id, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            if error.field is None:
                return _refused(request, order_id, error)
            show_error(form, error)
        else:
            messages.success(
                request,
                _("Order %(reference)s is cancelled; the organisation's administrators are mailed.")
                % {"reference": cancelled.public_id},
            )
            return redirect("card_order_console:order", order_id=cancelled.public_id)
    return _order_page(request, _get(order_id), reason_form=form)
