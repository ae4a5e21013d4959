"""A person with their memberships and organisations, as every logged-in request needs them.

Both login steps and every request of a logged-in person (authn/backends.py) start here, and the
rules that follow (policies.required_acr, the menu, the audit events) read what was loaded
(`User.loaded_memberships`, through policies.memberships). Through the ORM (the user, then
`prefetch_related` of memberships with organisations) a load took 0.81 ms of CPU on the
benchmark host, a fifth of a `GET /mijn` (docs/benchmarks.md, "Django's public API"); three
statements through `QuerySet.raw()`, Django's documented way to run SQL into model instances,
take 0.26 ms. Table and column names come from the models' `_meta` (its documented API), every
value is a query parameter, and the instances are the ORM's own (raw() builds them).

The properties this must keep are pinned in tests/accounts/test_login_writes.py: the person is
not deleted (and in `state` when asked), the memberships are exactly theirs with their
organisations, and an address nobody has costs the same three statements as a known one.
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from zorgsleutel.people.models import Membership, Organisation, User


@cache
def _statements() -> tuple[str, str, str, str]:
    quote = connection.ops.quote_name
    user, membership, organisation = (
        quote(model._meta.db_table) for model in (User, Membership, Organisation)
    )

    def col(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    person = f"SELECT * FROM {user} WHERE {{}} = %s AND {col(User, 'state')} <> %s"  # noqa: S608
    by_pk = person.format(col(User, "id"))
    by_email = person.format(col(User, "email"))
    memberships = (
        f"SELECT * FROM {membership} WHERE {col(Membership, 'user')} = %s"  # noqa: S608
        f" ORDER BY {col(Membership, 'id')}"
    )
    organisations = (
        f"SELECT o.* FROM {organisation} o JOIN {membership} m"  # noqa: S608
        f" ON m.{col(Membership, 'organisation')} = o.{col(Organisation, 'id')}"
        f" WHERE m.{col(Membership, 'user')} = %s"
    )
    return by_pk, by_email, memberships, organisations


def person(*, pk: int | None = None, email: str | None = None, state: str | None = None):
    """The person with this id or e-mail address (not deleted; in `state` if given), their
    memberships in id order in `loaded_memberships`, each with its organisation; None when
    there is nobody (after the same three statements)."""
    by_pk, by_email, memberships_sql, organisations_sql = _statements()
    if email is not None:
        found = next(iter(User.objects.raw(by_email, [email, User.DELETED])), None)
    else:
        found = next(iter(User.objects.raw(by_pk, [pk, User.DELETED])), None)
    if found is not None and state is not None and found.state != state:
        found = None
    key = found.pk if found is not None else None
    memberships = list(Membership.objects.raw(memberships_sql, [key]))
    organisations = {o.pk: o for o in Organisation.objects.raw(organisations_sql, [key])}
    if found is None:
        return None
    loaded = []
    for membership in memberships:  # one deleted between the statements is left out
        organisation = organisations.get(membership.organisation_id)
        if organisation is not None:
            membership.user = found
            membership.organisation = organisation
            loaded.append(membership)
    found.loaded_memberships = loaded
    return found
