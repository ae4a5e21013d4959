"""Read-side queries for Beheer: members of an organisation with their state, searched and paged.

People are listed by (name, e-mail): a total order, because e-mail addresses are unique and a
person has one membership per organisation. How each page stays cheap (docs/benchmarks.md):

- **Where a page starts.** `slice_of_members` continues after a (name, e-mail) position
  (keyset paging), so the database seeks into the users' (name, email) index instead of
  skipping OFFSET rows; a page deep in 100,000 people costs what the first one costs.
  `page_of_members` (page numbers, for the Beheer page) still skips rows.
- **Which index drives.** A large organisation walks the users' (name, email) index and tests
  membership per person: it stops after one page. A small one (at most SMALL_ORGANISATION
  members) starts from its memberships and sorts them; walking every user of the database to
  find its few people would cost more.
- **Search.** `icontains` on name or e-mail, as always. On PostgreSQL the pg_trgm indexes of
  migration 0004 serve it. On SQLite the trigram table of migration 0005 names the candidates
  first when there are at most SEARCH_CANDIDATES (a rare fragment: the sort is small); a
  frequent fragment walks the ordered index and meets a page of matches early.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Organisation

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
LINK_EXPIRED = "link_expired"
SMALL_ORGANISATION = 5_000  # sorting this many rows costs a few ms; walking all users may not
SEARCH_CANDIDATES = 2_000  # SQLite: sort at most this many trigram candidates, else walk
SEARCH_TABLE = "accounts_user_search"  # migration 0005
SEARCH_OBJECTS = (
    SEARCH_TABLE,
    "accounts_user_search_insert",
    "accounts_user_search_delete",
    "accounts_user_search_update",
)


def normalise_search(search: str) -> str:
    """What a search means: whitespace collapsed, at most 100 characters."""
    return " ".join(search.split())[:100]


def members(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's memberships with user and open-link state, in (name, e-mail) order."""
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .annotate(has_open_link=Exists(_open_link()))
        .order_by("user__name", "user__email")
    )


def _open_link() -> QuerySet[LinkToken]:
    return LinkToken.objects.filter(
        user=OuterRef("user"),
        purpose=LinkToken.ACTIVATION,
        used_at=None,
        revoked_at=None,
        expires_at__gt=clock.now(),
    )


def count_members(organisation: Organisation) -> int:
    """All people of the organisation: one range of the memberships' organisation index."""
    return Membership.objects.filter(organisation=organisation).count()


@dataclass(frozen=True)
class Position:
    """A place in the (name, e-mail) order; a slice continues after it."""

    name: str
    email: str


@dataclass(frozen=True)
class MemberRow:
    """What a list shows of a member: read as plain values, without model instances."""

    id: int
    name: str
    email: str
    role: str
    application_roles: list[str]
    state: str


@dataclass(frozen=True)
class Slice:
    rows: list[MemberRow]
    more: bool  # people follow after the last of `rows`

    @property
    def last(self) -> Position | None:
        """Where the next slice starts, or None when this was the end."""
        if not self.more or not self.rows:
            return None
        return Position(self.rows[-1].name, self.rows[-1].email)


def slice_of_members(
    organisation: Organisation, *, search: str = "", after: Position | None = None, limit: int
) -> Slice:
    """Up to `limit` members after `after` (the start when None) that match `search`.

    One query: the page's people are found in a subquery (LIMIT limit + 1, which also tells
    whether more follow) and their memberships read by the (user, organisation) index.
    """
    people = _people(organisation, normalise_search(search))
    if after is not None:
        # `name >= x` is an index range on both databases; the OR settles ties on the name.
        people = people.filter(name__gte=after.name).filter(
            Q(name__gt=after.name) | Q(email__gt=after.email)
        )
    found = (
        Membership.objects.filter(
            organisation=organisation, user_id__in=people.values("pk")[: limit + 1]
        )
        .annotate(has_open_link=Exists(_open_link()))
        .order_by("user__name", "user__email")
        .values_list(
            "pk",
            "user__name",
            "user__email",
            "role",
            "application_roles",
            "user__state",
            "has_open_link",
        )
    )
    rows = [
        MemberRow(pk, name, email, role, roles, _state(state, has_open_link))
        for pk, name, email, role, roles, state, has_open_link in found
    ]
    return Slice(rows[:limit], more=len(rows) > limit)


