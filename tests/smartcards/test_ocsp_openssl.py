"""`openssl` as the relying party against a live portal: `openssl ocsp` asks the responder over
POST (with and without a nonce) and over GET, verifies each answer against the chain, and
`openssl crl` reads the CRL. Each runs against the portal's Django views (pytest-django's live
server) and against smartcards/status_app.py in front of them (the same server, mounted)."""

from __future__ import annotations

import base64
import os
import subprocess
import urllib.parse
import urllib.request

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from smartcards.publishing import card, certificate, status_app_server
from support import require_binary
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards import publication
from zorgsleutel.smartcards.models import Smartcard

MALFORMED = b"0\x03\n\x01\x01"


@pytest.fixture(params=["views", "status_app"])
def responder(request, transactional_db, portal_ca):
    """The portal's address: its Django views, or the status app mounted in front of them."""
    if request.param == "views":
        yield request.getfixturevalue("live_server").url
        return
    with status_app_server() as url:
        yield url


@pytest.fixture
def organisation(transactional_db):
    return Organisation.objects.create(
        name="Zorggroep Openssl", kind=Organisation.CARE_PROVIDER, ura="90000444"
    )


@pytest.fixture
def pki(portal_ca, tmp_path):
    """The chain (root and issuing CA) and the issuing CA as files for openssl."""
    certificates = portal_ca["certificates"]
    pem = serialization.Encoding.PEM
    (tmp_path / "chain.pem").write_bytes(
        certificates["root"].public_bytes(pem) + certificates["issuing"].public_bytes(pem)
    )
    (tmp_path / "issuing.pem").write_bytes(certificates["issuing"].public_bytes(pem))
    return tmp_path


