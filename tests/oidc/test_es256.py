"""ES256 for the applications registered for it (docs/oidc.md, "Keys"): their ID tokens are
signed with a P-256 key of their own schedule, published in the JWKS beside the RSA key from
the moment such an application is registered; every other application keeps RS256."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from sso import claims_of, code_for, exchange, log_in, register
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc import keys
from zorgsleutel.oidc.models import Client, SigningKey

pytestmark = pytest.mark.django_db

DAY0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def _header(id_token: str) -> dict:
    from jwcrypto import jws

    token = jws.JWS()
    token.deserialize(id_token)
    return token.jose_header


def test_an_es256_application_gets_es256_id_tokens_and_others_keep_rs256(
    client, operator, care, mira
):
    lab = register(operator, [care], name="Labviewer", id_token_algorithm="ES256")
    epd = register(operator, [care], name="EPD")
    (es256,) = SigningKey.objects.filter(algorithm="ES256")
    assert es256.state == "current"  # made at the registration: published before it signs
    log_in(client, mira)
    for app, algorithm, kty in [(lab, "ES256", "EC"), (epd, "RS256", "RSA")]:
        code, asked = code_for(client, app)
        status, tokens = exchange(client, app, code, asked.verifier)
        assert status == 200
        header = _header(tokens["id_token"])
        assert header["alg"] == algorithm
        (published,) = [k for k in keys.key_set()["keys"] if k["kid"] == header["kid"]]
        assert (published["kty"], published["alg"], published["use"]) == (kty, algorithm, "sig")
        assert claims_of(tokens["id_token"])["aud"] == app.client_id  # verifies against the JWKS
    ec_key = next(k for k in keys.key_set()["keys"] if k["alg"] == "ES256")
    assert (ec_key["crv"], sorted(ec_key)) == (
        "P-256",
        ["alg", "crv", "kid", "kty", "use", "x", "y"],
    )  # fmt: skip  (no private part)
    assert Client.objects.get(application__name="Labviewer").id_token_algorithm == "ES256"


def test_the_console_registers_an_es256_application(client, operator, care):
    from appids import app_id

    log_in(client, operator, "app", authenticator=app_id(operator).public_id)
    form = {
        "name": "Labviewer",
        "redirect_uris": "https://lab.example.nl/oidc/callback",
        "organisations": [care.pk],
        "minimum_acr": "low",
        "subject_type": "pairwise",
        "id_token_algorithm": "ES256",
    }
    response = client.post("/operator/single-sign-on/nieuw", form)
    assert response.status_code == 200
    assert Client.objects.get().id_token_algorithm == "ES256"
    event = AuditEvent.objects.get(action="sso_client.registered")
    assert event.details["id_token_algorithm"] == "ES256"


def test_another_algorithm_is_refused_and_registers_nothing(operator, care):
    with pytest.raises(DomainError) as refused:
        register(operator, [care], id_token_algorithm="HS256")
    assert (refused.value.code, refused.value.field) == (
        "id_token_algorithm_invalid",
        "id_token_algorithm",
    )
    assert not Client.objects.exists()
    assert not SigningKey.objects.exists()


def test_each_algorithm_keeps_its_own_schedule(operator, care):
    def rotate(day: float) -> list[str]:
        out = io.StringIO()
        with clock.frozen(DAY0 + timedelta(days=day)):
            call_command("oidc", "rotate-keys", stdout=out)
        return out.getvalue().splitlines()

    (rsa_line,) = rotate(0)
    with clock.frozen(DAY0 + timedelta(days=10)):
        register(operator, [care], id_token_algorithm="ES256")
    rsa_first = keys.signing_key("RS256").kid
    ec_first = keys.signing_key("ES256").kid
    assert rsa_line == f"made key {rsa_first}; it signs from now on"
    assert rotate(90) == [  # the RSA key is due; the EC key, made on day 10, is not
        f"published key {_next('RS256')}; it signs from the first run after "
        "2026-04-07T03:00:00+00:00"
    ]
    rsa_second = _next("RS256")
    assert rotate(100) == [
        f"retired key {rsa_first}",
        f"key {rsa_second} signs from now on",
        f"published key {_next('ES256')}; it signs from the first run after "
        "2026-04-17T03:00:00+00:00",
    ]
    assert (keys.signing_key("RS256").kid, keys.signing_key("ES256").kid) == (rsa_second, ec_first)
    assert [k["alg"] for k in keys.key_set()["keys"]] == ["RS256", "ES256", "ES256", "RS256"]
    assert json.dumps(keys.key_set()).count('"d"') == 0  # never a private part


def _next(algorithm: str) -> str:
    return SigningKey.objects.get(algorithm=algorithm, state="next").kid
