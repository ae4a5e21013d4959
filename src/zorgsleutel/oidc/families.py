"""Token families (docs/oidc.md, "Refresh tokens"): a sign-in (models.SignIn) and every token
descended from its code. One function ends a family, whoever ends it: a refresh token presented
a second time (validator.py), a code exchanged a second time, a person no longer allowed at
refresh, the application revoking one of its tokens, and a Zorgsleutel session that ends
(back-channel logout). The caller audits why; this module only revokes.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from oauth2_provider.models import (
    get_access_token_model,
    get_id_token_model,
    get_refresh_token_model,
)

from zorgsleutel.core import clock
from zorgsleutel.oidc.models import SignIn

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
IDToken = get_id_token_model()


def lock(sign_in: SignIn) -> SignIn:
    """The sign-in again, its row locked for this transaction: a refresh holds this lock while it
    mints the next pair, so a revocation waits for it and then revokes that pair too (and a
    refresh that waited for a revocation finds the family revoked)."""
    return SignIn.objects.select_for_update().get(pk=sign_in.pk)


def revoke_family(sign_in: SignIn) -> int:
    """Revoke every token of this sign-in, for good: its live refresh token marked revoked, its
    access tokens and their ID tokens deleted, the sign-in marked revoked (no refresh of it is
    answered again, and its code's second use finds nothing left to revoke). Returns how many
    tokens were live (access and refresh tokens), 0 when the family was revoked already.

    Call it inside the transaction that audits why (it locks the sign-in's row first: the same
    order as a refresh, which locks the sign-in and then its refresh token; alone, it is a
    transaction of its own)."""
    with transaction.atomic():  # a savepoint inside the caller's transaction
        given, sign_in = sign_in, lock(sign_in)
        now = clock.now()
        refresh_tokens = RefreshToken.objects.none()
        if sign_in.token_family is not None:
            refresh_tokens = RefreshToken.objects.filter(token_family=sign_in.token_family)
        access_tokens = AccessToken.objects.filter(
            Q(pk__in=refresh_tokens.exclude(access_token=None).values("access_token_id"))
            | Q(pk=sign_in.access_token_id)
        )
        id_tokens = list(access_tokens.exclude(id_token=None).values_list("id_token_id", flat=True))
        live_access = access_tokens.count()
        live_refresh = refresh_tokens.filter(revoked__isnull=True).update(revoked=now, updated=now)
        access_tokens.delete()
        IDToken.objects.filter(pk__in=id_tokens).delete()
        if sign_in.revoked_at is None:
            SignIn.objects.filter(pk=sign_in.pk).update(revoked_at=now, access_token=None)
            given.revoked_at, given.access_token = now, None
        return live_access + live_refresh
