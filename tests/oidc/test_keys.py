"""The signing keys (oidc/keys.py): sealed at rest, published ahead of use, retired after an
overlap, each step of `zorgsleutel oidc rotate-keys` written out with the policies' numbers."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from sso import claims_of, code_for, exchange, log_in
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc import keys
from zorgsleutel.oidc.models import ProviderSecret, SigningKey

pytestmark = pytest.mark.django_db

DAY0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def rotate(day: float, *extra) -> list[str]:
    out = io.StringIO()
    with clock.frozen(DAY0 + timedelta(days=day)):
        call_command("oidc", "rotate-keys", *extra, stdout=out)
    return out.getvalue().splitlines()


def published() -> list[str]:
    return [key["kid"] for key in keys.key_set()["keys"]]


def signing() -> str:
    return keys.signing_key().kid


def states() -> dict[str, str]:
    return dict(SigningKey.objects.values_list("kid", "state"))


def test_the_schedule_publish_two_days_ahead_sign_90_days_keep_two_days_after(settings):
    made = rotate(0)
    first = signing()
    assert made == [f"made key {first}; it signs from now on"]
    assert published() == [first]
    assert rotate(89.9) == ["nothing to do: the keys are on schedule"]

    (line,) = rotate(90)
    second = next(kid for kid in states() if kid != first)
    assert line == (
        f"published key {second}; it signs from the first run after 2026-04-07T03:00:00+00:00"
    )
    assert (signing(), published()) == (first, [first, second])  # published, not signing yet
    assert rotate(91.9) == ["nothing to do: the keys are on schedule"]
    assert signing() == first

    assert rotate(92) == [f"retired key {first}", f"key {second} signs from now on"]
    assert (signing(), published()) == (second, [second, first])  # the old one still verifies
    assert rotate(93.9) == ["nothing to do: the keys are on schedule"]
    assert rotate(94) == [f"removed key {first}"]
    assert published() == [second]

    events = AuditEvent.objects.filter(action__startswith="sso_key.").order_by("seq")
    assert [(e.action, e.target, e.details) for e in events] == [
        ("sso_key.activated", f"sso_key:{first}", {"kid": first, "first": True}),
        (
            "sso_key.published",
            f"sso_key:{second}",
            {"kid": second, "signs_from": "2026-04-07 03:00:00+00:00"},
        ),
        ("sso_key.retired", f"sso_key:{first}", {"kid": first}),
        ("sso_key.activated", f"sso_key:{second}", {"kid": second, "first": False}),
        ("sso_key.removed", f"sso_key:{first}", {"kid": first}),
    ]


def test_start_publishes_a_successor_now():
    rotate(0)
    (line,) = rotate(10, "--start")
    assert line.startswith("published key ") and line.endswith(
        "it signs from the first run after 2026-01-17T03:00:00+00:00"
    )
    assert rotate(10, "--start") == ["nothing to do: the keys are on schedule"]  # one at a time


def test_tokens_signed_before_a_rotation_still_verify_after_it(client, app, mira):
    rotate(0)
    log_in(client, mira)
    code, asked = code_for(client, app)
    before = exchange(client, app, code, asked.verifier)[1]["id_token"]
    rotate(90)
    rotate(92)
    code, asked = code_for(client, app)
    after = exchange(client, app, code, asked.verifier)[1]["id_token"]

    def kid(token):
        import base64

        header = token.split(".")[0]
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]

    assert kid(before) != kid(after) == signing()
    assert claims_of(before)["sub"] == claims_of(after)["sub"]  # both verify against the JWKS


def test_the_first_token_makes_the_first_key_when_rotate_keys_never_ran(client, app, mira):
    assert SigningKey.objects.count() == 0
    log_in(client, mira)
    code, asked = code_for(client, app)
    assert exchange(client, app, code, asked.verifier)[0] == 200
    assert list(SigningKey.objects.values_list("state", flat=True)) == ["current"]


def test_keys_are_sealed_at_rest(settings):
    rotate(0)
    row = SigningKey.objects.get()
    sealed = bytes(row.sealed_private_key)
    assert b"PRIVATE KEY" not in sealed and len(sealed) > 1000
    assert set(row.public_jwk) == {"kty", "kid", "alg", "use", "n", "e"}  # no private part
    secret = keys.subject_secret()
    assert len(secret) == 32 and secret not in bytes(ProviderSecret.objects.get().sealed)
    # Another SECRET_KEY opens nothing: a copy of the database signs nothing.
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(ValueError, match=f"the sealed {row.kid} opens under no SECRET_KEY"):
        keys.unseal(sealed, label=row.kid)


def test_a_sealed_key_copied_to_another_row_does_not_open():
    rotate(0)
    row = SigningKey.objects.get()
    with pytest.raises(ValueError, match="opens under no SECRET_KEY"):
        keys.unseal(bytes(row.sealed_private_key), label="another-kid")


def test_secret_key_rotation_reseals_with_the_fallback_then_needs_no_fallback(
    client, app, mira, settings
):
    rotate(0)
    sub_before = keys.subject_secret()
    kid = signing()
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "the-new-secret-key-of-this-portal-" + "y" * 30
    settings.SECRET_KEY_FALLBACKS = [old]
    assert rotate(1) == [
        f"sealed key {kid} under the current SECRET_KEY",
        "sealed the subject secret under the current SECRET_KEY",
    ]
    settings.SECRET_KEY_FALLBACKS = []
    keys._private_jwk.cache_clear()
    keys._opened.cache_clear()
    assert keys.subject_secret() == sub_before  # every pairwise sub stays what it was
    log_in(client, mira)
    code, asked = code_for(client, app)
    assert exchange(client, app, code, asked.verifier)[0] == 200
    assert [
        e.action for e in AuditEvent.objects.filter(action__endswith="resealed").order_by("seq")
    ] == [
        "sso_key.resealed",
        "sso_secret.resealed",
    ]
