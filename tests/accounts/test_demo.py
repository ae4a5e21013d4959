"""`zorgsleutel demo`: the demo the README lists, loaded through the real vault, idempotent."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from support import require
from zorgsleutel import demo
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import audit
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.uzi.testcard import SoftHsm

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_dirs(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.UZI_TRUST_DIR = tmp_path / "uzi" / "trust"
    return tmp_path


def test_demo_loads_both_organisations_and_everyone_once(
    vault_service, demo_dirs, capsys, monkeypatch
):
    """Everything but the UZI card, which needs SoftHSM2: here it is made absent."""
    monkeypatch.setenv("ZS_PKCS11_MODULE", str(demo_dirs / "no-libsofthsm2.so"))
    call_command("demo")
    first = capsys.readouterr().out
    assert "2 organisation(s), 10 person(s), 10 phone(s), 3 app(s) added" in first
    assert "Huisartsenpraktijk Demo: approved" in first
    assert (
        "No demo UZI card: SoftHSM2 is not installed: apt-get install softhsm2. The rest of the "
        "demo works" in first
    )
    call_command("demo")
    again = capsys.readouterr().out
    assert "0 organisation(s), 0 person(s), 0 phone(s), 0 app(s) added" in again
    assert "approved" not in again

    demozorg = Organisation.objects.get(ura="90000001")
    assert (demozorg.name, demozorg.kind, demozorg.state) == (
        "Demozorg",
        "care_provider",
        "validated",
    )
    business = Organisation.objects.get(name="Demobedrijf BV")
    assert business.kind == "business"
    roles = dict(Membership.objects.values_list("user__email", "role"))
    assert roles["admin@demozorg.nl"] == "administrator"
    assert roles["beheerder@demozorg.nl"] == roles["beheerder@demobedrijf.nl"] == "manager"
    assert roles["gebruiker3@demobedrijf.nl"] == "member"
    operator = User.objects.get(email="operator@zorgsleutel.test")
    assert operator.is_operator and not operator.memberships.exists()
    for user in User.objects.all():
        assert user.state == User.ACTIVE and user.check_password(demo.PASSWORD)
        assert vault_service.hint(enrolment=user.phone_enrolment).startswith("06 •• •• ••")
    # Seed 003's demo applicant: applied and approved, so the mails hold the validation link.
    # The demo's apps were "linked before": no link notices
    # (mobileapp.enrolment.complete_enrolment).
    assert sorted(OutboxMail.objects.values_list("to", "template")) == [
        ("aanvrager@demopraktijk.nl", "application_approved"),
        ("aanvrager@demopraktijk.nl", "application_received"),
    ]
    # The operator, and Demozorg's administrator and manager, have an app with PIN 123456.
    from zorgsleutel.demo.load import state_file
    from zorgsleutel.mobileapp.models import AppDevice

    for email in ("operator@zorgsleutel.test", "admin@demozorg.nl", "beheerder@demozorg.nl"):
        path = state_file(email)
        assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
        assert AppDevice.objects.filter(user__email=email, state="active").count() == 1
    assert not state_file("beheerder@demobedrijf.nl").exists()
    assert audit.verify_chain().ok


def test_demo_makes_the_applicants_uzi_card_once(vault_service, demo_dirs, capsys, monkeypatch):
    monkeypatch.delenv("ZS_PKCS11_MODULE", raising=False)  # the default module, SoftHSM2's
    require(SoftHsm(demo_dirs / "softhsm").installed, "SoftHSM2")
    call_command("demo")
    assert "Test UZI card made" in capsys.readouterr().out
    assert (demo_dirs / "uzi" / "trust").is_dir()
    call_command("demo")
    assert "Test UZI card reused (already on the token)" in capsys.readouterr().out


def test_demo_is_refused_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo")
    assert not User.objects.exists()


def test_banner_lists_every_demo_login():
    text = "\n".join(demo.banner())
    assert demo.PASSWORD in text
    for _org, person in demo.everyone():
        assert person.email in text


def test_the_banners_card_commands_name_the_portal_they_run_beside():
    commands = [line for line in demo.banner("http://127.0.0.1:8100") if "zorgsleutel card" in line]
    assert [line.split("--server ")[1] for line in commands] == [
        "http://127.0.0.1:8100 --code CODE",
        "http://127.0.0.1:8100 --code CODE",
        "http://127.0.0.1:8100 --code CODE",
    ]


def test_every_command_the_banner_shows_is_complete():
    """A newcomer copies these lines as they are: every command with its path, its card or
    state, its PIN and the portal it talks to (the app's is in its QR code)."""
    lines = demo.banner("http://127.0.0.1:8100")
    commands = [line.strip() for line in lines if ".venv/bin/zorgsleutel" in line]
    assert commands == [
        ".venv/bin/zorgsleutel app login QR --state var/demo/admin@demozorg.nl.json --pin 123456",
        '.venv/bin/zorgsleutel card present --token "Demo UZI-pas" --pin 123456 '
        "--server http://127.0.0.1:8100 --code CODE",
        ".venv/bin/zorgsleutel app enrol QR --state var/demo/jan.json --pin 123456",
        ".venv/bin/zorgsleutel app login QR --state var/demo/jan.json --pin 123456",
        '.venv/bin/zorgsleutel card init --token "Demo smartcard" --transport-pin 12345678 '
        "--pin 24682468 --server http://127.0.0.1:8100 --code CODE",
        '.venv/bin/zorgsleutel card present --token "Demo smartcard" --pin 24682468 '
        "--server http://127.0.0.1:8100 --code CODE",
    ]
    exports = [line.strip() for line in lines if line.strip().startswith("export ")]
    assert exports == ["export SOFTHSM2_CONF=var/softhsm/softhsm2.conf"] * 2
