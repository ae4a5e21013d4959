"""Applications by name in the audit logs (oidc/auditnames.py): an organisation's log names only
the applications that may receive its people; the platform's log names every one."""

from __future__ import annotations

from django.utils import translation

from sso import register
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.people import auditlog


def _sentence(event: AuditEvent, organisation) -> str:
    with translation.override("nl"):
        return str(auditlog.rows([event], organisation=organisation)[0].sentence)


def _signed_in(seq: int, person, organisation, client) -> AuditEvent:
    return AuditEvent(
        seq=seq, actor=person.audit_ref, organisation=organisation.audit_ref,
        action="sso.code_issued", target=client, outcome="success",
        details={"client_id": "x", "acr": "low"},
    )  # fmt: skip


def test_an_application_is_named_only_where_it_may_receive_people(
    care, business, mira, operator, app
):
    theirs = register(operator, [business], name="Loonadministratie")
    ours = _signed_in(1, mira, care, app.client.audit_ref)  # Declaratieportaal: Zorggroep Noord's
    assert _sentence(ours, care) == (
        "Mira van der Berg is ingelogd bij de applicatie “Declaratieportaal”"
    )
    other = _signed_in(2, mira, care, theirs.client.audit_ref)  # only Bedrijf Zuid's
    assert _sentence(other, care) == "Mira van der Berg is ingelogd bij de applicatie (onbekend)"
    assert _sentence(other, None) == (  # the platform's log: operators know every application
        "Mira van der Berg is ingelogd bij de applicatie “Loonadministratie”"
    )
    forged = _signed_in(3, mira, care, "sso_client:not-a-uuid")
    assert _sentence(forged, None) == "Mira van der Berg is ingelogd bij de applicatie (onbekend)"