def member_row(membership: Membership) -> MemberRow:
    """The row of one membership read through `members()`."""
    user = membership.user
    return MemberRow(
        membership.pk,
        user.name,
        user.email,
        membership.role,
        membership.application_roles,
        state_of(membership),
    )


def page_of_members(
    organisation: Organisation, *, search: str = "", page: int | str = 1, per_page: int = PAGE_SIZE
) -> Page:
    """A numbered page, as the Beheer page shows them (exact count; deep pages skip rows)."""
    search = normalise_search(search)
    result = Paginator(_PeopleIds(organisation, search), per_page).get_page(page)
    result.object_list = _memberships(organisation, list(result.object_list))
    return result


def state_of(membership: Membership) -> str:
    """invited | link_expired | active | blocked | deleted (seed 000: "link verlopen")."""
    return _state(membership.user.state, getattr(membership, "has_open_link", True))


def _state(user_state: str, has_open_link: bool) -> str:
    if user_state == User.INVITED and not has_open_link:
        return LINK_EXPIRED
    return user_state


# --- how the people of a page are found ------------------------------------------------------


_MEMO_SECONDS = 60
_memo: dict[tuple, tuple[float, bool]] = {}


def _remembered(key: tuple, compute) -> bool:
    """A yes/no about the database, remembered by this process for a minute.

    Only for answers that choose how to query, never what the answer is: a stale one costs
    time, not correctness.
    """
    now = time.monotonic()
    seen = _memo.get(key)
    if seen is not None and seen[0] > now:
        return seen[1]
    if len(_memo) > 10_000:
        _memo.clear()
    value = compute()
    _memo[key] = (now + _MEMO_SECONDS, value)
    return value


def _is_small(organisation: Organisation) -> bool:
    def count() -> bool:
        capped = Membership.objects.filter(organisation=organisation)[: SMALL_ORGANISATION + 1]
        return capped.count() <= SMALL_ORGANISATION

    return _remembered(("small", connection.alias, organisation.pk, SMALL_ORGANISATION), count)


def _people(organisation: Organisation, search: str) -> QuerySet[User]:
    """The organisation's people matching `search`, ordered by (name, e-mail)."""
    if _is_small(organisation):
        people = User.objects.filter(memberships__organisation=organisation)
    else:
        in_org = Membership.objects.filter(user=OuterRef("pk"), organisation=organisation)
        people = User.objects.filter(Exists(in_org))
        candidates = _search_candidates(search) if search else None
        if candidates is not None:
            people = people.filter(pk__in=candidates)
    if search:
        people = people.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return people.order_by("name", "email")


def _memberships(organisation: Organisation, user_ids: list[int]) -> list[Membership]:
    """The memberships of these people, with user and link state, in the order given."""
    found = {m.user_id: m for m in members(organisation).filter(user_id__in=user_ids)}
    return [found[i] for i in user_ids if i in found]


class _PeopleIds:
    """The ordered user ids for Django's Paginator, with a count that avoids the join if it can."""

    def __init__(self, organisation: Organisation, search: str):
        self.organisation, self.search = organisation, search
        self.people = _people(organisation, search).values_list("pk", flat=True)

    def count(self) -> int:
        if not self.search:
            return count_members(self.organisation)
        return self.people.count()

    def __getitem__(self, key):
        return list(self.people[key])


def _search_candidates(search: str) -> list[int] | None:
    """SQLite: ids of people whose name or e-mail may contain `search`, when there are few.

    None means "no shortcut": not SQLite, a fragment under 3 characters (no trigram), no
    trigram table, or more than SEARCH_CANDIDATES candidates (then the ordered walk finds a
    page of matches sooner than sorting them all). The trigram table folds case more widely
    than LIKE does, so the candidates are a superset that the caller filters as before.
    """
    if connection.vendor != "sqlite" or len(search) < 3 or not _search_table_ready():
        return None
    phrase = '"' + search.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s LIMIT %s",  # noqa: S608
            [phrase, SEARCH_CANDIDATES + 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= SEARCH_CANDIDATES else None


def _search_table_ready() -> bool:
    """The trigram table and all its triggers exist (a stale table would hide people)."""

    def look() -> bool:
        marks = ", ".join(["%s"] * len(SEARCH_OBJECTS))
        sql = f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, SEARCH_OBJECTS)
            ready = cursor.fetchone()[0] == len(SEARCH_OBJECTS)
        if not ready:
            logger.warning("member search: trigram table or triggers missing; testing everyone")
        return ready

    return _remembered(("search table", connection.alias, connection.settings_dict["NAME"]), look)
