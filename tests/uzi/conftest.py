from pathlib import Path

import pytest

from uzi.softhsm_fixtures import softhsm, uzi_test_ca, uzi_trust_settings  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def real_card() -> dict[str, bytes]:
    """The expired TEST UZI card's certificates (CIBG TEST environment, public)."""
    folder = FIXTURES / "uzi-test-card"
    return {path.stem: path.read_bytes() for path in folder.glob("*.cer")}


@pytest.fixture(scope="session")
def real_trust():
    from zorgsleutel.uzi import TrustStore

    return TrustStore.from_dir(FIXTURES / "uzi-test-trust")
