"""Applications (single sign-on clients) in the audit logs (people/auditlog.py): by the name the
operator registered. An organisation's log names only the applications that may receive its
people; the platform's log names them all."""

from __future__ import annotations

import uuid

from zorgsleutel.oidc.models import Client
from zorgsleutel.people.auditlog import Named


def clients(references: set[str], organisation) -> dict[str, Named]:
    wanted = []
    for reference in references:
        try:
            wanted.append(uuid.UUID(reference.partition(":")[2]))
        except ValueError:
            continue  # not one of ours: read as unknown
    found = Client.objects.filter(public_id__in=wanted)
    if organisation is not None:
        found = found.filter(organisations=organisation)
    return {
        f"sso_client:{public_id}": Named(f"“{name}”")
        for public_id, name in found.values_list("public_id", "application__name")
    }
