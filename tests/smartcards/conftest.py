import itertools

import pytest

from card_orders import shop  # noqa: F401 (blank-card orders: tests/card_orders.py)
from uzi.softhsm_fixtures import softhsm, uzi_test_ca, uzi_trust_settings  # noqa: F401
from zorgsleutel.smartcards import ca as smartcard_ca

PIN = "246810"
labels = itertools.count(1)


@pytest.fixture
def ca(softhsm, tmp_path):  # noqa: F811 (the fixture above)
    """A smartcard CA on a new SoftHSM2 token, its PEM files under tmp_path/ca."""
    token = softhsm.softhsm.init_token(f"smartcard CA {next(labels)}", pin=PIN, so_pin="13579")
    opened = smartcard_ca.init_development(
        token, pin=PIN, directory=tmp_path / "ca", base_url="https://portal.test/"
    )
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def _portal_ca_files(softhsm, tmp_path_factory):  # noqa: F811
    """One smartcard CA token for the session's portal (made once: a CA is a few keys)."""
    directory = tmp_path_factory.mktemp("portal-ca")
    label = "portal smartcard CA"
    token = softhsm.softhsm.init_token(label, pin=PIN, so_pin="13579")
    opened = smartcard_ca.init_development(
        token, pin=PIN, directory=directory, base_url="http://testserver"
    )
    certificates = dict(opened.certificates)
    opened.close()
    return {"directory": directory, "label": label, "certificates": certificates}


@pytest.fixture
def portal_ca(settings, softhsm, _portal_ca_files):  # noqa: F811
    """The portal's smartcard CA (settings.SMARTCARD_CA_*) on the session's SoftHSM2 folder:
    `portal_ca["certificates"]` are root, issuing and ocsp."""
    from zorgsleutel.smartcards import runtime

    softhsm.activate()
    settings.SMARTCARD_CA_DIR = _portal_ca_files["directory"]
    settings.SMARTCARD_CA_MODULE = softhsm.module
    settings.SMARTCARD_CA_TOKEN = _portal_ca_files["label"]
    settings.SMARTCARD_CA_PIN = PIN
    runtime.reset()
    yield _portal_ca_files
    runtime.reset()
