"""A care worker makes their own smartcard (seed 003, 2c *Aanmaken gebruiker ZORG-ID
Smartcard*): a proof of who they are, then the card's request, issued through the CA's token."""

import subprocess

import pytest
from cryptography import x509

from smartcardwork import new_key, page_code, send_csr
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards.models import IdentityCheck, Smartcard

CREATE = "/mijn/smartcards/aanmaken"

# Answers reach the waiting page after their commit (authn/challenges.py).
pytestmark = pytest.mark.django_db(transaction=True)


def confirm_identity(client, login_as, care, by=None):
    login_as(client, by or care.admin)
    membership = care.member.memberships.get()
    url = f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"
    return client.post(url, {"action": "confirm_identity", "seen": "yes"})


def test_a_care_worker_makes_a_smartcard_after_an_identity_check(
    client, login_as, portal_ca, care, tmp_path
):
    care.shipped("KAART-0001")
    assert confirm_identity(client, login_as, care).status_code == 302
    proof = IdentityCheck.objects.get()
    assert (proof.method, proof.confirmed_by, proof.used_at) == ("in_person", care.admin, None)

    login_as(client, care.member, acr="low")
    page = client.get(CREATE)
    assert "Anna Admin heeft op" in page.content.decode()
    shown = page_code(page)
    key = new_key()
    answer = send_csr(shown["code"], key, card_serial="KAART-0001")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "accepted"
    leaf, issuing, _root = (
        x509.load_pem_x509_certificate(p.encode()) for p in body["certificates"]
    )
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert issuing.subject.rfc4514_string() == "CN=Zorgsleutel Smartcard CA,O=Zorgsleutel,C=NL"
    for name, text in zip(("leaf", "issuing", "root"), body["certificates"], strict=True):
        (tmp_path / f"{name}.pem").write_text(text)
    verified = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-CAfile",
            tmp_path / "root.pem",
            "-untrusted",
            tmp_path / "issuing.pem",
            tmp_path / "leaf.pem",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.stdout.strip() == f"{tmp_path / 'leaf.pem'}: OK"

    done = client.get(shown["status"]).json()
    assert done == {"status": "ok", "next": "/mijn/smartcards"}
    card = Smartcard.objects.get()
    assert (card.user, card.organisation, card.state, card.route, card.card_serial) == (
        care.member,
        care.org,
        "active",
        "in_person",
        "KAART-0001",
    )
    assert card.serial == format(leaf.serial_number, "x")
    assert IdentityCheck.objects.get().used_at is not None
    event = AuditEvent.objects.get(action="smartcard.issued", organisation=care.org.audit_ref)
    assert event.details["serial"] == card.serial
    assert event.details["fingerprint"] == card.fingerprint
    assert (event.details["route"], event.details["card_serial"]) == ("in_person", "KAART-0001")
    mine = client.get("/mijn/smartcards").content.decode()
    assert "KAART-0001" in mine


def test_without_a_proof_the_page_asks_for_one_and_a_csr_is_refused(
    client, login_as, portal_ca, care
):
    care.shipped("KAART-0002")
    login_as(client, care.member, acr="low")
    page = client.get(CREATE)
    html = page.content.decode()
    assert "Laat eerst zien wie u bent, op een van twee manieren:" in html
    shown = page_code(page)  # the UZI card's challenge, not the blank card's
    answer = send_csr(shown["code"], new_key(), card_serial="KAART-0002")
    assert answer.json()["error"] == "unknown_purpose"
    assert Smartcard.objects.count() == 0


def card_page(client, login_as, care):
    confirm_identity(client, login_as, care)
    login_as(client, care.member, acr="low")
    return page_code(client.get(CREATE))


@pytest.mark.parametrize(
    "change, code",
    [
        ({"tampered": True}, "csr_bad_signature"),
        ({"challenge": "b3RoZXItY2hhbGxlbmdl"}, "csr_other_challenge"),
        ({"card_serial": "NOOIT-VERZONDEN"}, "card_not_shipped"),
        ({"card_serial": "KAART-ANDER"}, "card_other_organisation"),
    ],
)
def test_a_request_that_does_not_hold_is_refused_and_changes_nothing(
    client, login_as, portal_ca, care, change, code
):
    care.shipped("KAART-0003")
    care.shipped("KAART-ANDER", care.other)
    shown = card_page(client, login_as, care)
    options = {"card_serial": "KAART-0003", **change}
    answer = send_csr(shown["code"], new_key(), **options)
    assert (answer.status_code, answer.json()["error"]) == (400, code)
    assert Smartcard.objects.count() == 0
    assert IdentityCheck.objects.get().used_at is None  # the proof is still there
    outcome = client.get(shown["status"]).json()
    assert (outcome["status"], outcome["error"]) == ("refused", code)


@pytest.mark.parametrize("who, code", [("manager", "smartcard_role"), ("admin", "smartcard_role")])
def test_a_beheerder_never_makes_a_smartcard(client, login_as, portal_ca, care, who, code):
    login_as(client, getattr(care, who), acr="substantial")
    page = client.get(CREATE).content.decode()
    assert "Portaaladministrators en beheerders loggen in met de Zorgsleutel-app" in page


def test_a_person_with_an_app_removes_it_first(client, login_as, portal_ca, care):
    from appids import app_id

    app_id(care.member)
    confirm_identity(client, login_as, care)
    login_as(client, care.member, acr="substantial")
    page = client.get(CREATE).content.decode()
    assert "verwijder eerst uw app" in page


def test_another_organisation_cannot_confirm_the_identity(client, login_as, portal_ca, care):
    answer = confirm_identity(client, login_as, care, by=care.other_admin)
    assert answer.status_code == 403
    assert IdentityCheck.objects.count() == 0
    denied = AuditEvent.objects.get(action="permission.denied", organisation=care.org.audit_ref)
    assert denied.details["action"] == "members.view"
