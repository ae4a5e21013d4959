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
- **Search.** `icontains` on name or e-mail, as always; a trigram index finds rare fragments
  (SQLite: the FTS5 table of migration 0005; PostgreSQL: the pg_trgm indexes of 0004), a
  frequent one is met early on the ordered walk. `slice_of_members` says which goes first.
"""

# SQL below is put together from constant fragments and table aliases; every value is a
# query parameter.
# ruff: noqa: S608

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
SEARCH_WINDOW = 5_000  # PostgreSQL: a search first looks at this many people after the cursor
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

    A search in a large organisation asks the trigram index only when that is cheaper than
    walking on until a page of matches is met. SQLite: its trigram table names the matches
    first if there are at most SEARCH_CANDIDATES (cheap to ask, and the walk would be long);
    otherwise it walks. PostgreSQL: a pg_trgm lookup costs 5–30 ms even for a frequent
    fragment, so it first looks at the next SEARCH_WINDOW people in order and uses the
    trigram indexes only when they hold too few matches (a rare fragment, or matches far
    away, e.g. a first name).
    """
    people = _People(organisation, normalise_search(search), after)
    if people.search and not people.small and connection.vendor == "postgresql":
        rows = _rows(organisation, people.window(limit + 1, SEARCH_WINDOW))
        if len(rows) <= limit and not people.window_reaches_end(SEARCH_WINDOW):
            rows = _rows(organisation, people.ids(limit + 1, narrow=True))
    else:
        rows = _rows(organisation, people.ids(limit + 1, narrow=bool(people.search)))
    return Slice(rows[:limit], more=len(rows) > limit)


def _rows(organisation: Organisation, people: tuple[str, list]) -> list[MemberRow]:
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _SLICE.format(people=people[0]),
            [LinkToken.ACTIVATION, now, organisation.pk, *people[1]],
        )
        return [
            MemberRow(pk, name, email, role, _json_list(roles), _state(state, bool(open_link)))
            for pk, name, email, role, roles, state, open_link in cursor.fetchall()
        ]


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

    def __init__(self, organisation: Organisation, search: str, after: Position | None = None):
        self.organisation_id, self.search, self.after = organisation.pk, search, after
        self.small = _is_small(organisation)

    def ids(self, limit: int | None, offset: int = 0, *, narrow: bool = False) -> tuple[str, list]:
        """All matching people: a small organisation from its memberships (then sorted), a
        large one along the (name, email) index, or if `narrow`, from the trigram index."""
        trigrams = narrow and not self.small and len(self.search) >= 3  # "ab" has no trigram
        if trigrams and connection.vendor == "postgresql" and _trigram_indexes_exist():
            return self._from_trigrams(limit, offset)
        if self.small:
            sql = (
                "SELECT p.id FROM accounts_user p JOIN accounts_membership o"
                " ON o.user_id = p.id WHERE o.organisation_id = %s"
            )
            params = [self.organisation_id]
        else:
            sql, params = self._in_organisation("p")
            sql = f"SELECT p.id FROM accounts_user p WHERE {sql}"
            if trigrams and connection.vendor == "sqlite":
                sql, params = _fts_narrowed(sql, params, self.search)
        for part, more in (self._matches("p"), self._keyset("p")):
            sql, params = sql + part, params + more
        if limit is None:  # for counting
            return sql, params
        return f"{sql} ORDER BY p.name, p.email LIMIT %s OFFSET %s", [*params, limit, offset]

    def _from_trigrams(self, limit: int | None, offset: int) -> tuple[str, list]:
        """PostgreSQL: every match from the pg_trgm indexes, then the page of them. MATERIALIZED
        keeps the planner from walking the (name, email) index instead, hoping to meet
        matches soon (150 ms for 'pieter.', whose matches are all under P)."""
        test, pattern = _contains("c", self.search)
        in_org, org_params = self._in_organisation("h")
        keyset, key_params = self._keyset("h")
        sql = (
            "WITH h AS MATERIALIZED (SELECT c.id, c.name, c.email FROM accounts_user c"
            f" WHERE {test}) SELECT h.id FROM h WHERE {in_org}{keyset}"
        )
        params = [pattern, pattern, *org_params, *key_params]
        if limit is None:
            return sql, params
        return f"{sql} ORDER BY h.name, h.email LIMIT %s OFFSET %s", [*params, limit, offset]

    def window(self, limit: int, size: int) -> tuple[str, list]:
        """The matches among the next `size` people of the database in order.

        The window reads only (name, email), so PostgreSQL answers it from the index alone
        (with `id` it chose a bitmap scan and a sort of everyone after the cursor) and stops
        at the page's last match; matches find their id through the unique e-mail index.
        """
        keyset, params = self._keyset("p")
        in_org, in_org_params = self._in_organisation("u")
        matches, match_params = self._matches("w")
        sql = (
            f"SELECT u.id FROM (SELECT p.name, p.email FROM accounts_user p WHERE 1 = 1{keyset}"
            " ORDER BY p.name, p.email LIMIT %s) w JOIN accounts_user u ON u.email = w.email"
            f" WHERE {in_org}{matches} ORDER BY w.name, w.email LIMIT %s"
        )
        return sql, [*params, size, *in_org_params, *match_params, limit]

    def window_reaches_end(self, size: int) -> bool:
        keyset, params = self._keyset("p")
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM accounts_user p WHERE 1 = 1{keyset} LIMIT %s) c"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, size])
            return cursor.fetchone()[0] < size

    def _in_organisation(self, alias: str) -> tuple[str, list]:
        return (
            "EXISTS (SELECT 1 FROM accounts_membership o"
            f" WHERE o.user_id = {alias}.id AND o.organisation_id = %s)",
            [self.organisation_id],
        )

    def _matches(self, alias: str) -> tuple[str, list]:
        if not self.search:
            return "", []
        sql, pattern = _contains(alias, self.search)
        return f" AND {sql}", [pattern, pattern]

    def _keyset(self, alias: str) -> tuple[str, list]:
        # `name >= x` is an index range on both databases; the OR settles ties on the name.
        if self.after is None:
            return "", []
        name, email = self.after.name, self.after.email
        return (
            f" AND {alias}.name >= %s AND ({alias}.name > %s OR {alias}.email > %s)",
            [name, name, email],
        )