def openssl(*args: str, directory) -> list[str]:
    """What openssl printed, line by line: its standard output, then its standard error (where
    `openssl ocsp` says "Response verify OK")."""
    result = subprocess.run(
        [require_binary("openssl"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=directory,
        env={**os.environ, "LC_ALL": "C"},
    )
    return (result.stdout + result.stderr).splitlines()


def card_file(pki, issued) -> str:
    (pki / "card.pem").write_bytes(issued.public_bytes(serialization.Encoding.PEM))
    return "card.pem"


def asks(pki, issued, url: str, *extra: str) -> list[str]:
    """`openssl ocsp` as a client: one POST for `issued`, the answer verified against the
    chain (the delegated responder's certificate is in it)."""
    return openssl(
        *("ocsp", "-issuer", "issuing.pem", "-cert", card_file(pki, issued)),
        *("-url", url + "/smartcards/ocsp", "-CAfile", "chain.pem", *extra),
        directory=pki,
    )


def openssl_hex(serial: int) -> str:
    """A serial as `openssl crl -text` prints it: upper-case hex in whole bytes."""
    digits = f"{serial:X}"
    return digits.rjust(len(digits) + len(digits) % 2, "0")


@pytest.mark.parametrize("nonce", [[], ["-no_nonce"]], ids=["nonce", "no_nonce"])
def test_openssl_finds_an_active_card_good_over_post(responder, organisation, pki, nonce):
    _, issued = card(organisation)
    printed = asks(pki, issued, responder, *nonce)
    assert printed[0] == "card.pem: good" and "Response verify OK" in printed, printed
    assert not any("WARNING" in line for line in printed), printed  # the nonce came back


@pytest.mark.parametrize(
    "state, reason, expected",
    [
        (Smartcard.BLOCKED, "", ["card.pem: revoked", "\tReason: certificateHold"]),
        (Smartcard.REVOKED, "key_compromise", ["card.pem: revoked", "\tReason: keyCompromise"]),
        (
            Smartcard.REVOKED,
            "cessation_of_operation",
            ["card.pem: revoked", "\tReason: cessationOfOperation"],
        ),
    ],
    ids=["blocked", "lost", "deleted"],
)
def test_openssl_finds_a_blocked_or_revoked_card_revoked_with_its_reason(
    responder, organisation, pki, state, reason, expected
):
    _, issued = card(organisation, state=state, reason=reason)
    for extra in ([], ["-no_nonce"]):
        printed = asks(pki, issued, responder, *extra)
        assert printed[0] == expected[0] and "Response verify OK" in printed, printed
        assert expected[1] in printed, printed


def test_openssl_finds_a_certificate_no_card_holds_unknown(responder, organisation, pki):
    from people import someone

    holder = someone(organisation, email="zonder-kaart@publicatie.nl")
    issued = certificate(organisation, holder)  # signed by the CA, but no card row
    printed = asks(pki, issued, responder)
    assert printed[0] == "card.pem: unknown" and "Response verify OK" in printed, printed


def test_openssl_reads_the_answer_to_a_get(responder, organisation, pki):
    _, issued = card(organisation, state=Smartcard.BLOCKED)
    made = openssl(
        *("ocsp", "-issuer", "issuing.pem", "-cert", card_file(pki, issued)),
        *("-no_nonce", "-reqout", "request.der"),
        directory=pki,
    )
    assert made == [], made
    encoded = urllib.parse.quote(base64.b64encode((pki / "request.der").read_bytes()), safe="")
    with urllib.request.urlopen(f"{responder}/smartcards/ocsp/{encoded}", timeout=10) as answer:
        (pki / "answer.der").write_bytes(answer.read())
        headers = answer.headers
    assert headers["Content-Type"] == "application/ocsp-response"
    assert headers["Cache-Control"] in (  # signed in this second or the one before
        "max-age=3600, public, no-transform, must-revalidate",
        "max-age=3599, public, no-transform, must-revalidate",
    )
    printed = openssl(
        *("ocsp", "-respin", "answer.der", "-issuer", "issuing.pem", "-cert", "card.pem"),
        *("-CAfile", "chain.pem", "-no_nonce"),
        directory=pki,
    )
    assert printed[0] == "card.pem: revoked" and "Response verify OK" in printed, printed
    assert "\tReason: certificateHold" in printed


def test_a_block_shows_in_openssls_answers_and_on_the_crl(responder, organisation, pki):
    row, issued = card(organisation)
    (pki / "ca.crl").write_bytes(urllib.request.urlopen(responder + "/smartcards/ca.crl").read())
    before = openssl(
        *("crl", "-inform", "DER", "-in", "ca.crl", "-CAfile", "chain.pem", "-noout", "-text"),
        directory=pki,
    )
    assert "verify OK" in before and "No Revoked Certificates." in before, before
    number = before.index("            X509v3 CRL Number: ")
    assert before[number + 1] == "                1", before  # made when first asked for
    assert asks(pki, issued, responder, "-no_nonce")[0] == "card.pem: good"  # now cached
    row.state = Smartcard.BLOCKED
    row.save()
    publication.card_changed(row)  # outside a transaction: published at once
    printed = asks(pki, issued, responder, "-no_nonce")
    assert printed[0] == "card.pem: revoked" and "Response verify OK" in printed, printed
    assert "\tReason: certificateHold" in printed
    (pki / "ca.crl").write_bytes(urllib.request.urlopen(responder + "/smartcards/ca.crl").read())
    after = openssl(
        *("crl", "-inform", "DER", "-in", "ca.crl", "-CAfile", "chain.pem", "-noout", "-text"),
        directory=pki,
    )
    assert "verify OK" in after, after
    assert after[after.index("            X509v3 CRL Number: ") + 1] == "                2", after
    listed = after.index(f"    Serial Number: {openssl_hex(issued.serial_number)}")
    assert after[listed + 1 : listed + 5] == [
        f"        Revocation Date: {row.state_changed_at:%b %e %H:%M:%S %Y} GMT",
        "        CRL entry extensions:",
        "            X509v3 CRL Reason Code: ",
        "                Certificate Hold",
    ]


def test_a_malformed_request_gets_malformed_request(responder, pki):
    posted = urllib.request.Request(
        responder + "/smartcards/ocsp",
        b"this is no OCSP request",
        {"Content-Type": "application/ocsp-request"},
    )
    with urllib.request.urlopen(posted, timeout=10) as answer:
        body = answer.read()
    assert (answer.status, body) == (200, MALFORMED)
    (pki / "answer.der").write_bytes(body)
    printed = openssl("ocsp", "-respin", "answer.der", "-resp_text", directory=pki)
    assert printed == ["Responder Error: malformedrequest (1)"]


def test_the_ca_certificate_is_what_the_cards_name(responder, organisation, pki, portal_ca):
    with urllib.request.urlopen(responder + "/smartcards/ca.cer", timeout=10) as answer:
        served = answer.read()
    assert served == portal_ca["certificates"]["issuing"].public_bytes(serialization.Encoding.DER)
    _, issued = card(organisation)
    (pki / "served.cer").write_bytes(served)
    printed = openssl(
        "x509",
        "-inform",
        "DER",
        "-in",
        "served.cer",
        "-noout",
        "-fingerprint",
        "-sha256",
        directory=pki,
    )
    fingerprint = portal_ca["certificates"]["issuing"].fingerprint(hashes.SHA256())
    assert printed == ["sha256 Fingerprint=" + fingerprint.hex(":").upper()]
    assert issued.issuer == portal_ca["certificates"]["issuing"].subject
