"""API tokens in the audit logs (people/auditlog.py): by the name given at creation. An
organisation's log names its own tokens only."""

from __future__ import annotations

from zorgsleutel.accounts.models import ApiToken
from zorgsleutel.people.auditlog import Named


def api_tokens(references: set[str], organisation) -> dict[str, Named]:
    ids = [r.partition(":")[2] for r in references if r.partition(":")[2].isdigit()]
    found = ApiToken.objects.filter(pk__in=ids)
    if organisation is not None:
        found = found.filter(organisation=organisation)
    return {f"apitoken:{pk}": Named(f"“{name}”") for pk, name in found.values_list("pk", "name")}
