"""The person of a login, with memberships and organisations, in one hand-built SQL query.

Both login steps start by reading the person and everything the policy checks and the audit
events need. Through the ORM (`select_related` over three models) building that query took
about 3 ms of CPU per step on the benchmark host, more than running it (docs/benchmarks.md).
The SQL is built once per process from the models' own metadata (tables, columns, every
concrete field), values go through the same database converters the ORM applies, and the
instances are made with `Model.from_db`, so they are the ones the ORM would have returned.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model, Prefetch

from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.organisations.models import Organisation

_MODELS: tuple[type[Model], ...] = (User, Membership, Organisation)
_ALIASES = ("u", "m", "o")


@cache
def _select() -> tuple[str, list[list[tuple]]]:
    """The SELECT list and, per model, the converters of each column (built once)."""
    quote = connection.ops.quote_name
    columns, converters = [], []
    for model, alias in zip(_MODELS, _ALIASES, strict=True):
        per_model = []
        for field in model._meta.concrete_fields:
            columns.append(f"{alias}.{quote(field.column)}")
            col = field.get_col(alias)
            convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            per_model.append((col, convs))
        converters.append(per_model)
    # Identifiers from the models' metadata only; every value is a query parameter.
    sql = (
        f"SELECT {', '.join(columns)}"  # noqa: S608
        # From the person: one without memberships is one row too (NULLs), and an unknown
        # address costs the same one query as a known one (no second lookup that would tell).
        f" FROM {quote(User._meta.db_table)} u"
        f" LEFT JOIN {quote(Membership._meta.db_table)} m"
        f" ON m.{quote('user_id')} = u.{quote('id')}"
        f" LEFT JOIN {quote(Organisation._meta.db_table)} o"
        f" ON o.{quote('id')} = m.{quote('organisation_id')}"
    )
    return sql, converters


def _instances(row) -> tuple[User, Membership | None, Organisation | None]:
    _, converters = _select()
    made, start = [], 0
    for model, per_model in zip(_MODELS, converters, strict=True):
        fields = model._meta.concrete_fields
        values = list(row[start : start + len(fields)])
        if model is not User and all(value is None for value in values):
            made.append(None)  # the person has no membership (LEFT JOIN)
            start += len(fields)
            continue
        for i, (col, convs) in enumerate(per_model):
            for convert in convs:
                values[i] = convert(values[i], col, connection)
        made.append(model.from_db(connection.alias, [f.attname for f in fields], values))
        start += len(fields)
    return made[0], made[1], made[2]


def person_with_memberships(*, email: str | None = None, pk: int | None = None, state=None):
    """(user, memberships) for the person with this e-mail address or id (not deleted, and in
    `state` if given), memberships in id order with their organisations; (None, []) when the
    person does not exist."""
    sql, _ = _select()
    if email is not None:
        sql += " WHERE u.email = %s"
        params: list = [email]
    else:
        sql += " WHERE u.id = %s"
        params = [pk]
    sql += " AND u.state <> %s"
    params.append(User.DELETED)
    if state is not None:
        sql += " AND u.state = %s"
        params.append(state)
    sql += " ORDER BY m.id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None, []
    user = None
    memberships = []
    for row in rows:
        found, membership, organisation = _instances(row)
        user = user or found
        if membership is None:
            continue
        membership.user = user
        membership.organisation = organisation
        memberships.append(membership)
    return user, memberships


MEMBERSHIPS = Prefetch("memberships", queryset=Membership.objects.select_related("organisation"))


def person(*, email: str | None = None, pk: int | None = None, state=None) -> User | None:
    """The person with their memberships and organisations prefetched, in one query (also for
    someone without a membership, and for nobody): the login steps, and every request of a logged-in
    person (backends.PersonBackend), read them from here (policies.memberships, the assurance
    rule, the menu, the audit events)."""
    user, rows = person_with_memberships(email=email, pk=pk, state=state)
    if user is None:
        return None
    memberships = user.memberships.all()
    memberships._result_cache = rows  # what prefetch_related stores (QuerySet, filled)
    memberships._prefetch_done = True
    user._prefetched_objects_cache = {"memberships": memberships}
    return user
