"""SQL for the people of a page of members, for SQLite and PostgreSQL (see queries/__init__).

The search uses Django's own `icontains` expressions for the database (LIKE with ESCAPE on
SQLite; UPPER(x::text) LIKE UPPER(…) on PostgreSQL, which its trigram indexes serve), so the
matches are exactly those of `Q(name__icontains=…) | Q(email__icontains=…)`.
"""

# SQL here is put together from constant fragments and table aliases; every value is a
# query parameter.
# ruff: noqa: S608

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from django.db import connection

from zorgsleutel.accounts.models import Membership
from zorgsleutel.people.models import Organisation

if TYPE_CHECKING:
    from zorgsleutel.accounts.queries import Position

logger = logging.getLogger(__name__)

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


def is_small(organisation: Organisation) -> bool:
    def count() -> bool:
        capped = Membership.objects.filter(organisation=organisation)[: SMALL_ORGANISATION + 1]
        return capped.count() <= SMALL_ORGANISATION

    return _remembered(("small", connection.alias, organisation.pk, SMALL_ORGANISATION), count)


class People:
    """SQL for the ids of an organisation's people that match a search, by (name, e-mail)."""

    def __init__(self, organisation: Organisation, search: str, after: Position | None = None):
        self.organisation_id, self.search, self.after = organisation.pk, search, after
        self.small = is_small(organisation)

    def ids(self, limit: int | None, offset: int = 0, *, narrow: bool = False) -> tuple[str, list]:
        """All matching people: a small organisation from its memberships (then sorted), a
        large one along the (name, email) index, or if `narrow`, from the trigram index."""
        trigrams = narrow and not self.small and len(self.search) >= 3  # "ab" has no trigram
        if trigrams and connection.vendor == "postgresql" and trigram_indexes_exist():
            return self._from_trigrams(limit, offset)
        if self.small:
            sql = (
                "SELECT p.id FROM accounts_user p JOIN accounts_membership o"
                f" ON o.user_id = p.id WHERE o.organisation_id = %s AND NOT {renamed('o', 'p')}"
            )
            params = [self.organisation_id]
        else:
            sql, params = self._in_organisation("p")
            sql = f"SELECT p.id FROM accounts_user p WHERE {sql}"
            if trigrams and connection.vendor == "sqlite":
                sql, params = fts_narrowed(sql, params, self.search)
        for part, more in (self._matches("p"), self._keyset("p")):
            sql, params = sql + part, params + more
        if limit is None:  # for counting
            return sql, params
        return f"{sql} ORDER BY p.name, p.email LIMIT %s OFFSET %s", [*params, limit, offset]

    def count(self) -> int:
        """How many match, for numbered pages (this reads every match)."""
        sql, params = self.ids(None, narrow=True)
        if has_invitations(self.organisation_id):
            sql, params = self.with_invitations((sql, params), None)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) c", params)
            return cursor.fetchone()[0]

    def _from_trigrams(self, limit: int | None, offset: int) -> tuple[str, list]:
        """PostgreSQL: every match from the pg_trgm indexes, then the page of them. MATERIALIZED
        keeps the planner from walking the (name, email) index instead, hoping to meet
        matches soon (150 ms for 'pieter.', whose matches are all under P)."""
        test, pattern = contains("c", self.search)
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
        """The person is in the organisation under their own name (an invitation that shows
        the name the organisation typed is in `invitations()`)."""
        return (
            "EXISTS (SELECT 1 FROM accounts_membership o"
            f" WHERE o.user_id = {alias}.id AND o.organisation_id = %s"
            f" AND NOT {renamed('o', alias)})",
            [self.organisation_id],
        )

    def invitations(self, limit: int | None) -> tuple[str, list]:
        """Open invitations shown under the name the organisation typed, as (id, name, email)
        rows matching the search after the position, in (name, e-mail) order. They are few,
        and found by the partial index of invited memberships."""
        sql = (
            "SELECT u.id AS id, m.invited_name AS name, u.email AS email"
            " FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id"
            f" WHERE m.organisation_id = %s AND {renamed('m', 'u')}"
        )
        params: list = [self.organisation_id]
        if self.search:
            test, pattern = contains_columns("m.invited_name", "u.email", self.search)
            sql, params = f"{sql} AND {test}", [*params, pattern, pattern]
        if self.after is not None:
            name, email = self.after.name, self.after.email
            sql += " AND m.invited_name >= %s AND (m.invited_name > %s OR u.email > %s)"
            params += [name, name, email]
        if limit is None:
            return sql, params
        return f"{sql} ORDER BY m.invited_name, u.email LIMIT %s", [*params, limit]

    def with_invitations(
        self, people: tuple[str, list], limit: int | None, offset: int = 0
    ) -> tuple[str, list]:
        """`people` (ids in order, at most limit + offset of them) merged with the matching
        invitations in the database's own (name, e-mail) order: the ids of the page."""
        sql, params = people
        extra, extra_params = self.invitations(None if limit is None else limit + offset)
        merged = (
            "SELECT k.id AS id, k.name AS name, k.email AS email FROM accounts_user k"
            f" WHERE k.id IN (SELECT * FROM ({sql}) a)"
            f" UNION ALL SELECT * FROM ({extra}) b"
        )
        merged_params = [*params, *extra_params]
        if limit is None:
            return f"SELECT c.id FROM ({merged}) c", merged_params
        return (
            f"SELECT c.id FROM ({merged}) c ORDER BY c.name, c.email LIMIT %s OFFSET %s",
            [*merged_params, limit, offset],
        )

    def _matches(self, alias: str) -> tuple[str, list]:
        if not self.search:
            return "", []
        sql, pattern = contains(alias, self.search)
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


