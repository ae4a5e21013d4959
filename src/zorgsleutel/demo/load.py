"""Load the demo data: idempotent, DEBUG only, through the same vault path as real people.

Demo phone numbers are enrolled in the vault like anyone's: the vault sends a code through its
development gateway, and the loader reads that code from the dev outbox to confirm it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from zorgsleutel import vaultclient
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as app_client
from zorgsleutel.core import audit
from zorgsleutel.demo import (
    APP_PIN,
    APPLICATION,
    OPERATOR,
    ORGANISATIONS,
    PASSWORD,
    RELYING_PARTY_CONFIG,
    RELYING_PARTY_NAME,
    RELYING_PARTY_ORGANISATIONS,
    DemoPerson,
    everyone,
    relying_party_url,
)
from zorgsleutel.mobileapp import enrolment as app_enrolment
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.models import Organisation

# README: the demo operator, administrator and manager get an app (state files, PIN 123456).
APP_ROLES = {"operator", "administrator", "manager"}


class DemoRefused(Exception):
    pass


def load(*, stdout=None) -> dict[str, int]:
    if not settings.DEBUG:
        raise DemoRefused("The demo data is for development only (DEBUG=1).")
    counts = {"organisations": 0, "people": 0, "phones": 0, "apps": 0}
    organisations = {}
    with transaction.atomic():
        for spec in ORGANISATIONS:
            lookup = (
                {"ura": spec.ura}
                if spec.ura
                else {"kvk_number": spec.kvk_number, "kind": spec.kind}
            )
            organisation, created = Organisation.objects.get_or_create(
                **lookup,
                defaults={
                    "name": spec.name,
                    "kind": spec.kind,
                    "kvk_number": spec.kvk_number,
                    "state": spec.state,
                    "application_roles": list(spec.application_roles),
                },
            )
            organisations[spec.name] = organisation
            if created:
                counts["organisations"] += 1
                audit.record(
                    "organisation.created",
                    actor="demo",
                    organisation=organisation,
                    target=organisation,
                )
        for spec_org, person in everyone():
            user = User.objects.filter(email__iexact=person.email).first()
            if user is None:
                user = User(email=person.email, name=person.name, state=User.ACTIVE)
                user.is_operator = person.role == "operator"
                user.set_password(PASSWORD)
                user.save()
                counts["people"] += 1
                audit.record("account.created", actor="demo", target=user, details={"demo": True})
            if spec_org is not None:
                organisation = organisations[spec_org.name]
                _, created = Membership.objects.get_or_create(
                    user=user, organisation=organisation, defaults={"role": person.role}
                )
                if created:
                    audit.record(
                        "member.created",
                        actor="demo",
                        organisation=organisation,
                        target=user,
                        details={"role": person.role},
                    )
    for spec_org, person in everyone():
        user = User.objects.get(email__iexact=person.email)
        if _enrol_phone(user, person):
            counts["phones"] += 1
        needs_app = spec_org is None or spec_org.kind == Organisation.CARE_PROVIDER
        if person.role in APP_ROLES and needs_app and _enrol_app(user):
            counts["apps"] += 1
    counts["applications"] = _approved_application()
    counts["sso_clients"] = _demo_client([organisations[n] for n in RELYING_PARTY_ORGANISATIONS])
    return counts


def _approved_application() -> int:
    """Seed 003 up to step 3: an application the operator approved (its mail holds the link)."""
    from zorgsleutel.organisations.flows import applications
    from zorgsleutel.organisations.models import Application

    spec = APPLICATION
    if (
        Application.objects.filter(ura=spec.ura).exists()
        or Organisation.objects.filter(ura=spec.ura).exists()
    ):
        return 0
    application = applications.submit_application(
        data=applications.ApplicationData(
            organisation_name=spec.organisation_name,
            kvk_number=spec.kvk_number,
            ura=spec.ura,
            agb_code="",
            street=spec.street,
            postal_code=spec.postal_code,
            city=spec.city,
            applicant_name=spec.applicant_name,
            applicant_email=spec.applicant_email,
            applicant_uzi_number=spec.uzi_number,
            declaration=True,
        ),
        locale="nl",
    )
    operator = User.objects.get(email__iexact=OPERATOR.email)
    applications.approve_application(actor=operator, application_id=application.public_id)
    return 1


def relying_party_config() -> Path:
    return settings.VAR_DIR / "demo" / RELYING_PARTY_CONFIG


def _demo_client(organisations: list[Organisation]) -> int:
    """The demo relying party's registration, and the file it reads it from (mode 0600: its
    client secret, which the portal keeps only as a digest and no banner prints).

    Idempotent: kept while the file's client still exists with that secret, this issuer, this
    redirect URI, this post-logout redirect URI (its home page: *Uitloggen* there logs out of
    Zorgsleutel too) and this back-channel logout URI (a Zorgsleutel logout ends its session
    there). Otherwise (first run, the file lost, another PORT or DEMO_RP_PORT, a
    registration from before the demo logged out) the demo's old registrations are deleted and
    a new one made, each audited as an operator's."""
    from zorgsleutel.oidc import clients
    from zorgsleutel.oidc.models import Client

    path = relying_party_config()
    redirect_uri = relying_party_url() + "/callback"
    after_logout = relying_party_url() + "/"
    backchannel = relying_party_url() + "/backchannel-logout"
    kept = json.loads(path.read_text()) if path.exists() else {}
    current = Client.objects.filter(
        application__name=RELYING_PARTY_NAME, application__client_id=kept.get("client_id", "")
    ).first()
    if (
        current is not None
        and kept.get("issuer") == settings.SITE_URL
        and kept.get("redirect_uri") == redirect_uri == current.application.redirect_uris
        and kept.get("post_logout_redirect_uri") == after_logout
        and current.post_logout_redirect_uris == after_logout
        and current.backchannel_logout_uri == backchannel
        and clients.secret_matches(kept.get("client_secret", ""), current.application.client_secret)
    ):
        return 0
    operator = User.objects.get(email__iexact=OPERATOR.email)
    made_by_the_demo = Client.objects.filter(  # not an application an operator named alike
        application__name=RELYING_PARTY_NAME,
        application__redirect_uris__regex=r"^http://127\.0\.0\.1:[0-9]+/callback$",
    )
    for old in made_by_the_demo:
        clients.delete_client(actor=operator, public_id=old.public_id)
    registered = clients.register_client(
        actor=operator,
        name=RELYING_PARTY_NAME,
        redirect_uris=redirect_uri,
        organisations=organisations,
        minimum_acr="low",
        post_logout_redirect_uris=after_logout,
        backchannel_logout_uri=backchannel,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {
                "issuer": settings.SITE_URL,
                "client_id": registered.client_id,
                "client_secret": registered.secret,
                "redirect_uri": redirect_uri,
                "post_logout_redirect_uri": after_logout,
            },
            handle,
            indent=2,
        )
    os.chmod(path, 0o600)
    return 1


