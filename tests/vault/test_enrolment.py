"""Enrolling a number: validation, encryption at rest, masked hints only, erasure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connection

from zorgsleutel.vault import crypto
from zorgsleutel.vault.models import Challenge, Enrolment, SmsSend

NUMBER = "+31612345678"


def _database_text() -> bytes:
    """Everything the vault database holds, as bytes: the file(s) for SQLite, a dump for PG."""
    if connection.vendor == "sqlite":
        connection.close()  # flush the WAL into the file
        name = Path(settings.DATABASES["default"]["NAME"])
        return b"".join(p.read_bytes() for p in name.parent.glob(name.name + "*"))
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (table names from introspection)
            chunks += [row[0].encode() for row in cursor.fetchall()]
    return b"\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_a_stored_number_is_not_in_the_database_in_clear_text(vault, last_code):
    sent = vault.post("/v1/enrolments", {"phone": "06-12345678", "locale": "nl"}).json()
    vault.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": last_code()})
    dump = _database_text()
    assert len(dump) > 1000
    for form in (b"+31612345678", b"0612345678", b"612345678", b"06-12345678", b"0031612345678"):
        assert form not in dump
    enrolment = Enrolment.objects.get()
    assert enrolment.status == Enrolment.CONFIRMED
    number = crypto.decrypt_number(
        enrolment.number_ciphertext, enrolment_id=enrolment.id, version=enrolment.key_version
    )
    assert number == NUMBER


def test_answers_hold_only_opaque_ids_and_a_masked_hint(vault):
    response = vault.post("/v1/enrolments", {"phone": "+31 6 1234 5678"})
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"enrolment", "challenge", "hint", "expires_at", "resend_after"}
    assert data["hint"] == "06 •• •• •• 78"
    assert data["enrolment"].startswith("enr_") and data["challenge"].startswith("chl_")
    text = response.content.decode()
    assert "12345678" not in text and "345678" not in text
    hint = vault.get(f"/v1/enrolments/{data['enrolment']}").json()
    assert hint == {"enrolment": data["enrolment"], "hint": "06 •• •• •• 78", "status": "pending"}


def test_ciphertext_is_bound_to_its_enrolment(vault):
    first = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    second = vault.post("/v1/enrolments", {"phone": "0687654321"}).json()
    one = Enrolment.objects.get(pk=first["enrolment"])
    with pytest.raises(InvalidTag):
        crypto.decrypt_number(one.number_ciphertext, enrolment_id=second["enrolment"], version="1")


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("0201234567", "phone_not_mobile"),  # Amsterdam landline
        ("+32470123456", "phone_country_not_allowed"),  # Belgian mobile
        ("06123", "invalid_phone"),
        ("not a number", "invalid_phone"),
        ("+31 6 1234 56789", "invalid_phone"),
    ],
)
def test_only_mobile_numbers_of_allowed_countries(vault, phone, code):
    response = vault.post("/v1/enrolments", {"phone": phone})
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert not Enrolment.objects.exists()


def test_allowed_countries_are_configurable(vault, settings):
    settings.VAULT_ALLOWED_COUNTRIES = ["NL", "BE"]
    response = vault.post("/v1/enrolments", {"phone": "+32470123456"})
    assert response.status_code == 201
    assert response.json()["hint"] == "+32 •• •• •• 56"


def test_erase_forgets_the_number_and_its_challenges(vault):
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    response = vault.delete(f"/v1/enrolments/{sent['enrolment']}")
    assert response.status_code == 200 and response.json()["erased"] is True
    assert not Enrolment.objects.exists() and not Challenge.objects.exists()
    assert vault.get(f"/v1/enrolments/{sent['enrolment']}").status_code == 404
    verify = vault.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": "123456"})
    assert verify.status_code == 404
    # Caps history survives erasure, by keyed hash only.
    assert SmsSend.objects.get().number_index == crypto.number_index(NUMBER)


def test_clients_cannot_touch_each_others_enrolments(vault, make_client, settings):
    settings.VAULT_CLIENT_KEYS = {**settings.VAULT_CLIENT_KEYS, "other": b"o" * 32}
    other = make_client("other", b"o" * 32)
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    assert other.get(f"/v1/enrolments/{sent['enrolment']}").status_code == 404
    assert other.delete(f"/v1/enrolments/{sent['enrolment']}").status_code == 404
    assert other.post(f"/v1/enrolments/{sent['enrolment']}/challenge", {}).status_code == 404
    assert (
        other.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": "123456"}).status_code
        == 404
    )
    assert Enrolment.objects.filter(pk=sent["enrolment"]).exists()


def test_rotate_keys_reencrypts_under_the_new_key(vault, settings):
    from django.core.management import call_command

    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    new_key = b"k" * 32
    settings.VAULT_ENCRYPTION_KEYS = {"2": new_key, **settings.VAULT_ENCRYPTION_KEYS}
    settings.VAULT_CURRENT_KEY_VERSION = "2"
    call_command("rotate_keys")
    enrolment = Enrolment.objects.get(pk=sent["enrolment"])
    assert enrolment.key_version == "2"
    settings.VAULT_ENCRYPTION_KEYS = {"2": new_key}  # the old key can now be retired
    assert (
        crypto.decrypt_number(enrolment.number_ciphertext, enrolment_id=enrolment.id, version="2")
        == NUMBER
    )


def test_the_vault_refuses_to_start_without_keys_when_debug_is_off(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "ZS_VAR_DIR": str(tmp_path)}
    script = (
        "import django, os; "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.vault.settings'; django.setup()"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "VAULT_CLIENT_KEYS" in result.stderr and "VAULT_ENCRYPTION_KEYS" in result.stderr
