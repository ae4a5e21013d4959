"""App IDs for tests: an app ID of a person as it stands, and what organisations decided."""

from __future__ import annotations


def app_id(user, state: str = "active", *, public_id: str = "", decided: dict | None = None):
    """An app ID of `user` (state "active", "blocked" by wrong PINs or "revoked" by the person),
    with `decided` = {organisation: "blocked" | "revoked" | "released" | "pending"}."""
    from zorgsleutel.core import clock
    from zorgsleutel.mobileapp.models import AppDecision, AppDevice

    device = AppDevice.objects.create(
        public_id=public_id or f"app_{user.pk}",
        user=user,
        name="Telefoon",
        public_key=b"-",
        secret_ciphertext=b"-",
        state=state,
        enrolled_at=clock.now(),
    )
    for organisation, decision in (decided or {}).items():
        AppDecision.objects.create(
            device=device, organisation=organisation, state=decision, decided_at=clock.now()
        )
    return device


def decisions(user) -> dict:
    """{(app ID, organisation name): decision} of every app ID of the person."""
    from zorgsleutel.mobileapp.models import AppDecision

    rows = AppDecision.objects.filter(device__user=user).select_related("device", "organisation")
    return {(row.device.public_id, row.organisation.name): row.state for row in rows}


def phone_enrols(qr_url: str, *, name: str = "Telefoon"):
    """The app scans an enrolment page's QR code (its zorgsleutel://enrol URL) and links itself
    over the app protocol, POST /api/app/v1/enrolments/<code>: the response."""
    from django.test import Client

    from zorgsleutel import appprotocol
    from zorgsleutel.clients.app import DeviceMaterial

    kind, params = appprotocol.parse_url(qr_url)
    assert kind == "enrol"
    material = DeviceMaterial.generate()
    body = {
        "public_key": appprotocol.b64(material.public_der),
        "secret": appprotocol.b64(material.secret),
        "name": name,
    }
    return Client().post(
        f"/api/app/v1/enrolments/{params['code']}", body, content_type="application/json"
    )
