import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from card_orders import shop  # noqa: F401 (blank-card orders: tests/card_orders.py)
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


TRANSPORT_PIN = "11223344"


@dataclass(frozen=True)
class BlankCard:
    """A blank card on the session's SoftHSM2 folder, as `card init` finds it."""

    label: str
    serial: str
    transport_pin: str
    module: str
    conf: Path


@pytest.fixture
def blank_card(softhsm):  # noqa: F811
    """A new blank card: its transport code both SO PIN and user PIN, nothing on it."""
    from zorgsleutel.smartcards.blankcard import make_blank_card

    label = f"blank card {next(labels)}"
    serial = make_blank_card(softhsm.softhsm, label=label, transport_pin=TRANSPORT_PIN)
    return BlankCard(
        label=label,
        serial=serial,
        transport_pin=TRANSPORT_PIN,
        module=softhsm.module,
        conf=softhsm.conf,
    )
