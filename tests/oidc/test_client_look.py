"""An application's address and logo (Operatorconsole → Single sign-on → Register), shown on its
consent page: the address https only; the logo an uploaded PNG or JPEG, re-encoded by the portal
as a 128 px square PNG and served from the portal itself (no other host on the page: CSP
img-src 'self', nothing of the person's visit reaches the application's servers)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from sso import authorize_url, log_in
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import Client

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Labviewer",
    "redirect_uris": "https://rp.example.nl/callback",
    "minimum_acr": "low",
    "subject_type": "pairwise",
}


def picture(kind: str = "PNG", size=(300, 150), colour=(200, 30, 30)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind, pnginfo=None)
    out.seek(0)
    out.name = f"logo.{kind.lower()}"
    return out


def _operator_logged_in(client, operator):
    from appids import app_id

    log_in(client, operator, "app", authenticator=app_id(operator).public_id)


def test_the_address_and_logo_reach_the_consent_page(client, operator, care, mira):
    _operator_logged_in(client, operator)
    response = client.post(
        "/operator/single-sign-on/nieuw",
        {**FORM, "organisations": [care.pk], "url": " https://lab.example.nl/ ",
         "logo": picture()},
    )  # fmt: skip
    assert response.status_code == 200 and "<h1>Labviewer is geregistreerd</h1>" in (
        response.content.decode()
    )
    row = Client.objects.get()
    assert row.url == "https://lab.example.nl/"
    kept = Image.open(io.BytesIO(bytes(row.logo)))
    assert (kept.format, kept.size, kept.mode) == ("PNG", (128, 128), "RGBA")
    assert kept.getpixel((64, 64)) == (200, 30, 30, 255)  # the picture, scaled to 128 x 64
    assert kept.getpixel((64, 5)) == (0, 0, 0, 0)  # transparent above it
    (event,) = AuditEvent.objects.filter(action="sso_client.registered")
    assert (event.details["url"], event.details["logo"]) == ("https://lab.example.nl/", True)

    served = client.get(f"/oidc/logo/{row.public_id}")
    assert (served.status_code, served["Content-Type"]) == (200, "image/png")
    assert served.content == bytes(row.logo)
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served["X-Content-Type-Options"] == "nosniff"

    client.logout()
    log_in(client, mira, consented=False)
    page = client.get(authorize_url(row.application.client_id).url).content.decode()
    assert (
        f'<img class="zs-client-logo" src="/oidc/logo/{row.public_id}" alt="Logo van Labviewer" '
        'width="64" height="64">'
    ) in page
    assert (
        '<p>Adres van de applicatie: <a class="utrecht-link utrecht-link--html-a" '
        'href="https://lab.example.nl/" rel="noopener noreferrer">https://lab.example.nl/</a></p>'
    ) in page


def test_without_address_and_logo_the_page_shows_neither(client, app, mira):
    log_in(client, mira, consented=False)
    page = client.get(authorize_url(app.client_id).url).content.decode()
    assert "<img" not in page.split("<main", 1)[1] and "Adres van de applicatie" not in page
    assert client.get(f"/oidc/logo/{app.client.public_id}").status_code == 404


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
LOGO_REFUSED = (
    "Het logo moet een PNG- of JPEG-afbeelding zijn van hoogstens 200 kB en 2048 pixels per zijde."
)
URL_REFUSED = "Geef het adres van de applicatie, beginnend met https://, of laat het leeg."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "http://lab.example.nl", URL_REFUSED),
        ("url", "https://me@lab.example.nl", URL_REFUSED),
        ("url", "javascript:alert(1)", URL_REFUSED),
        ("logo", "svg", LOGO_REFUSED),
        ("logo", "gif", LOGO_REFUSED),
        ("logo", "wide", LOGO_REFUSED),
        ("logo", "heavy", LOGO_REFUSED),
        ("logo", "broken", LOGO_REFUSED),
    ],
)  # fmt: skip
def test_a_bad_address_or_logo_is_refused_and_nothing_registered(
    client, operator, care, field, value, message
):
    _operator_logged_in(client, operator)
    uploads = {
        "svg": io.BytesIO(SVG),
        "gif": picture("GIF"),
        "wide": picture(size=(2049, 10)),
        "heavy": io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(200 * 1024)),
        "broken": io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"not a picture"),
    }
    sent = uploads[value] if field == "logo" else value
    if field == "logo":
        sent.name = f"logo.{value}"
    response = client.post(
        "/operator/single-sign-on/nieuw", {**FORM, "organisations": [care.pk], field: sent}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<title>Fout: " in html
    assert f'">{message}</a></li>' in html
    assert Client.objects.count() == 0
