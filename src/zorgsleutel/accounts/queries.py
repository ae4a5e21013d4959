"""Read-side queries for Beheer: members of an organisation with their state, searched and paged."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet

from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Organisation

PAGE_SIZE = 50
LINK_EXPIRED = "link_expired"


def members(organisation: Organisation, *, search: str = "") -> QuerySet[Membership]:
    open_link = LinkToken.objects.filter(
        user=OuterRef("user"),
        purpose=LinkToken.ACTIVATION,
        used_at=None,
        revoked_at=None,
        expires_at__gt=clock.now(),
    )
    rows = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .annotate(has_open_link=Exists(open_link))
        .order_by("user__name", "user__email", "pk")
    )
    search = " ".join(search.split())[:100]
    if search:
        rows = rows.filter(Q(user__name__icontains=search) | Q(user__email__icontains=search))
    return rows


def page_of_members(organisation: Organisation, *, search: str = "", page: int | str = 1) -> Page:
    return Paginator(members(organisation, search=search), PAGE_SIZE).get_page(page)


def state_of(membership: Membership) -> str:
    """invited | link_expired | active | blocked | deleted (seed 000: "link verlopen")."""
    user: User = membership.user
    if user.state == User.INVITED and not getattr(membership, "has_open_link", True):
        return LINK_EXPIRED
    return user.state
