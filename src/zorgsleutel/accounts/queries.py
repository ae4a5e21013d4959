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

import json
import logging
import time
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

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

    One query: the page's people in a subquery (LIMIT limit + 1, which also tells whether
    more follow), their memberships read by the (user, organisation) index. Written as SQL:
    building it with the ORM cost ten times what the database spends on it.
    """
    people = _People(organisation, normalise_search(search))
    if after is not None:
        people.after(after)
    sql, params = people.ordered(limit + 1)
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _SLICE.format(people=sql),
            [LinkToken.ACTIVATION, now, organisation.pk, *params],
        )
        found = cursor.fetchall()
    rows = [
        MemberRow(pk, name, email, role, _json_list(roles), _state(state, bool(has_open_link)))
        for pk, name, email, role, roles, state, has_open_link in found
    ]
    return Slice(rows[:limit], more=len(rows) > limit)


_SLICE = """
    SELECT m.id, u.name, u.email, m.role, m.application_roles, u.state,
           EXISTS (SELECT 1 FROM accounts_linktoken t
                   WHERE t.user_id = m.user_id AND t.purpose = %s AND t.used_at IS NULL
                     AND t.revoked_at IS NULL AND t.expires_at > %s)
    FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id
    WHERE m.organisation_id = %s AND m.user_id IN ({people})
    ORDER BY u.name, u.email"""


def _json_list(value) -> list:
    return json.loads(value) if isinstance(value, str) else value


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


class _People:
    """SQL for the ids of an organisation's people that match a search, by (name, e-mail).

    The search uses Django's own `icontains` expressions for the database (LIKE with ESCAPE
    on SQLite; UPPER(x::text) LIKE UPPER(…) on PostgreSQL, which its trigram indexes serve),
    so the matches are exactly those of `Q(name__icontains=…) | Q(email__icontains=…)`.
    """

    def __init__(self, organisation: Organisation, search: str):
        self.search = search
        self.params: list = [organisation.pk]
        if _is_small(organisation):  # start from the organisation's memberships, then sort
            self.sql = (
                "SELECT p.id FROM accounts_user p JOIN accounts_membership o ON o.user_id = p.id"
                " WHERE o.organisation_id = %s"
            )
        else:  # walk the (name, email) index, testing membership per person
            self.sql = (
                "SELECT p.id FROM accounts_user p WHERE EXISTS (SELECT 1 FROM"
                " accounts_membership o WHERE o.user_id = p.id AND o.organisation_id = %s)"
            )
            candidates = _search_candidates(search) if search else None
            if candidates is not None:
                marks = ", ".join(["%s"] * len(candidates)) or "NULL"
                self.sql += f" AND p.id IN ({marks})"
                self.params += candidates
        if search:
            column = connection.ops.lookup_cast("icontains", "CharField")
            test = connection.operators["icontains"] % "%s"
            self.sql += f" AND ({column % 'p.name'} {test} OR {column % 'p.email'} {test})"
            pattern = f"%{connection.ops.prep_for_like_query(search)}%"
            self.params += [pattern, pattern]

    def after(self, position: Position) -> None:
        # `name >= x` is an index range on both databases; the OR settles ties on the name.
        self.sql += " AND p.name >= %s AND (p.name > %s OR p.email > %s)"
        self.params += [position.name, position.name, position.email]

    def ordered(self, limit: int, offset: int = 0) -> tuple[str, list]:
        sql = f"{self.sql} ORDER BY p.name, p.email LIMIT %s OFFSET %s"
        return sql, [*self.params, limit, offset]


def _memberships(organisation: Organisation, user_ids: list[int]) -> list[Membership]:
    """The memberships of these people, with user and link state, in the order given."""
    found = {m.user_id: m for m in members(organisation).filter(user_id__in=user_ids)}
    return [found[i] for i in user_ids if i in found]


class _PeopleIds:
    """The ordered user ids for Django's Paginator, with a count that avoids the join if it can."""

    def __init__(self, organisation: Organisation, search: str):
        self.organisation, self.search = organisation, search
        self.people = _People(organisation, search)

    def count(self) -> int:
        if not self.search:
            return count_members(self.organisation)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({self.people.sql}) c", self.people.params)  # noqa: S608
            return cursor.fetchone()[0]

    def __getitem__(self, key: slice) -> list[int]:
        sql, params = self.people.ordered(key.stop - key.start, key.start)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]


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
