"""One wording per limit (authn/limits.py): every limit on the way in is worded once, the vault
words its own in the same sentences, and no other module writes a message of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from zorgsleutel import vaultclient
from zorgsleutel.authn import limits, vaulterrors
from zorgsleutel.core.errors import RateLimited
from zorgsleutel.vault import errors as vault_errors

SRC = Path(__file__).resolve().parents[2] / "src" / "zorgsleutel"


def _refused(code: str, **extra) -> vaultclient.VaultRefused:
    return vaultclient.VaultRefused(429, code, "", extra)


@pytest.mark.parametrize(
    ("code", "retry_after", "dutch"),
    [
        (
            "sms_cap_enrolment",
            3445,
            "Er zijn te veel sms-codes voor uw account verstuurd. Probeer het over 58 "
            "minuten opnieuw.",
        ),
        (
            "sms_cap_number",
            60,
            "Er zijn te veel sms-codes naar dit nummer verstuurd. Probeer het over 1 minuut "
            "opnieuw.",
        ),
        (
            "sms_cap_unconfirmed",
            1801,
            "Er zijn te veel sms-codes naar dit nog niet bevestigde nummer verstuurd. "
            "Probeer het over"
            " 31 minuten opnieuw.",
        ),
        ("resend_too_soon", 1, "Over 1 seconde kan een nieuwe code worden verstuurd."),
        ("resend_too_soon", 23, "Over 23 seconden kan een nieuwe code worden verstuurd."),
    ],
)
def test_a_vault_limit_reads_with_its_wait(code, retry_after, dutch):
    with translation.override("nl"):
        refusal = vaulterrors.translate(_refused(code, retry_after=retry_after))
        assert isinstance(refusal, RateLimited)
        assert (refusal.code, str(refusal.message)) == (code, dutch)
    assert refusal.extra == {"retry_after": retry_after}
    assert refusal.headers() == {"Retry-After": str(retry_after)}


def test_a_vault_that_does_not_say_the_wait_gets_the_longest_it_can_be():
    with translation.override("en"):
        capped = vaulterrors.translate(_refused("sms_cap_number"))
        too_soon = vaulterrors.translate(_refused("resend_too_soon"))
        assert str(capped.message) == (
            "Too many SMS codes were sent to this number. Try again in 60 minutes."
        )
        assert str(too_soon.message) == "A new code can be sent in 30 seconds."
    assert (capped.extra, too_soon.extra) == ({"retry_after": 3600}, {"retry_after": 30})


@pytest.mark.parametrize("code", sorted(vault_errors.LIMITS))
@pytest.mark.parametrize("seconds", [1, 2, 59, 60, 61, 3445])
def test_the_vault_words_its_limits_as_the_portal_does(code, seconds):
    with translation.override("en"):
        portal = str(limits.message(code, seconds))
    assert vault_errors.limited(code, retry_after=seconds).message == portal


def test_code_blocked_has_its_one_wording():
    verdict = vaultclient.Verdict(result="blocked", attempts_left=0, enrolment="enr_x")
    with translation.override("nl"):
        error = vaulterrors.verdict_error(verdict)
        assert (error.code, str(error.message), error.field) == (
            "code_blocked",
            "Te veel onjuiste sms-codes. Vraag een nieuwe sms-code aan.",
            "code",
        )


def test_no_other_module_words_a_limit_of_its_own():
    """The messages of these limits live in limits.py only (the vault, an island, has its
    own copy of the vault's sentences, held equal above)."""
    wording = re.compile(r"Too many|Try again in|can be sent in")
    places = [
        path.relative_to(SRC).as_posix()
        for folder in ("authn", "accounts", "vaultclient")
        for path in (SRC / folder).rglob("*.py")
        if "migrations" not in path.parts and wording.search(path.read_text())
    ]
    assert places == ["authn/limits.py"]
