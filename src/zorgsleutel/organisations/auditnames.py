"""Applications in the audit logs (people/auditlog.py): by the organisation's name as the
applicant typed it. An organisation's log names its own application only."""

from __future__ import annotations

import uuid

from zorgsleutel.organisations.models import Application
from zorgsleutel.people.auditlog import Named


def applications(references: set[str], organisation) -> dict[str, Named]:
    ids = []
    for reference in references:
        try:
            ids.append(uuid.UUID(reference.partition(":")[2]))
        except ValueError:
            continue
    found = Application.objects.filter(public_id__in=ids)
    if organisation is not None:
        found = found.filter(organisation=organisation)
    return {
        f"application:{public_id}": Named(name)
        for public_id, name in found.values_list("public_id", "organisation_name")
    }
