"""Test UZI cards on SoftHSM2 and a development CA, for any test folder.

    # in that folder's conftest.py
    from uzi.softhsm_fixtures import softhsm, uzi_test_ca, uzi_trust_settings  # noqa: F401

    def test_card(softhsm):
        card = softhsm.make_card(ura="90000001")       # a fresh token: key made on it
        card.token_label, card.pin, card.certificate, card.identity, softhsm.module

`uzi_test_ca` is a development hierarchy with its trust dir; `uzi_trust_settings` points
settings.UZI_TRUST_DIR at it for one test. A missing SoftHSM2 skips, and fails under ZS_STRICT=1.

SoftHSM2 reads SOFTHSM2_CONF when the PKCS#11 library initialises, and python-pkcs11 keeps one
library per process: the session shares one token folder, made once however many conftests
import these fixtures (the state lives in this module). `softhsm.activate()` points the process's
library back at it after a test used another folder.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import require

PIN = "123456"
SO_PIN = "12345678"

_state: dict[str, object] = {}


@dataclass
class UziTestCa:
    hierarchy: object  # zorgsleutel.uzi.testca.TestHierarchy
    trust_dir: Path

    @property
    def trust(self):
        from zorgsleutel.uzi import TrustStore

        return TrustStore.from_dir(self.trust_dir)


@dataclass
class SoftHsmCards:
    softhsm: object  # zorgsleutel.uzi.testcard.SoftHsm
    ca: UziTestCa
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def module(self) -> str:
        return self.softhsm.module

    @property
    def conf(self) -> Path:
        return self.softhsm.conf

    def activate(self):
        """The PKCS#11 library, initialised on the session's token folder."""
        return self.softhsm.library()

    def make_card(self, *, label: str | None = None, pin: str = PIN, **options):
        """A new token holding a test card (testcard.make_test_card's options)."""
        from zorgsleutel.uzi.testcard import make_test_card

        number = next(self._numbers)
        options.setdefault("ura", "90000001")
        options.setdefault("uzi_number", f"{900100000 + number}")
        return make_test_card(
            softhsm=self.softhsm,
            hierarchy=self.ca.hierarchy,
            token_label=label or f"test card {number}",
            pin=pin,
            so_pin=SO_PIN,
            **options,
        )


@pytest.fixture(scope="session")
def uzi_test_ca(tmp_path_factory) -> UziTestCa:
    """A development CA hierarchy (root → persoon CA → zorgverlener CA) and its trust dir."""
    if "ca" not in _state:
        from zorgsleutel.uzi.testca import TestHierarchy

        hierarchy = TestHierarchy.generate()
        trust_dir = tmp_path_factory.mktemp("uzi-trust")
        hierarchy.write_trust(trust_dir)
        _state["ca"] = UziTestCa(hierarchy=hierarchy, trust_dir=trust_dir)
    return _state["ca"]


@pytest.fixture(scope="session")
def softhsm(uzi_test_ca, tmp_path_factory) -> SoftHsmCards:
    """SoftHSM2 on a session token folder; `.make_card(...)` puts a test card on a new token."""
    from zorgsleutel.uzi.testcard import SoftHsm

    if "softhsm" not in _state:
        hsm = SoftHsm(tmp_path_factory.mktemp("softhsm"))
        require(hsm.installed, "SoftHSM2")
        hsm.library()
        _state["softhsm"] = SoftHsmCards(softhsm=hsm, ca=uzi_test_ca)
    return _state["softhsm"]


@pytest.fixture
def uzi_trust_settings(settings, uzi_test_ca) -> UziTestCa:
    """settings.UZI_TRUST_DIR = the development hierarchy's trust dir, for one test."""
    settings.UZI_TRUST_DIR = uzi_test_ca.trust_dir
    return uzi_test_ca
