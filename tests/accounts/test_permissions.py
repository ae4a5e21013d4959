"""The permission matrix: each role × each Beheer action × own or other organisation.

Allowed exactly where policies.PERMISSIONS says; everywhere else refused, audited, and nothing
changes. Nobody, whatever the role, has a way to set or see a password or phone number.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ROLES = ["administrator", "manager", "member"]

# The matrix of every Beheer action is tests/organisations/test_permission_matrix.py.


@pytest.mark.parametrize("role", ROLES)
def test_the_members_page_follows_the_matrix(
    client, organisation, other_organisation, person, role, login_as
):
    actor = person(organisation, role)
    login_as(client, actor)
    own = client.get(f"/beheer/{organisation.public_id}")
    other = client.get(f"/beheer/{other_organisation.public_id}")
    assert own.status_code == {"administrator": 200, "manager": 200, "member": 403}[role]
    assert other.status_code == 403


def test_no_page_shows_or_sets_a_password_or_phone(client, organisation, person, login_as):
    admin = person(organisation, "administrator")
    target = person(organisation, "member", email="doelwit@zorggroep.nl")
    target.phone_enrolment = "enr_secret_reference"
    target.save()
    login_as(client, admin)
    page = client.get(f"/beheer/{organisation.public_id}").content.decode()
    assert "doelwit@zorggroep.nl" in page
    assert target.password not in page and "enr_secret_reference" not in page
    assert 'type="password"' not in page and "telefoon" not in page.lower()
    new = client.get(f"/beheer/{organisation.public_id}/nieuwe-gebruiker").content.decode()
    assert 'name="password"' not in new and 'name="phone"' not in new
    # No URL accepts a password or phone for someone else: the only forms that do are the
    # person's own activation and reset links.
    from django.urls import get_resolver

    names = {p.name for p in get_resolver("zorgsleutel.accounts.urls").url_patterns}
    assert not any("password" in (n or "") and "forgot" not in (n or "") for n in names)


@pytest.mark.parametrize("command", ["changepassword", "createsuperuser"])
def test_no_command_sets_someone_elses_password(command, organisation, person):
    from django.core.management import CommandError, call_command

    target = person(organisation, "member", email="doel@zorggroep.nl")
    before = target.password
    with pytest.raises(CommandError, match="Not available"):
        call_command(command, "doel@zorggroep.nl")
    target.refresh_from_db()
    assert target.password == before


def test_the_role_page_says_the_role_given(client, organisation, person, login_as):
    """Beheer's "Rol wijzigen" said the role the person had before (the review of a fresh clone:
    "Mila Medewerker heeft nu de rol medewerker" after appointing her beheerder)."""
    from zorgsleutel.people.models import Membership

    admin = person(organisation, "administrator")
    mila = person(organisation, "member", email="mila@zorggroep.nl", name="Mila Medewerker")
    membership = Membership.objects.get(user=mila)
    login_as(client, admin)
    page = client.post(
        f"/beheer/{organisation.public_id}/leden/{membership.pk}/rol",
        {"role": "manager"},
        follow=True,
    ).content.decode()
    assert "Mila Medewerker heeft nu de rol beheerder in Zorggroep Test." in page
    assert Membership.objects.get(pk=membership.pk).role == "manager"