def state_file(email: str) -> Path:
    return settings.VAR_DIR / "demo" / f"{email}.json"


def _enrol_app(user: User) -> bool:
    """Link a demo app (PIN APP_PIN) and write the reference client's state file for it."""
    path = state_file(user.email)
    state = app_client.State(path)
    accounts = [a for a in state.data["accounts"] if a["server"] == settings.SITE_URL]
    if (
        accounts
        and AppDevice.objects.filter(
            public_id=accounts[0]["device"], user=user, state=AppDevice.ACTIVE
        ).exists()
    ):
        return False
    started = app_enrolment.start_enrolment(  # linked here: no browser waits on it
        actor=user, session_acr="", session_key="", purpose=app_enrolment.LINK_APP
    )
    material = app_client.DeviceMaterial.generate()
    device = app_enrolment.complete_enrolment(
        code=started.code,
        public_key=material.public_der,
        secret=material.secret,
        name="Demo-telefoon",
        notify=False,
    )
    state.remember(
        material.account(
            server=settings.SITE_URL, device=device.public_id, display_name=user.name, pin=APP_PIN
        )
    )
    return True


def _has_live_enrolment(user: User) -> bool:
    if not user.phone_enrolment:
        return False
    try:
        vaultclient.get().hint(enrolment=user.phone_enrolment)
    except vaultclient.VaultRefused:
        return False
    return True


def _enrol_phone(user: User, person: DemoPerson) -> bool:
    """Enrol and confirm the demo number in the vault, unless it already is."""
    if _has_live_enrolment(user):
        return False
    client = vaultclient.get()
    sent = client.enrol(phone=person.phone, locale="nl")
    code = _code_from_dev_outbox(client, sent.hint)
    verdict = client.verify(challenge=sent.challenge, code=code)
    if not verdict.ok:
        raise DemoRefused(f"could not confirm the demo number of {person.email}: {verdict.result}")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(phone_enrolment=sent.enrolment)
        audit.record("account.phone_set", actor="demo", target=user, details={"hint": sent.hint})
    return True


def _code_from_dev_outbox(client: vaultclient.VaultClient, hint: str) -> str:
    for message in client.dev_sms():
        if message["to"] == hint:
            digits = [
                word.strip(".,") for word in message["body"].split() if word.strip(".,").isdigit()
            ]
            if digits:
                return digits[0]
    raise DemoRefused(
        f"no SMS for {hint} in the vault's dev outbox (is the dev gateway configured?)"
    )
