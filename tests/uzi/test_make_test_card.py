"""make-test-card: a CA hierarchy, a trust dir and a card whose key was made on the token."""

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from zorgsleutel import uzi
from zorgsleutel.uzi.testcard import SoftHsm


def run(tmp_path, *args, wait=True):
    command = [sys.executable, "-m", "zorgsleutel.cli", "uzi", "make-test-card"]
    paths = [
        *("--softhsm-dir", str(tmp_path / "softhsm"), "--trust", str(tmp_path / "trust")),
        *("--ca-dir", str(tmp_path / "ca"), "--out", str(tmp_path / "out")),
    ]
    env = {**os.environ, "DEBUG": "1", "ZS_VAR_DIR": str(tmp_path / "var")}
    process = subprocess.Popen(
        [*command, *paths, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return (*process.communicate(timeout=60), process.returncode) if wait else process


def test_card_key_never_leaves_the_token(softhsm):
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.exceptions import AttributeSensitive

    card = softhsm.make_card(name="Els Smit", role="03.000")
    assert card.created and card.identity.profession == "Verloskundige"
    token = softhsm.activate().get_token(token_label=card.token_label)
    with token.open(user_pin=card.pin) as session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY)
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.SENSITIVE] is True
        with pytest.raises(AttributeSensitive):
            key[Attribute.PRIVATE_EXPONENT]
        stored = session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
        labels = sorted(item[Attribute.LABEL] for item in stored)
    assert len(labels) == 4  # the card's certificate and the three CA certificates
    identity, _ = uzi.verify_presentation(
        [card.certificate], at=datetime.now(UTC), trust=softhsm.ca.trust
    )
    assert identity == card.identity


def test_same_token_is_reused(softhsm):
    first = softhsm.make_card(label="reused card", uzi_number="900200001")
    again = softhsm.make_card(label="reused card", uzi_number="900200001")
    assert (first.created, again.created) == (True, False)
    assert again.certificate == first.certificate


def test_command_makes_card_trust_dir_and_is_idempotent(softhsm, tmp_path):
    missing = run(tmp_path, "--module", str(tmp_path / "no-libsofthsm2.so"), wait=False)
    label = ("--token-label", "command card", "--ura", "90000002", "--uzi-number", "900000077")
    out, err, code = run(tmp_path, *label)
    assert code == 0, err
    assert "Test UZI card made." in out
    assert "'command card'" in out and "PIN 123456" in out
    assert f"export SOFTHSM2_CONF={tmp_path / 'softhsm' / 'softhsm2.conf'}" in out

    certificate = (tmp_path / "out" / "authentication.pem").read_bytes()
    trust = uzi.TrustStore.from_dir(tmp_path / "trust")
    identity, _ = uzi.verify_presentation([certificate], at=datetime.now(UTC), trust=trust)
    assert (identity.uzi_number, identity.ura, identity.pas_type) == ("900000077", "90000002", "Z")
    assert all("PRIVATE KEY" not in p.read_text() for p in (tmp_path / "trust").iterdir())
    for key in (tmp_path / "ca").glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600

    out, err, code = run(tmp_path, *label)
    assert code == 0, err
    assert "reused" in out
    assert (tmp_path / "out" / "authentication.pem").read_bytes() == certificate

    out, err, code = run(tmp_path, *label[:2], "--ura", "90000003")
    assert code == 2 and "already holds the card" in err

    try:  # the key on the command's token, read in this process
        from pkcs11 import Attribute, ObjectClass

        token = SoftHsm(tmp_path / "softhsm").library().get_token(token_label="command card")
        with token.open(user_pin="123456") as session:
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY)
            assert key[Attribute.NEVER_EXTRACTABLE] is True
    finally:
        softhsm.activate()

    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 3
    assert "SoftHSM2 is not installed: apt-get install softhsm2" in err
    assert "Traceback" not in err


def test_command_refuses_outside_development(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1") as caught:
        call_command("uzi", "make-test-card")
    assert caught.value.returncode == 2
