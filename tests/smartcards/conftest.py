import itertools

import pytest

from smartcard_fixtures import _portal_ca_files, care, portal_ca  # noqa: F401
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
