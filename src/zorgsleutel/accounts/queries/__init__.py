"""Read-side queries for Beheer: members of an organisation with their state, searched and paged.

People are listed by (name, e-mail): a total order, because e-mail addresses are unique and a
person has one membership per organisation. How each page stays cheap (docs/benchmarks.md):

- **Where a page starts.** `slice_of_members` continues after a (name, e-mail) position
  (keyset paging), so the database seeks into the users' (name, email) index instead of
  skipping OFFSET rows; a page deep in 100,000 people costs what the first one costs.
  `page_of_members` (page numbers, for the Beheer page) still skips rows.
- **Which index drives.** A large organisation walks the users' (name, email) index and tests
  membership per person: it stops after one page. A small one (at most
  sql.SMALL_ORGANISATION members) starts from its memberships and sorts them; walking every
  user of the database to find its few people would cost more.
- **Search.** `icontains` on name or e-mail, as always; a trigram index finds rare fragments
  (SQLite: the FTS5 table of migration 0005; PostgreSQL: the pg_trgm indexes of 0004), a
  frequent one is met early on the ordered walk. `slice_of_members` says which goes first.

The SQL for finding the people of a page is in `queries/sql.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.accounts.queries import sql
from zorgsleutel.core import clock
from zorgsleutel.people.models import Organisation

PAGE_SIZE = 50
LINK_EXPIRED = "link_expired"


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
    """An open link that takes up this membership (links older than memberships' own links
    belong to the person)."""
    return LinkToken.objects.filter(
        Q(membership=OuterRef("pk")) | Q(membership=None),
        user=OuterRef("user"),
        purpose__in=MEMBERSHIP_LINKS,
        used_at=None,
        revoked_at=None,
        expires_at__gt=clock.now(),
    )


MEMBERSHIP_LINKS = (LinkToken.ACTIVATION, LinkToken.INVITATION)


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

    One query: the page's people in a subquery (LIMIT limit + 1, which also tells whether
    more follow), their memberships read by the (user, organisation) index. Written as SQL:
    building it with the ORM cost ten times what the database spends on it.

    A search in a large organisation asks the trigram index only when that is cheaper than
    walking on until a page of matches is met. SQLite: its trigram table names the matches
    first if there are at most sql.SEARCH_CANDIDATES (cheap to ask, and the walk would be long);
    otherwise it walks. PostgreSQL: a pg_trgm lookup costs 5–30 ms even for a frequent
    fragment, so it first looks at the next sql.SEARCH_WINDOW people in order and uses the
    trigram indexes only when they hold too few matches (a rare fragment, or matches far
    away, e.g. a first name).
    """
    people = sql.People(organisation, normalise_search(search), after)
    if people.search and not people.small and connection.vendor == "postgresql":
        chosen = people.window(limit + 1, sql.SEARCH_WINDOW)
        rows = _rows(organisation, chosen)
        if len(rows) <= limit and not people.window_reaches_end(sql.SEARCH_WINDOW):
            chosen = people.ids(limit + 1, narrow=True)
            rows = _rows(organisation, chosen)
    else:
        chosen = people.ids(limit + 1, narrow=bool(people.search))
        rows = None
    if sql.has_invitations(organisation.pk):
        # Invitations under a typed name go in by that name, in the database's order.
        rows = _rows(organisation, people.with_invitations(chosen, limit + 1))
    elif rows is None:
        rows = _rows(organisation, chosen)
    return Slice(rows[:limit], more=len(rows) > limit)


def _rows(organisation: Organisation, people: tuple[str, list]) -> list[MemberRow]:
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _SLICE.format(people=people[0]),
            [*MEMBERSHIP_LINKS, now, organisation.pk, *people[1]],
        )
        return [
            MemberRow(
                pk,
                name,
                email,
                role,
                _json_list(roles),
                _state(m_state, u_state, bool(open_link)),
            )
            for (
                pk,
                name,
                email,
                role,
                roles,
                m_state,
                u_state,
                open_link,
            ) in cursor.fetchall()
        ]


_SHOWN_NAME = (  # what the organisation sees: an invitation keeps the name it typed
    "CASE WHEN m.accepted_at IS NULL AND m.invited_name <> '' THEN m.invited_name ELSE u.name END"
)
_SLICE = f"""
    SELECT m.id, {_SHOWN_NAME}, u.email, m.role, m.application_roles, m.state, u.state,
           EXISTS (SELECT 1 FROM accounts_linktoken t
                   WHERE t.user_id = m.user_id AND t.purpose IN (%s, %s)
                     AND (t.membership_id = m.id OR t.membership_id IS NULL)
                     AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > %s)
    FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id
    WHERE m.organisation_id = %s AND m.user_id IN ({{people}})
    ORDER BY {_SHOWN_NAME}, u.email"""  # noqa: S608 (constants; values are parameters)


def _json_list(value) -> list:
    return json.loads(value) if isinstance(value, str) else value


def member_row(membership: Membership) -> MemberRow:
    """The row of one membership read through `members()`."""
    user = membership.user
    return MemberRow(
        membership.pk,
        membership.display_name,
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
    return _state(
        membership.state, membership.user.state, getattr(membership, "has_open_link", True)
    )


def _state(membership_state: str, user_state: str, has_open_link: bool) -> str:
    """What the organisation sees: its membership's state (never the account's standing
    elsewhere); an invitation whose link ran out is "link_expired"."""
    if membership_state == Membership.INVITED:
        return Membership.INVITED if has_open_link else LINK_EXPIRED
    if membership_state == Membership.BLOCKED:
        return Membership.BLOCKED
    return User.DELETED if user_state == User.DELETED else User.ACTIVE


def _memberships(organisation: Organisation, user_ids: list[int]) -> list[Membership]:
    """The memberships of these people, with user and link state, in the order given."""
    found = {m.user_id: m for m in members(organisation).filter(user_id__in=user_ids)}
    return [found[i] for i in user_ids if i in found]


class _PeopleIds:
    """The ordered user ids for Django's Paginator, with a count that avoids the join if it can."""

    def __init__(self, organisation: Organisation, search: str):
        self.organisation, self.search = organisation, search
        self.people = sql.People(organisation, search)

    def count(self) -> int:
        if not self.search:
            return count_members(self.organisation)
        return self.people.count()

    def __getitem__(self, key: slice) -> list[int]:
        if sql.has_invitations(self.organisation.pk):
            first = self.people.ids(key.stop, 0, narrow=True)
            people, params = self.people.with_invitations(first, key.stop - key.start, key.start)
        else:
            people, params = self.people.ids(key.stop - key.start, key.start, narrow=True)
        with connection.cursor() as cursor:
            cursor.execute(people, params)
            return [row[0] for row in cursor.fetchall()]
