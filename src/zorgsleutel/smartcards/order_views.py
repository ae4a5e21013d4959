"""Beheer → Smartcards bestellen (seed 003: "Lege ZORG-ID Smartcards zijn aan te vragen via deze
webshop"): an administrator orders blank cards, sees the organisation's orders (with the cards'
serial numbers once shipped) and cancels one before it ships. Parse, check permission, call one
flow, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zorgsleutel import policies
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.pages import (
    CONFIRM_FIELD,
    CONFIRM_VALUE,
    confirmed,
    guard,
    render,
    show_error,
)
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Membership, Organisation
from zorgsleutel.smartcards import orders as flows
from zorgsleutel.smartcards.models import BlankCard, CardOrder
from zorgsleutel.smartcards.order_forms import OrderForm

PAGE_SIZE = 25


@never_cache
@guard
def order_index(request):
    """The organisations this person orders cards for: straight there when there is one."""
    allowed = [
        m
        for m in request.user.memberships.select_related("organisation").order_by(
            "organisation__name"
        )
        if m.state == Membership.ACTIVE and policies.allows(m.role, "smartcards.order")
    ]
    if len(allowed) == 1:
        return redirect("card_orders:orders", public_id=allowed[0].organisation.public_id)
    if not allowed:
        raise PermissionDenied("forbidden", permissions.FORBIDDEN)
    return render(request, "smartcards/orders_index.html", {"memberships": allowed})


@never_cache
@guard
@require_http_methods(["GET", "POST"])
def orders(request, public_id):
    organisation = get_object_or_404(Organisation, public_id=public_id)
    permissions.require(request.user, "smartcards.order", organisation)
    refusal = flows.order_refusal(organisation)
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = flows.place_card_order(
                actor=request.user,
                organisation=organisation,
                quantity=form.cleaned_data["quantity"],
                delivery_address=form.cleaned_data["delivery_address"],
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "Your order %(reference)s for %(quantity)s blank smartcard has been placed. "
                    "You receive an e-mail when it has been sent.",
                    "Your order %(reference)s for %(quantity)s blank smartcards has been placed. "
                    "You receive an e-mail when they have been sent.",
                    order.quantity,
                )
                % {"reference": order.public_id, "quantity": order.quantity},
            )
            return redirect("card_orders:orders", public_id=organisation.public_id)
    rows = (
        CardOrder.objects.filter(organisation=organisation)
        .select_related("ordered_by")
        .prefetch_related(Prefetch("cards", queryset=BlankCard.objects.order_by("pk")))
        .order_by("-ordered_at", "-pk")
    )
    return render(
        request,
        "smartcards/orders.html",
        {
            "organisation": organisation,
            "form": form,
            "refusal": refusal,
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "max": policies.SMARTCARD_ORDER_MAX,
        },
    )


@never_cache
@guard
@require_http_methods(["GET", "POST"])
def cancel(request, public_id, order_id):
    """Asks first and names the order (a GET, or a POST without the page's confirmation);
    the page's POST cancels it."""
    organisation = get_object_or_404(Organisation, public_id=public_id)
    permissions.require(request.user, "smartcards.order", organisation)
    if not confirmed(request):
        order = get_object_or_404(CardOrder, public_id=order_id, organisation=organisation)
        return render(
            request,
            "smartcards/orders_cancel.html",
            {
                "organisation": organisation,
                "order": order,
                "confirm_field": CONFIRM_FIELD,
                "confirm_value": CONFIRM_VALUE,
            },
        )
    try:
        order = flows.cancel_card_order(
            actor=request.user, organisation=organisation, order_id=order_id
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("Order %(reference)s is cancelled.") % {"reference": order.public_id}
        )
    return redirect("card_orders:orders", public_id=organisation.public_id)
