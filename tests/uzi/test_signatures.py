"""verify_signature: the card protocol's two algorithms; never raises on a bad signature."""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from zorgsleutel import cardprotocol
from zorgsleutel.uzi import algorithm_for, verify_signature
from zorgsleutel.uzi.testca import issue_card_certificate

MESSAGE = cardprotocol.message(challenge_id="abc", challenge=b"\x01" * 32, host="portal.test")


def certificate_for(key, uzi_test_ca):
    return issue_card_certificate(
        key.public_key(), ca=uzi_test_ca.hierarchy.zorgverlener, ura="90000001", uzi_number="1"
    )


def test_rsa_pkcs1_sha256(uzi_test_ca):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = certificate_for(key, uzi_test_ca)
    signature = key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert algorithm_for(certificate) == "rsa-pkcs1-sha256"
    assert verify_signature(certificate, MESSAGE, signature, "rsa-pkcs1-sha256")
    assert not verify_signature(certificate, MESSAGE + b"x", signature, "rsa-pkcs1-sha256")
    tampered = signature[:-1] + bytes([signature[-1] ^ 1])
    assert not verify_signature(certificate, MESSAGE, tampered, "rsa-pkcs1-sha256")
    assert not verify_signature(certificate, MESSAGE, signature, "ecdsa-sha256")
    assert not verify_signature(certificate, MESSAGE, b"", "rsa-pkcs1-sha256")


def test_ecdsa_sha256(uzi_test_ca):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = certificate_for(key, uzi_test_ca)
    signature = key.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    assert algorithm_for(certificate) == "ecdsa-sha256"
    assert verify_signature(certificate, MESSAGE, signature, "ecdsa-sha256")
    assert not verify_signature(certificate, b"other", signature, "ecdsa-sha256")
    assert not verify_signature(certificate, MESSAGE, b"not der", "ecdsa-sha256")
    assert not verify_signature(certificate, MESSAGE, signature, "rsa-pkcs1-sha256")
    assert not verify_signature(certificate, MESSAGE, signature, "ecdsa-sha1")
