"""Publishing the smartcard CA's status: the card's state decides what the CRL and OCSP say,
a change publishes after commit, and the HTTP endpoints serve it (Django's test client; the
live server with openssl as the relying party is in test_ocsp_openssl.py)."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.db import connection, transaction
from django.test import Client

from smartcards.publishing import NONCE, card, request
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards import publication, runtime, status
from zorgsleutel.smartcards.models import PublishedStatus, Smartcard

MALFORMED = b"0\x03\n\x01\x01"  # OCSPResponse { responseStatus malformedRequest (1) }
TRY_LATER = b"0\x03\n\x01\x03"
UNAUTHORIZED = b"0\x03\n\x01\x06"
RFC_5019_CACHE = "max-age=3600, public, no-transform, must-revalidate"


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(
        name="Zorggroep Publicatie", kind=Organisation.CARE_PROVIDER, ura="90000222"
    )


@pytest.fixture
def issuer(portal_ca):
    return portal_ca["certificates"]["issuing"]


def read(body: bytes) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(body)


def nonce_of(answer: ocsp.OCSPResponse) -> bytes | None:
    try:
        return answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def get(client, der: bytes, **headers):
    return client.get("/smartcards/ocsp/" + base64.b64encode(der).decode(), headers=headers)


def post(client, der: bytes):
    return client.post("/smartcards/ocsp", der, content_type="application/ocsp-request")


def block(row: Smartcard, *, state=Smartcard.BLOCKED, reason="") -> None:
    """What the lifecycle code does: the state changed, card_changed in that transaction."""
    with transaction.atomic():
        row.state, row.revocation_reason = state, reason
        row.state_changed_at = datetime.now(UTC).replace(microsecond=0)
        row.save()
        publication.card_changed(row)


# --- the status of a serial ------------------------------------------------------------------


def test_a_serials_status_is_its_cards_state(portal_ca, organisation):
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    cards = {
        name: card(organisation, state=state, reason=reason, at=at)[0]
        for name, state, reason in [
            ("active", Smartcard.ACTIVE, ""),
            ("blocked", Smartcard.BLOCKED, ""),
            ("lost", Smartcard.REVOKED, "key_compromise"),
            ("deleted", Smartcard.REVOKED, "cessation_of_operation"),
            ("renewed", Smartcard.REVOKED, "superseded"),
        ]
    }
    found = {name: publication.status_of(int(row.serial, 16)) for name, row in cards.items()}
    serial = {name: int(row.serial, 16) for name, row in cards.items()}
    assert found == {
        "active": "good",
        "blocked": status.Revoked(serial["blocked"], at, x509.ReasonFlags.certificate_hold),
        "lost": status.Revoked(serial["lost"], at, x509.ReasonFlags.key_compromise),
        "deleted": status.Revoked(serial["deleted"], at, x509.ReasonFlags.cessation_of_operation),
        "renewed": status.Revoked(serial["renewed"], at, x509.ReasonFlags.superseded),
    }
    assert publication.status_of(0x1234) is None  # never issued
    assert publication.status_of(-1) is None


# --- a change publishes after commit -----------------------------------------------------------


def test_a_change_publishes_a_crl_numbered_one_higher_after_commit(
    portal_ca, organisation, issuer, django_capture_on_commit_callbacks
):
    row, issued = card(organisation)
    publication.publish_crl()
    assert PublishedStatus.objects.get().crl_number == 1
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        row.state = Smartcard.BLOCKED
        row.save()
        publication.card_changed(row)
        assert PublishedStatus.objects.get().crl_number == 1  # not before the commit
    published = PublishedStatus.objects.get()
    assert published.crl_number == 2
    crl = x509.load_der_x509_crl(bytes(published.crl))
    assert crl.is_signature_valid(issuer.public_key())
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    entry = crl.get_revoked_certificate_by_serial_number(issued.serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.certificate_hold
    )


def test_a_change_that_rolls_back_publishes_nothing(
    portal_ca, organisation, django_capture_on_commit_callbacks
):
    row, _ = card(organisation)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        row.state = Smartcard.BLOCKED
        row.save()
        publication.card_changed(row)
        raise RuntimeError("the lifecycle step failed")
    assert PublishedStatus.objects.count() == 0


def test_the_cached_answer_without_a_nonce_changes_after_card_changed(
    portal_ca, organisation, issuer, django_capture_on_commit_callbacks
):
    row, issued = card(organisation)
    client = Client()
    first = get(client, request(issued, issuer, nonce=None))
    assert read(first.content).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert get(client, request(issued, issuer, nonce=None)).content == first.content  # cached
    with django_capture_on_commit_callbacks(execute=True):
        block(row)
    held = get(client, request(issued, issuer, nonce=None))
    answer = read(held.content)
    assert (answer.certificate_status, answer.revocation_reason) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.certificate_hold,
    )
    with django_capture_on_commit_callbacks(execute=True):
        block(row, state=Smartcard.ACTIVE)
    assert read(get(client, request(issued, issuer, nonce=None)).content).certificate_status == (
        ocsp.OCSPCertStatus.GOOD
    )
    with django_capture_on_commit_callbacks(execute=True):
        block(row, state=Smartcard.REVOKED, reason="key_compromise")
    lost = read(post(client, request(issued, issuer, nonce=None)).content)
    assert (lost.certificate_status, lost.revocation_reason) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.key_compromise,
    )


def test_an_answer_signed_before_a_change_never_replaces_the_changes_answer(
    portal_ca, organisation, issuer, django_capture_on_commit_callbacks, monkeypatch
):
    """A request reads `good`, a manager blocks the card while it signs: the block's answer
    stays in the cache (the request only adds to it), not the older `good`."""
    row, issued = card(organisation)
    read_status = publication.status_in_table  # what an answer to be cached reads

    def blocked_meanwhile(serial):
        found = read_status(serial)
        monkeypatch.setattr(publication, "status_in_table", read_status)  # the change reads anew
        with django_capture_on_commit_callbacks(execute=True):
            block(row)  # another request's change, published before this one is answered
        return found

    monkeypatch.setattr(publication, "status_in_table", blocked_meanwhile)
    assert read(get(Client(), request(issued, issuer, nonce=None)).content).certificate_status == (
        ocsp.OCSPCertStatus.GOOD  # what it read
    )
    monkeypatch.undo()
    assert read(get(Client(), request(issued, issuer, nonce=None)).content).certificate_status == (
        ocsp.OCSPCertStatus.REVOKED
    )


def test_the_answer_is_presigned_on_change_and_served_without_signing(
    portal_ca, organisation, issuer, django_capture_on_commit_callbacks, settings
):
    row, issued = card(organisation)
    with django_capture_on_commit_callbacks(execute=True):
        block(row)
    settings.SMARTCARD_CA_PIN = ""  # from here the CA cannot sign
    runtime.reset()
    served = read(get(Client(), request(issued, issuer, nonce=None)).content)
    assert served.certificate_status == ocsp.OCSPCertStatus.REVOKED
    with_nonce = post(Client(), request(issued, issuer))
    assert with_nonce.content == TRY_LATER


def test_a_change_while_the_ca_cannot_sign_leaves_no_stale_answer(
    portal_ca, organisation, issuer, django_capture_on_commit_callbacks, settings
):
    row, issued = card(organisation)
    client = Client()
    assert read(get(client, request(issued, issuer, nonce=None)).content).certificate_status == (
        ocsp.OCSPCertStatus.GOOD
    )
    publication.publish_crl()
    settings.SMARTCARD_CA_PIN = ""
    runtime.reset()
    with django_capture_on_commit_callbacks(execute=True):
        block(row)  # the block itself commits; its publication cannot sign
    assert get(client, request(issued, issuer, nonce=None)).content == TRY_LATER
    unavailable = client.get("/smartcards/ca.crl")
    assert (unavailable.status_code, unavailable["Retry-After"]) == (503, "60")
    settings.SMARTCARD_CA_PIN = "246810"
    runtime.reset()
    answer = read(get(client, request(issued, issuer, nonce=None)).content)
    assert answer.revocation_reason == x509.ReasonFlags.certificate_hold
    crl = x509.load_der_x509_crl(client.get("/smartcards/ca.crl").content)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    assert crl.get_revoked_certificate_by_serial_number(issued.serial_number) is not None


def test_the_token_dropping_its_session_does_not_stop_the_responder(
    portal_ca, organisation, issuer, softhsm
):
    _, issued = card(organisation)
    assert read(post(Client(), request(issued, issuer)).content).certificate_status == (
        ocsp.OCSPCertStatus.GOOD
    )
    softhsm.make_card()  # SoftHSM2 re-reads its tokens: the CA's session (and key handles) go
    assert read(post(Client(), request(issued, issuer)).content).certificate_status == (
        ocsp.OCSPCertStatus.GOOD
    )


# --- OCSP over HTTP ----------------------------------------------------------------------------


def test_an_answer_with_a_nonce_is_signed_fresh_and_never_cached(portal_ca, organisation, issuer):
    _, issued = card(organisation)
    client = Client(enforce_csrf_checks=True)  # relying parties have no CSRF token
    first = post(client, request(issued, issuer))
    assert (first.status_code, first["Content-Type"], first["Cache-Control"]) == (
        200,
        "application/ocsp-response",
        "no-store",
    )
    answer = read(first.content)
    assert (answer.certificate_status, nonce_of(answer)) == (ocsp.OCSPCertStatus.GOOD, NONCE)
    (signer,) = answer.certificates  # this process's responder, certified by the issuing CA
    signer.verify_directly_issued_by(portal_ca["certificates"]["issuing"])
    assert (
        answer.responder_key_hash
        == signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    again = get(client, request(issued, issuer, nonce=b"another nonce 16"))
    assert nonce_of(read(again.content)) == b"another nonce 16"
    assert "Set-Cookie" not in first and "Set-Cookie" not in again


def test_an_answer_without_a_nonce_carries_the_rfc_5019_headers(portal_ca, organisation, issuer):
    _, issued = card(organisation)
    client = Client()
    at = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)
    with clock.frozen(at):
        first = get(client, request(issued, issuer, nonce=None))
    answer = read(first.content)
    assert (answer.this_update_utc, answer.next_update_utc, nonce_of(answer)) == (
        at,
        at + timedelta(hours=1),
        None,
    )
    assert {
        name: first[name] for name in ("Content-Type", "Cache-Control", "Last-Modified", "Expires")
    } == {
        "Content-Type": "application/ocsp-response",
        "Cache-Control": RFC_5019_CACHE,
        "Last-Modified": "Mon, 07 Dec 2026 10:00:00 GMT",
        "Expires": "Mon, 07 Dec 2026 11:00:00 GMT",
    }
    with clock.frozen(at + timedelta(minutes=20)):
        later = get(client, request(issued, issuer, nonce=None))
        unchanged = get(client, request(issued, issuer, nonce=None), If_None_Match=first["ETag"])
    assert later.content == first.content
    assert (later["Cache-Control"], later["ETag"]) == (
        "max-age=2400, public, no-transform, must-revalidate",
        first["ETag"],
    )
    assert (unchanged.status_code, unchanged.content) == (304, b"")


def test_a_sha256_cert_id_is_answered_with_its_own_hashes(portal_ca, organisation, issuer):
    _, issued = card(organisation)
    der = request(issued, issuer, nonce=None, sha=hashes.SHA256())
    answer = read(get(Client(), der).content)
    asked = ocsp.load_der_ocsp_request(der)
    assert (answer.hash_algorithm.name, answer.issuer_key_hash, answer.serial_number) == (
        "sha256",
        asked.issuer_key_hash,
        issued.serial_number,
    )
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD


def test_a_serial_never_issued_is_unknown_and_another_issuer_unauthorized(
    portal_ca, organisation, issuer
):
    _, issued = card(organisation)
    Smartcard.objects.all().delete()  # the CA signed it, but no card holds it
    client = Client()
    for der in (request(issued, issuer), request(issued, issuer, nonce=None)):
        answer = post(client, der)
        assert read(answer.content).certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    other = request(issued, portal_ca["certificates"]["root"], nonce=None)
    assert get(client, other).content == UNAUTHORIZED


@pytest.mark.parametrize(
    "path, body",
    [
        ("/smartcards/ocsp", b"no request at all"),
        ("/smartcards/ocsp", b""),
        ("/smartcards/ocsp", b"0\x82\x01\x00"),  # a SEQUENCE cut short
        ("/smartcards/ocsp/bm8gcmVxdWVzdA==", None),  # base64 of "no request"
        ("/smartcards/ocsp/not*base64", None),
        ("/smartcards/ocsp/MIIBIjAN", None),  # base64, but cut short
    ],
)
def test_a_malformed_request_gets_malformed_request(portal_ca, path, body):
    client = Client(enforce_csrf_checks=True)
    if body is None:
        response = client.get(path)
    else:
        response = client.post(path, body, content_type="application/ocsp-request")
    assert (response.status_code, response["Content-Type"], response.content) == (
        200,
        "application/ocsp-response",
        MALFORMED,
    )


def test_the_responder_answers_post_and_get_only(portal_ca):
    client = Client()
    assert client.get("/smartcards/ocsp").status_code == 405
    assert client.put("/smartcards/ocsp", b"").status_code == 405
    assert client.post("/smartcards/ocsp/MA==", b"", content_type="x/y").status_code == 405


# --- the CRL and the CA certificate --------------------------------------------------------------


def test_the_crl_is_made_when_missing_served_until_its_next_update_then_made_again(
    portal_ca, organisation, issuer
):
    _, held_certificate = card(organisation, state=Smartcard.BLOCKED)
    card(organisation)  # an active card is not listed
    client = Client()
    at = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)
    with clock.frozen(at):
        first = client.get("/smartcards/ca.crl")
    assert {
        name: first[name]
        for name in ("Content-Type", "Cache-Control", "Last-Modified", "Expires", "ETag")
    } == {
        "Content-Type": "application/pkix-crl",
        "Cache-Control": "max-age=86400, public, no-transform, must-revalidate",
        "Last-Modified": "Mon, 07 Dec 2026 10:00:00 GMT",
        "Expires": "Tue, 08 Dec 2026 10:00:00 GMT",
        "ETag": '"crl-1"',
    }
    crl = x509.load_der_x509_crl(first.content)
    assert crl.is_signature_valid(issuer.public_key())
    assert [entry.serial_number for entry in crl] == [held_certificate.serial_number]
    with clock.frozen(at + timedelta(hours=23, minutes=59)):
        kept = client.get("/smartcards/ca.crl")
        unchanged = client.get("/smartcards/ca.crl", headers={"If-None-Match": '"crl-1"'})
    assert (kept.content, kept["Cache-Control"]) == (
        first.content,
        "max-age=60, public, no-transform, must-revalidate",
    )
    assert unchanged.status_code == 304
    with clock.frozen(at + timedelta(hours=24)):
        renewed = client.get("/smartcards/ca.crl")
    assert renewed["ETag"] == '"crl-2"'
    assert x509.load_der_x509_crl(renewed.content).last_update_utc == at + timedelta(hours=24)


def test_a_card_whose_certificate_expired_leaves_the_crl(portal_ca, organisation):
    _, expired = card(organisation, state=Smartcard.BLOCKED)
    _, held = card(organisation, state=Smartcard.BLOCKED)
    Smartcard.objects.filter(serial=f"{expired.serial_number:x}").update(
        not_after=datetime(2026, 1, 1, tzinfo=UTC)
    )
    crl = x509.load_der_x509_crl(publication.publish_crl().der)
    assert [entry.serial_number for entry in crl] == [held.serial_number]


@pytest.mark.django_db(transaction=True)
def test_a_stale_crl_is_made_again_once_however_many_ask(portal_ca, organisation):
    card(organisation, state=Smartcard.BLOCKED)
    at = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)
    with clock.frozen(at):
        publication.publish_crl()
    numbers, errors = [], []
    start = threading.Barrier(6)

    def fetch():
        try:
            with clock.frozen(at + timedelta(days=1, seconds=1)):
                start.wait()
                numbers.append(publication.current_crl().number)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert numbers == [2] * 6
    assert PublishedStatus.objects.get().crl_number == 2


def test_the_ca_certificate_is_the_issuing_cas(portal_ca, issuer):
    response = Client().get("/smartcards/ca.cer")
    assert (response["Content-Type"], response["Cache-Control"]) == (
        "application/pkix-cert",
        "max-age=86400, public",
    )
    assert response.content == issuer.public_bytes(serialization.Encoding.DER)


def test_the_addresses_in_a_card_certificate_are_these_endpoints(portal_ca, organisation):
    from urllib.parse import urlsplit

    from django.urls import resolve

    _, issued = card(organisation)
    access = issued.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    points = issued.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    names = {
        urlsplit(description.access_location.value).path: resolve(
            urlsplit(description.access_location.value).path
        ).view_name
        for description in access
    }
    crl_path = urlsplit(points[0].full_name[0].value).path
    names[crl_path] = resolve(crl_path).view_name
    assert names == {
        "/smartcards/ocsp": "smartcard_status:ocsp",
        "/smartcards/ca.cer": "smartcard_status:ca_certificate",
        "/smartcards/ca.crl": "smartcard_status:crl",
    }