def contains(alias: str, search: str) -> tuple[str, str]:
    """`name` or `email` contains `search`, as Django's icontains writes it for this database."""
    return contains_columns(f"{alias}.name", f"{alias}.email", search)


def contains_columns(name: str, email: str, search: str) -> tuple[str, str]:
    column = connection.ops.lookup_cast("icontains", "CharField")
    test = connection.operators["icontains"] % "%s"
    sql = f"({column % name} {test} OR {column % email} {test})"
    return sql, f"%{connection.ops.prep_for_like_query(search)}%"


def renamed(membership: str, user: str) -> str:
    """The membership is an invitation (never accepted, blocked or not) the organisation knows
    under another name than the account's: until the person accepts, it sees what it typed."""
    return (
        f"({membership}.accepted_at IS NULL AND {membership}.invited_name <> ''"
        f" AND {membership}.invited_name <> {user}.name)"
    )


def has_invitations(organisation_id: int) -> bool:
    """Whether the organisation has invitations at all (the partial index, one probe)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM accounts_membership"
            " WHERE organisation_id = %s AND accepted_at IS NULL LIMIT 1",
            [organisation_id],
        )
        return cursor.fetchone() is not None


def fts_narrowed(sql: str, params: list, search: str) -> tuple[str, list]:
    """SQLite: only the people its trigram table names, when there are few enough."""
    ids = search_candidates(search)
    if ids is None:
        return sql, params
    return f"{sql} AND p.id IN ({', '.join(['%s'] * len(ids)) or 'NULL'})", [*params, *ids]


def search_candidates(search: str) -> list[int] | None:
    """SQLite: ids of people whose name or e-mail may contain `search`, when there are few.

    None: no trigram table, or more than SEARCH_CANDIDATES. The table folds case more widely
    than LIKE does, so the ids are a superset that the caller filters with LIKE as before.
    """
    if not search_table_ready():
        return None
    phrase = '"' + search.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s LIMIT %s",
            [phrase, SEARCH_CANDIDATES + 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= SEARCH_CANDIDATES else None


def trigram_indexes_exist() -> bool:
    """PostgreSQL: migration 0004 could create the pg_trgm indexes (it may lack the right)."""

    def look() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'accounts_user'"
                " AND indexname IN ('user_name_trgm', 'user_email_trgm')"
            )
            return cursor.fetchone()[0] == 2

    return _remembered(("trigram", connection.alias, connection.settings_dict["NAME"]), look)


def search_table_ready() -> bool:
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
