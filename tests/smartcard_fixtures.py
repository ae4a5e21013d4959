"""The portal's smartcard CA and a care provider with its people, for any test folder:

# in that folder's conftest.py
from uzi.softhsm_fixtures import softhsm, uzi_test_ca  # noqa: F401
from smartcard_fixtures import _portal_ca_files, care, portal_ca  # noqa: F401
"""

import pytest

from zorgsleutel.smartcards import ca as smartcard_ca

PIN = "246810"


_state: dict[str, dict] = {}


@pytest.fixture(scope="session")
def _portal_ca_files(softhsm, tmp_path_factory):
    """One smartcard CA token for the session's portal (made once, however many folders import
    this fixture: the state lives in this module)."""
    if "files" not in _state:
        directory = tmp_path_factory.mktemp("portal-ca")
        label = "portal smartcard CA"
        token = softhsm.softhsm.init_token(label, pin=PIN, so_pin="13579")
        opened = smartcard_ca.init_development(
            token, pin=PIN, directory=directory, base_url="http://testserver"
        )
        certificates = dict(opened.certificates)
        opened.close()
        _state["files"] = {"directory": directory, "label": label, "certificates": certificates}
    return _state["files"]


@pytest.fixture
def portal_ca(settings, softhsm, _portal_ca_files):
    """The portal's smartcard CA (settings.SMARTCARD_CA_*) on the session's SoftHSM2 folder:
    `portal_ca["certificates"]` are root and issuing."""
    from zorgsleutel.smartcards import runtime

    softhsm.activate()
    settings.SMARTCARD_CA_DIR = _portal_ca_files["directory"]
    settings.SMARTCARD_CA_MODULE = softhsm.module
    settings.SMARTCARD_CA_TOKEN = _portal_ca_files["label"]
    settings.SMARTCARD_CA_PIN = PIN
    runtime.reset()
    yield _portal_ca_files
    runtime.reset()


# --- A care provider with its people, for the portal's smartcard flows ---------------------------


@pytest.fixture
def care(db):
    """Two validated care providers and their people, memberships accepted: `care.org`,
    `care.other`, `care.admin`, `care.manager`, `care.member`, `care.other_admin`,
    `care.shipped(serial, org=None)` (a blank card shipped to org)."""
    from types import SimpleNamespace

    from django.core.cache import cache

    from people import someone
    from zorgsleutel.accounts.models import Membership
    from zorgsleutel.core import clock
    from zorgsleutel.organisations.models import Organisation
    from zorgsleutel.smartcards.models import BlankCard, CardOrder

    cache.clear()  # rate-limit counters outlive each test's data
    org = Organisation.objects.create(name="Zorggroep Kaart", kind="care_provider", ura="90000501")
    other = Organisation.objects.create(
        name="Thuiszorg Ander", kind="care_provider", ura="90000502"
    )
    people = {
        "admin": someone(org, "administrator", email="admin@kaart.nl", name="Anna Admin"),
        "manager": someone(org, "manager", email="beheer@kaart.nl", name="Bert Beheer"),
        "member": someone(org, "member", email="zorg@kaart.nl", name="Carla Zorg"),
        "other_admin": someone(other, "administrator", email="admin@ander.nl", name="Dirk Ander"),
    }
    Membership.objects.update(accepted_at=clock.now())

    def shipped(serial: str, organisation=None):
        organisation = organisation or org
        now = clock.now()
        order = CardOrder.objects.create(
            public_id=f"order-{serial}",
            organisation=organisation,
            quantity=1,
            delivery_address="Kaartstraat 1, Utrecht",
            ordered_at=now,
            state=CardOrder.SHIPPED,
            state_changed_at=now,
        )
        return BlankCard.objects.create(serial=serial, order=order, organisation=organisation)

    return SimpleNamespace(org=org, other=other, shipped=shipped, **people)
