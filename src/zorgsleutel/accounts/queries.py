"""Read-side queries for Beheer: members of an organisation with their state, searched and paged."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet

from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Organisation

PAGE_SIZE = 50
LINK_EXPIRED = "link_expired"


def members(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's memberships with user and open-link state (pages go by _PeopleIds)."""
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
        .order_by("user__name", "user__email")  # a total order: e-mail addresses are unique
    )
    return rows


class _PeopleIds:
    """The ordered user ids of a page, found by walking the (name, email) index of users.

    Paging memberships joined to users made the database sort all of an organisation's people
    for every page (569 ms for a deep page of 100,000 on SQLite); walking the users' index and
    testing membership per row does not sort at all (53 ms, docs/benchmarks.md).
    """

    def __init__(self, organisation: Organisation, search: str):
        self.organisation, self.search = organisation, search
        in_org = Membership.objects.filter(user=OuterRef("pk"), organisation=organisation)
        people = User.objects.filter(Exists(in_org)).order_by("name", "email")
        if search:
            people = people.filter(Q(name__icontains=search) | Q(email__icontains=search))
        self.people = people.values_list("pk", flat=True)

    def count(self) -> int:
        if not self.search:  # the cheap count: one index range on memberships
            return Membership.objects.filter(organisation=self.organisation).count()
        return self.people.count()

    def __getitem__(self, key):
        return list(self.people[key])


def page_of_members(organisation: Organisation, *, search: str = "", page: int | str = 1) -> Page:
    search = " ".join(search.split())[:100]
    result = Paginator(_PeopleIds(organisation, search), PAGE_SIZE).get_page(page)
    ids = list(result.object_list)
    found = {m.user_id: m for m in members(organisation).filter(user_id__in=ids)}
    result.object_list = [found[i] for i in ids if i in found]
    return result


def state_of(membership: Membership) -> str:
    """invited | link_expired | active | blocked | deleted (seed 000: "link verlopen")."""
    user: User = membership.user
    if user.state == User.INVITED and not getattr(membership, "has_open_link", True):
        return LINK_EXPIRED
    return user.state
