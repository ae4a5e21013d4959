"""The portal opens its smartcard CA from the settings, and says so when it cannot."""

import pytest

from zorgsleutel.core.errors import ServiceUnavailable
from zorgsleutel.smartcards import runtime


def test_the_portal_opens_the_ca_its_settings_name(portal_ca):
    subject = runtime.with_ca(lambda opened: opened.certificates["issuing"].subject)
    assert subject.rfc4514_string() == "CN=Zorgsleutel Smartcard CA,O=Zorgsleutel,C=NL"
    assert runtime.available() is True


def test_a_new_token_beside_it_does_not_break_the_open_session(portal_ca, softhsm):
    runtime.with_ca(lambda opened: None)
    softhsm.make_card()  # SoftHSM2 re-reads its tokens: the CA's session is dropped
    subject = runtime.with_ca(lambda opened: opened.certificates["root"].subject)
    assert subject.rfc4514_string() == "CN=Zorgsleutel Smartcard Root CA,O=Zorgsleutel,C=NL"


@pytest.mark.parametrize(
    "setting, value",
    [("SMARTCARD_CA_PIN", ""), ("SMARTCARD_CA_PIN", "999999"), ("SMARTCARD_CA_TOKEN", "no such")],
)
def test_without_its_token_the_portal_says_smartcards_are_unavailable(
    portal_ca, settings, setting, value
):
    setattr(settings, setting, value)
    runtime.reset()
    with pytest.raises(ServiceUnavailable) as refused:
        runtime.with_ca(lambda opened: None)
    assert refused.value.code == "smartcards_unavailable"
    assert runtime.available() is False
