"""zorgsleutel import-users: good rows in, bad rows reported by line, mails at the cut-over time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import clock
from zorgsleutel.messaging.models import OutboxMail

pytestmark = pytest.mark.django_db


@pytest.fixture
def csv_file(tmp_path):
    legacy = PBKDF2PasswordHasher().encode("Oud-wachtwoord-1", "zout12345678", iterations=100_000)
    path = tmp_path / "users.csv"
    path.write_text(
        "name;email;role;password_hash\n"
        f"Anna Oud;anna@zorggroep.nl;medewerker;{legacy}\n"
        "Bert Oud;bert@gmail.com;medewerker;\n"
        ";leeg@zorggroep.nl;medewerker;\n"
        "Cor Oud;cor@zorggroep.nl;koning;\n"
        "Dirk Oud;dirk@zorggroep.nl;beheerder;\n"
        "Eva Oud;geen-adres;medewerker;\n"
        "Fleur Oud;fleur@zorggroep.nl;medewerker;md5$kapot\n",
        encoding="utf-8",
    )
    return path


def test_good_rows_are_imported_and_bad_rows_reported_by_line(csv_file, organisation, capsys):
    at = (clock.now() + timedelta(days=30)).replace(microsecond=0)
    with pytest.raises(CommandError, match="5 row"):
        call_command(
            "import_users",
            str(csv_file),
            organisation="90000111",
            send_activation_at=at.isoformat(),
        )
    out, err = capsys.readouterr()
    assert "Imported 2, already there 0, refused 5" in out
    assert "line 3:" in err and "gmail.com" in err
    assert "line 4: name is empty" in err and "line 5:" in err and "line 7:" in err
    assert "line 8:" in err
    anna = User.objects.get(email="anna@zorggroep.nl")
    assert anna.state == User.INVITED and anna.password.startswith("pbkdf2_sha256$")
    assert Membership.objects.get(user__email="dirk@zorggroep.nl").role == "manager"
    # Activation mails wait for the cut-over moment; the links are valid 72 h from then.
    assert OutboxMail.objects.count() == 2
    assert {t.run_after.replace(microsecond=0) for t in DBTaskResult.objects.all()} == {at}
    token = LinkToken.objects.get(user=anna)
    assert token.expires_at.replace(microsecond=0) == at + timedelta(hours=72)


def test_re_running_does_not_duplicate_people_or_mails(csv_file, organisation):
    for _ in range(2):
        with pytest.raises(CommandError, match=r"^5 row\(s\) refused; the others were imported\.$"):
            call_command("import_users", str(csv_file), organisation=str(organisation.public_id))
    assert User.objects.filter(email__endswith="@zorggroep.nl").count() == 2
    assert OutboxMail.objects.count() == 2


def test_an_unknown_organisation_or_a_bad_file_is_a_clear_error(tmp_path, organisation):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("import_users", "x.csv", organisation="99999999")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_users", str(tmp_path / "missing.csv"), organisation="90000111")
    bad = tmp_path / "bad.csv"
    bad.write_text("naam,mail\nA,b\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_users", str(bad), organisation="90000111")


def test_createoperator_sends_an_activation_mail(capsys):
    call_command("createoperator", "ops@zorgsleutel.test", name="Otto Operator")
    user = User.objects.get(email="ops@zorgsleutel.test")
    assert user.is_operator and user.state == User.INVITED and not user.has_usable_password()
    assert OutboxMail.objects.get(to="ops@zorgsleutel.test").template == "activation"
    with pytest.raises(CommandError, match="already exists"):
        call_command("createoperator", "ops@zorgsleutel.test")
