"""Delete rows nobody can use any more: `zorgsleutel purge`, run by `zorgsleutel run` every
policies.PURGE_INTERVAL (production: from cron, docs/deployment.md).

Every anonymous visit to the QR login page stores a session and a challenge row; card pages store
card challenges; mail links stay after use. Without this job they pile up for ever. What goes:

- sessions past their expiry date (Django's SessionStore.clear_expired(), the public API of
  `clearsessions`), whatever the engine;
- QR login challenges, card challenges and app enrolment codes (and the challenge each one's
  page waits on), policies.PURGE_CHALLENGES_AFTER past their expiry (an approved QR login not
  collected by then is dead anyway);
- mail links that can no longer be used (expired, used or revoked), after
  policies.PURGE_LINK_TOKENS_AFTER; an open link, also one a campaign sends later, is kept;
- single sign-on's authorization codes (and their sign-ins with their refresh tokens:
  policies.OIDC_SIGN_IN_KEPT after they were issued, when no refresh can use them any more:
  policies.OIDC_REFRESH_FAMILY_TTL) and its access and ID tokens, policies.PURGE_CHALLENGES_AFTER
  past their expiry (an expired code or token answers nothing anyway), and the used client
  assertions' jtis once those expired (policies.OIDC_CLIENT_ASSERTION_MAX_AHEAD at most);
- back-channel logout deliveries that are done (sent, or failed after their last attempt),
  policies.OIDC_LOGOUT_DELIVERIES_KEPT after they were written; a pending or sending one is
  kept, whatever its age (`zorgsleutel oidc requeue-logouts` picks up a stranded one);
- expired entries of the database cache (rate-limit counters, QR approval flags), which Django
  culls only once MAX_ENTRIES is reached.

This module sits beside urls.py and api.py: wiring that knows every capability's transient table,
so no capability has to know the others. Nothing here is audited: these rows are not facts about
people (the audit log keeps the logins and links themselves), and a deletion changes nothing
anyone can still do. Each step is one DELETE; rows written meanwhile are never touched.
"""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from zorgsleutel import policies
from zorgsleutel.accounts.models import LinkToken
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.mobileapp.models import AppEnrolment
from zorgsleutel.oidc.models import LogoutDelivery, SignIn

logger = logging.getLogger("zorgsleutel.purge")

DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


def purge_expired() -> dict[str, int]:
    """Run every step; the number of rows each removed, by name."""
    sessions = purge_sessions()
    enrolments = purge_app_enrolments()  # before the challenges: each refers to its own
    removed = {
        "sessions": sessions,
        "challenges": purge_challenges(),
        "app_enrolments": enrolments,
        "link_tokens": purge_link_tokens(),
        "sso_codes": purge_sso_codes(),
        "sso_tokens": purge_sso_tokens() + purge_sso_assertions(),
        "sso_logout_deliveries": purge_logout_deliveries(),
        "cache_entries": purge_cache_entries(),
    }
    logger.info("purged %s", ", ".join(f"{name} {count}" for name, count in removed.items()))
    return removed


def purge_sessions() -> int:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    expired = store.get_model_class().objects.filter(expire_date__lt=timezone.now()).count()
    store.clear_expired()
    return expired


def _challenge_cutoff():
    return clock.now() - policies.PURGE_CHALLENGES_AFTER


def purge_challenges() -> int:
    """QR login, app enrolment and card challenges (authn's cross-device challenges)."""
    return Challenge.objects.filter(expires_at__lt=_challenge_cutoff()).delete()[0]


def purge_app_enrolments() -> int:
    return AppEnrolment.objects.filter(expires_at__lt=_challenge_cutoff()).delete()[0]


def purge_link_tokens() -> int:
    cutoff = clock.now() - policies.PURGE_LINK_TOKENS_AFTER
    dead = Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    return LinkToken.objects.filter(dead).delete()[0]


def purge_sso_codes() -> int:
    """Authorization codes never exchanged (an exchanged one is deleted at once), and the
    sign-ins kept to detect a code's (or a refresh token's) second use and to find a session's
    applications, with their families' refresh tokens."""
    from oauth2_provider.models import get_grant_model, get_refresh_token_model

    grants = get_grant_model().objects.filter(expires__lt=_challenge_cutoff()).delete()[0]
    kept = clock.now() - policies.OIDC_SIGN_IN_KEPT
    old = SignIn.objects.filter(created_at__lt=kept)
    families = old.exclude(token_family=None).values("token_family")
    get_refresh_token_model().objects.filter(token_family__in=families).delete()
    return grants + old.delete()[0]


def purge_sso_tokens() -> int:
    """Access tokens and ID tokens past their expiry (an ID token takes its access token)."""
    from oauth2_provider.models import get_access_token_model, get_id_token_model

    cutoff = _challenge_cutoff()
    id_tokens = get_id_token_model().objects.filter(expires__lt=cutoff).delete()[0]
    return id_tokens + get_access_token_model().objects.filter(expires__lt=cutoff).delete()[0]


def purge_logout_deliveries() -> int:
    """Back-channel logouts sent or given up, policies.OIDC_LOGOUT_DELIVERIES_KEPT after they
    were written (the outbox's index: status, created_at)."""
    cutoff = clock.now() - policies.OIDC_LOGOUT_DELIVERIES_KEPT
    done = (LogoutDelivery.SENT, LogoutDelivery.FAILED)
    return LogoutDelivery.objects.filter(status__in=done, created_at__lt=cutoff).delete()[0]


def purge_sso_assertions() -> int:
    """The jtis of used client assertions (oidc/assertions.py) past their `exp`: such an
    assertion is refused as expired anyway. Counted with the tokens."""
    from zorgsleutel.oidc.models import UsedAssertion

    return UsedAssertion.objects.filter(expires_at__lt=clock.now()).delete()[0]


def purge_cache_entries() -> int:
    """Expired rows of the database cache, if that is the cache (Redis expires its own keys)."""
    if settings.CACHES["default"]["BACKEND"] != DATABASE_CACHE:
        return 0
    connection = connections[router.db_for_write(caches["default"].cache_model_class)]
    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    expires = connection.ops.quote_name("expires")
    with connection.cursor() as cursor:
        # The statement DatabaseCache itself culls with (`_cull`), without waiting for
        # MAX_ENTRIES.
        cursor.execute(
            f"DELETE FROM {table} WHERE {expires} < %s",  # noqa: S608 (quoted names, no input)
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.rowcount
