"""The portal's vault client against a real vault process: signed calls, opaque answers."""

from __future__ import annotations

import pytest

from zorgsleutel import vaultclient


def _code(client, hint):
    body = next(m["body"] for m in client.dev_sms() if m["to"] == hint)
    return next(w for w in body.replace(".", " ").split() if w.isdigit() and len(w) == 6)


def test_enrol_verify_hint_erase(vault_service):
    client = vault_service
    sent = client.enrol(phone="06 1111 2233", locale="nl")
    assert sent.hint == "06 •• •• •• 33"
    wrong = client.verify(
        challenge=sent.challenge,
        code="000000" if _code(client, sent.hint) != "000000" else "111111",
    )
    assert (wrong.result, wrong.attempts_left) == ("wrong", 4)
    verdict = client.verify(challenge=sent.challenge, code=_code(client, sent.hint))
    assert verdict.ok and verdict.enrolment == sent.enrolment
    assert client.hint(enrolment=sent.enrolment) == "06 •• •• •• 33"
    client.erase(enrolment=sent.enrolment)
    with pytest.raises(vaultclient.VaultRefused) as refused:
        client.hint(enrolment=sent.enrolment)
    assert refused.value.code == "unknown_enrolment"


def test_refusals_carry_the_vaults_code(vault_service):
    with pytest.raises(vaultclient.VaultRefused) as refused:
        vault_service.enrol(phone="020 123 4567")
    assert refused.value.status == 400 and refused.value.code == "phone_not_mobile"
    sent = vault_service.enrol(phone="06 1111 2234")
    with pytest.raises(vaultclient.VaultRefused) as too_soon:
        vault_service.send_challenge(enrolment=sent.enrolment)
    assert too_soon.value.code == "resend_too_soon" and too_soon.value.extra["retry_after"] > 0


def test_an_unreachable_vault_is_unavailable_not_a_crash():
    client = vaultclient.VaultClient(
        url="http://127.0.0.1:1", client_id="portal", key=b"k", timeout=1
    )
    with pytest.raises(vaultclient.VaultUnavailable, match=r"^the vault is unreachable: "):
        client.health()


def test_a_wrong_key_is_unavailable(live_vault):
    client = vaultclient.VaultClient(url=live_vault, client_id="portal", key=b"wrong", timeout=2)
    with pytest.raises(
        vaultclient.VaultUnavailable, match=r"^the vault refused our credentials \(bad_signature\)$"
    ):
        client.health()


NOTICE_NL = (
    "Zorgsleutel: uw wachtwoord en mobiele telefoonnummer zijn gewijzigd. Was u dit niet? "
    "Gebruik de "
    "link 'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact op met uw beheerder."
)


def test_notify_texts_the_confirmed_number_a_fixed_notice(vault_service):
    client = vault_service
    sent = client.enrol(phone="06 1111 2235", locale="nl")
    assert client.verify(challenge=sent.challenge, code=_code(client, sent.hint)).ok

    notice = client.notify(enrolment=sent.enrolment, kind="credentials_changed", locale="nl")

    assert notice == vaultclient.NoticeSent(
        enrolment=sent.enrolment, notice="credentials_changed", hint="06 •• •• •• 35"
    )
    newest = client.dev_sms()[0]
    assert newest == {"to": "06 •• •• •• 35", "body": NOTICE_NL, "sent_at": newest["sent_at"]}


def test_notify_refuses_unknown_kinds_and_pending_enrolments(vault_service):
    client = vault_service
    sent = client.enrol(phone="06 1111 2236", locale="nl")
    with pytest.raises(vaultclient.VaultRefused) as pending:
        client.notify(enrolment=sent.enrolment, kind="credentials_changed")
    assert (pending.value.status, pending.value.code) == (409, "enrolment_not_confirmed")
    client.verify(challenge=sent.challenge, code=_code(client, sent.hint))
    newest = client.dev_sms()[0]
    with pytest.raises(vaultclient.VaultRefused) as unknown:
        client.notify(enrolment=sent.enrolment, kind="Uw pas is geblokkeerd, bel 0900-1234")
    assert (unknown.value.status, unknown.value.code) == (400, "unknown_notice_kind")
    assert client.dev_sms()[0] == newest  # nothing was sent
