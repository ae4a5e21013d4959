"""CRL and OCSP checks against a real local HTTP server serving the test CA's answers."""

import http.server
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from support import free_port
from zorgsleutel import uzi
from zorgsleutel.uzi import revocation, testca, testrevocation
from zorgsleutel.uzi.trust import TrustStore

KEY = ec.generate_private_key(ec.SECP256R1()).public_key()


class Responder:
    """What the CA publishes: CRLs by path, and OCSP answers (POST /ocsp)."""

    def __init__(self):
        self.crls: dict[str, bytes] = {}
        self.ocsp = None  # callable(request_der) -> response_der
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[str] = []


@pytest.fixture
def responder():
    state = Responder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state.hits.append(self.path)
            body = state.crls.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self):
            state.hits.append(self.path)
            request = self.rfile.read(int(self.headers["Content-Length"]))
            body = state.ocsp(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    revocation.clear_cache()
    yield state
    server.shutdown()
    server.server_close()
    revocation.clear_cache()


@pytest.fixture
def pki(responder):
    """A hierarchy whose certificates point at the responder, and a card it issued."""
    hierarchy = testca.TestHierarchy.generate(crl_base_url=responder.url)
    certificate = testca.issue_card_certificate(
        KEY,
        ca=hierarchy.zorgverlener,
        ura="90000001",
        uzi_number="900000001",
        crl_url=f"{responder.url}/zorgverlener.crl",
        ocsp_url=f"{responder.url}/ocsp",
    )
    return hierarchy, certificate, TrustStore.from_certificates(hierarchy.ca_certificates)


def publish(responder, hierarchy, revoked=None, signer=None):
    """Every CA's CRL; `revoked` {ca name: {serial: time}}; `signer` forges the card's CRL."""
    revoked = revoked or {}
    for name in ("root", "persoon", "zorgverlener"):
        ca = getattr(hierarchy, name)
        if name == "zorgverlener" and signer:
            ca = testca.CertificateAuthority(ca.certificate, signer)
        crl = testrevocation.issue_crl(ca, revoked.get(name))
        responder.crls[f"/{name}.crl"] = crl.public_bytes(serialization.Encoding.DER)


def verify(certificate, trust, **options):
    return uzi.verify_presentation([certificate], at=datetime.now(UTC), trust=trust, **options)


def code_of(certificate, trust, **options) -> str:
    with pytest.raises(uzi.UziError) as caught:
        verify(certificate, trust, **options)
    return caught.value.code


def test_crl_good_then_cached(responder, pki):
    hierarchy, certificate, trust = pki
    publish(responder, hierarchy)
    verify(certificate, trust, check_crl=True)
    assert sorted(responder.hits) == ["/persoon.crl", "/root.crl", "/zorgverlener.crl"]
    verify(certificate, trust, check_crl=True)
    assert len(responder.hits) == 3  # from the cache


def test_crl_lists_the_card(responder, pki):
    hierarchy, certificate, trust = pki
    when = datetime.now(UTC) - timedelta(hours=1)
    publish(responder, hierarchy, {"zorgverlener": {certificate.serial_number: when}})
    assert code_of(certificate, trust, check_crl=True) == "revoked"


def test_crl_lists_the_issuing_ca(responder, pki):
    hierarchy, certificate, trust = pki
    when = datetime.now(UTC) - timedelta(hours=1)
    serial = hierarchy.zorgverlener.certificate.serial_number
    publish(responder, hierarchy, {"persoon": {serial: when}})
    assert code_of(certificate, trust, check_crl=True) == "revoked"


def test_crl_unreachable_fails_closed(responder, pki):
    _, certificate, trust = pki
    assert code_of(certificate, trust, check_crl=True, timeout=2) == "revocation_unknown"


def test_crl_signed_by_another_key_fails_closed(responder, pki):
    hierarchy, certificate, trust = pki
    publish(responder, hierarchy, signer=testca.issue_ca("Forger").key)
    assert code_of(certificate, trust, check_crl=True) == "revocation_unknown"


def test_crl_is_off_by_default(responder, pki):
    _, certificate, trust = pki
    verify(certificate, trust)
    assert responder.hits == []


def test_ocsp_good_and_revoked(responder, pki):
    hierarchy, certificate, trust = pki
    revoked: dict[int, datetime] = {}
    responder.ocsp = lambda request: testrevocation.ocsp_response(
        request,
        ca=hierarchy.zorgverlener,
        certificates={certificate.serial_number: certificate},
        revoked=revoked,
    )
    verify(certificate, trust, check_ocsp=True)
    assert responder.hits == ["/ocsp"]
    revoked[certificate.serial_number] = datetime.now(UTC) - timedelta(hours=1)
    assert code_of(certificate, trust, check_ocsp=True) == "revoked"


def test_ocsp_answer_signed_by_another_ca_fails_closed(responder, pki):
    hierarchy, certificate, trust = pki
    other = testca.TestHierarchy.generate(prefix="Other")
    impostor = testca.CertificateAuthority(
        hierarchy.zorgverlener.certificate, other.zorgverlener.key
    )
    responder.ocsp = lambda request: testrevocation.ocsp_response(
        request, ca=impostor, certificates={certificate.serial_number: certificate}
    )
    assert code_of(certificate, trust, check_ocsp=True) == "revocation_unknown"


def test_ocsp_refusal_fails_closed(responder, pki):
    hierarchy, certificate, trust = pki
    responder.ocsp = lambda request: testrevocation.ocsp_response(
        request, ca=hierarchy.zorgverlener, certificates={}
    )
    assert code_of(certificate, trust, check_ocsp=True) == "revocation_unknown"
