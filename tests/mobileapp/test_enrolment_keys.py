"""The app's key at enrolment (docs/app-protocol.md): an ECDSA P-256 public key and a 32-byte
secret, or the enrolment is refused with its code and its code stays open for the real app."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client

from zorgsleutel import appprotocol
from zorgsleutel.mobileapp import enrolment
from zorgsleutel.mobileapp.models import AppDevice

pytestmark = pytest.mark.django_db


def _der(key) -> str:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return appprotocol.b64(public)


def _enrol(code: str, public_key: str, secret: bytes = b"s" * 32):
    body = {
        "public_key": public_key,
        "secret": appprotocol.b64(secret),
        "name": "Telefoon",
    }
    return Client().post(f"/api/app/v1/enrolments/{code}", body, content_type="application/json")


@pytest.fixture
def code(person):
    started = enrolment.start_enrolment(
        actor=person("member"), session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    return started.code


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: ec.generate_private_key(ec.SECP384R1()), id="P-384"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256K1()), id="secp256k1"),
        pytest.param(lambda: rsa.generate_private_key(65537, 2048), id="RSA"),
    ],
)
def test_a_key_other_than_p256_is_refused(code, key):
    refused = _enrol(code, _der(key()))
    assert (refused.status_code, refused.json()["error"]) == (400, "bad_public_key")
    assert not AppDevice.objects.exists()
    linked = _enrol(code, _der(ec.generate_private_key(ec.SECP256R1())))
    assert linked.status_code == 201  # the code stays open for the real app


def test_bytes_that_are_no_key_and_a_short_secret_are_refused(code):
    assert _enrol(code, appprotocol.b64(b"no key")).json()["error"] == "bad_public_key"
    short = _enrol(code, _der(ec.generate_private_key(ec.SECP256R1())), secret=b"s" * 31)
    assert (short.status_code, short.json()["error"]) == (400, "bad_secret")
    assert not AppDevice.objects.exists()
