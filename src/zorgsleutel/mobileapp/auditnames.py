"""App IDs in the audit logs (people/auditlog.py): by the name the person gave the app, with
its owner. An organisation's log names the apps of the people with a membership of it only."""

from __future__ import annotations

from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.people.auditlog import Named


def apps(references: set[str], organisation) -> dict[str, Named]:
    found = AppDevice.objects.filter(public_id__in=[r.partition(":")[2] for r in references])
    if organisation is not None:
        found = found.filter(user__memberships__organisation=organisation)
    return {
        f"appdevice:{public_id}": Named(f"“{name}”", owner=f"user:{owner}")
        for public_id, name, owner in found.values_list("public_id", "name", "user__public_id")
    }
