"""`zorgsleutel purge` and single sign-on: codes never exchanged and tokens go an hour after
they expire (as the challenges do), sign-ins and their refresh tokens after
policies.OIDC_SIGN_IN_KEPT (12 hours), which a family never outlives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from sso import authorize_url, code_for, exchange, log_in
from zorgsleutel import policies
from zorgsleutel.core import clock
from zorgsleutel.oidc.models import SignIn
from zorgsleutel.purge import purge_sso_codes, purge_sso_tokens

pytestmark = pytest.mark.django_db


def test_codes_tokens_and_sign_ins_go_when_nobody_can_use_them(client, app, mira):
    at = clock.now()
    log_in(client, mira)
    with clock.frozen(at):
        code, asked = code_for(client, app)
        exchange(client, app, code, asked.verifier)  # a sign-in, an access and an ID token
        client.get(authorize_url(app.client_id).url)  # a code never exchanged
    assert (Grant.objects.count(), SignIn.objects.count()) == (1, 2)
    assert (AccessToken.objects.count(), IDToken.objects.count()) == (1, 1)
    assert RefreshToken.objects.count() == 1

    with clock.frozen(at + timedelta(minutes=60)):  # the code expired 59 minutes ago
        assert (purge_sso_codes(), purge_sso_tokens()) == (0, 0)
    with clock.frozen(at + timedelta(minutes=62)):  # the code an hour, the tokens not yet
        assert (purge_sso_codes(), purge_sso_tokens()) == (1, 0)
    with clock.frozen(at + timedelta(minutes=71)):  # the tokens (10 minutes) an hour past
        assert purge_sso_tokens() == 2  # the ID token, and the access token with it
    with clock.frozen(at + timedelta(hours=11, minutes=59)):
        assert purge_sso_codes() == 0
    with clock.frozen(at + timedelta(hours=12, minutes=1)):
        assert purge_sso_codes() == 2  # both sign-ins (and the refresh token, uncounted)
    assert SignIn.objects.count() == Grant.objects.count() == AccessToken.objects.count() == 0
    assert RefreshToken.objects.count() == 0


def test_a_family_never_outlives_its_sign_in():
    """A refresh token's family is found through its sign-in (reuse detection, revocation):
    the sign-in is kept at least as long as the family may live."""
    assert policies.OIDC_REFRESH_FAMILY_TTL <= policies.OIDC_SIGN_IN_KEPT
