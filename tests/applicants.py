"""A care provider's application as test data (seed 003, step 2), for every test folder, and
the applicant's UZI card for its validation (stap 5): a test UZI hierarchy the portal trusts,
a card key, the card's certificate, and the validation page as the applicant opens it."""

from __future__ import annotations

import re

import pytest

URA, UZI = "90000382", "900016528"


def application_data(**changes):
    """ApplicationData of Huisartsenpraktijk De Linde, applicant Jan Test; override any field."""
    from zorgsleutel.organisations.flows.applications import ApplicationData

    values = {
        "organisation_name": "Huisartsenpraktijk De Linde",
        "kvk_number": "12345678",
        "ura": URA,
        "agb_code": "",
        "street": "Lindelaan 1",
        "postal_code": "1234 AB",
        "city": "Utrecht",
        "applicant_name": "Jan Test",
        "applicant_email": "jan@delinde.nl",
        "applicant_uzi_number": UZI,
        "declaration": True,
    }
    return ApplicationData(**{**values, **changes})


def approved_application(**changes):
    """(application, the validation link's path) after an operator approved it."""
    import re

    from zorgsleutel.accounts.models import User
    from zorgsleutel.messaging.models import OutboxMail
    from zorgsleutel.organisations.flows import applications
    from zorgsleutel.organisations.models import Application

    operator, _ = User.objects.get_or_create(
        email="ops@zorgsleutel.test",
        defaults={"name": "Ops", "state": User.ACTIVE, "is_operator": True},
    )
    application = applications.submit_application(data=application_data(**changes), locale="nl")
    applications.approve_application(actor=operator, application_id=application.public_id)
    mail = OutboxMail.objects.filter(template="application_approved").order_by("-pk").first()
    url = re.search(r"https?://\S+/organisatie/valideren/\S+", mail.body_text).group(0)
    return Application.objects.get(pk=application.pk), url


@pytest.fixture(scope="module")
def hierarchy():
    """A test UZI CA hierarchy (uzi/testca.py)."""
    from zorgsleutel.uzi import testca

    return testca.TestHierarchy.generate()


@pytest.fixture(scope="module")
def card_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def trust(hierarchy, settings, tmp_path):
    """The portal trusts `hierarchy` (and has no TLS path configured)."""
    hierarchy.write_trust(tmp_path / "trust")
    settings.UZI_TRUST_DIR = tmp_path / "trust"
    settings.UZI_TLS_URL = ""


def card(hierarchy, key, **fields):
    """A card certificate for `key`; fields override the applicant's (ura, uzi_number, ...)."""
    from zorgsleutel.uzi import testca

    values = {"ura": URA, "uzi_number": UZI, "name": "Jan Test", **fields}
    return testca.issue_card_certificate(key.public_key(), ca=hierarchy.zorgverlener, **values)


def present(certificate, key, code: str, *, sign_other: bytes | None = None, chain=()):
    """What the card client does, over HTTP, with its own cookie-less client."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from django.test import Client

    from zorgsleutel import cardprotocol
    from zorgsleutel.uzi import testca

    card_client = Client()
    info = card_client.get(f"/api/card/v1/challenges/{code}").json()
    message = cardprotocol.message(
        challenge_id=info["id"], challenge=cardprotocol.unb64(info["challenge"]), host=info["host"]
    )
    signature = key.sign(sign_other or message, padding.PKCS1v15(), hashes.SHA256())
    pems = [testca.pem(certificate), *(testca.pem(c) for c in chain)]
    return card_client.post(
        f"/api/card/v1/challenges/{info['id']}/answer",
        {
            "certificates": pems,
            "signature": cardprotocol.b64(signature),
            "algorithm": "rsa-pkcs1-sha256",
        },
        content_type="application/json",
    )


def open_page(client, path: str) -> dict:
    """Open the validation page like the applicant: its code and status URL."""
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    code = re.search(r'id="card-code">([A-Z0-9-]+)<', html).group(1)
    status = re.search(r'data-status-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    return {"code": code, "status": status}