def _contains(alias: str, search: str) -> tuple[str, str]:
    """`name` or `email` contains `search`, as Django's icontains writes it for this database."""
    column = connection.ops.lookup_cast("icontains", "CharField")
    test = connection.operators["icontains"] % "%s"
    sql = f"({column % (alias + '.name')} {test} OR {column % (alias + '.email')} {test})"
    return sql, f"%{connection.ops.prep_for_like_query(search)}%"


def _fts_narrowed(sql: str, params: list, search: str) -> tuple[str, list]:
    """SQLite: only the people its trigram table names, when there are few enough."""
    ids = _search_candidates(search)
    if ids is None:
        return sql, params
    return f"{sql} AND p.id IN ({', '.join(['%s'] * len(ids)) or 'NULL'})", [*params, *ids]


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
        sql, params = self.people.ids(None, narrow=True)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) c", params)
            return cursor.fetchone()[0]

    def __getitem__(self, key: slice) -> list[int]:
        sql, params = self.people.ids(key.stop - key.start, key.start, narrow=True)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]


def _search_candidates(search: str) -> list[int] | None:
    """SQLite: ids of people whose name or e-mail may contain `search`, when there are few.

    None: no trigram table, or more than SEARCH_CANDIDATES. The table folds case more widely
    than LIKE does, so the ids are a superset that the caller filters with LIKE as before.
    """
    if not _search_table_ready():
        return None
    phrase = '"' + search.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s LIMIT %s",
            [phrase, SEARCH_CANDIDATES + 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= SEARCH_CANDIDATES else None


def _trigram_indexes_exist() -> bool:
    """PostgreSQL: migration 0004 could create the pg_trgm indexes (it may lack the right)."""

    def look() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'accounts_user'"
                " AND indexname IN ('user_name_trgm', 'user_email_trgm')"
            )
            return cursor.fetchone()[0] == 2

    return _remembered(("trigram", connection.alias, connection.settings_dict["NAME"]), look)


def _search_table_ready() -> bool:
    """The trigram table and all its triggers exist (a stale table would hide people)."""

    def look() -> bool:
        marks = ", ".join(["%s"] * len(SEARCH_OBJECTS))
        sql = f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})"
        with connection.cursor() as cursor:
            cursor.execute(sql, SEARCH_OBJECTS)
            ready = cursor.fetchone()[0] == len(SEARCH_OBJECTS)
        if not ready:
            logger.warning("member search: trigram table or triggers missing; testing everyone")
        return ready

    return _remembered(("search table", connection.alias, connection.settings_dict["NAME"]), look)
