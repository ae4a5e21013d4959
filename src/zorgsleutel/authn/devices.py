"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

A browser that completed a login (password and SMS code) for an account gets a device cookie for
that account: an entry `[account id, random nonce, issue time]` signed with Django's signing
(HMAC-SHA256 under SECRET_KEY), so nobody can make one for an account, and one for
another account is worth nothing here. Password attempts that carry a valid entry for the
account are throttled on that device's own counter only (throttle.py); an attacker's failures
from elsewhere never slow the real user's browser down.

One cookie holds entries for up to policies.DEVICE_COOKIE_MAX_ACCOUNTS accounts (a shared
workstation); an entry expires after policies.DEVICE_COOKIE_TTL, and each login issues a fresh
nonce for its account. Nonces are not kept on the server: a copied cookie stays trusted until
its entry expires, and gets its own device counter (the same 5 free attempts, then growing
delays) — a stolen cookie buys an attacker one more throttled bucket, never a login. The cookie
is HttpOnly, SameSite=Lax and Secure on HTTPS, and is never a credential: it only decides which
throttle counts an attempt.
"""

from __future__ import annotations

import secrets

from django.core import signing

from zorgsleutel import policies
from zorgsleutel.core import clock

COOKIE_NAME = "zs_device"
_SALT = (
    "zorgsleutel.accounts.devices"  # unchanged since the module moved: issued cookies stay valid
)
_SEPARATOR = "|"  # not in signing's output (URL-safe base64 and ":")


def _entries(cookie: str | None) -> list[tuple[int, str, str]]:
    """The valid entries of a cookie: (account id, nonce, signed entry)."""
    found = []
    oldest = clock.now().timestamp() - policies.DEVICE_COOKIE_TTL.total_seconds()
    for signed in (cookie or "").split(_SEPARATOR)[: policies.DEVICE_COOKIE_MAX_ACCOUNTS]:
        try:
            account, nonce, issued = signing.loads(signed, salt=_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            continue  # forged or garbled: as if there were none
        if isinstance(account, int) and isinstance(nonce, str) and issued >= oldest:
            found.append((account, nonce, signed))
    return found


def trusted_nonce(cookie: str | None, account_id: int | None) -> str | None:
    """The nonce of the cookie's valid entry for this account, or None (an untrusted client)."""
    if account_id is None:
        return None
    for account, nonce, _signed in _entries(cookie):
        if account == account_id:
            return nonce
    return None


def issue(cookie: str | None, account_id: int) -> str:
    """The cookie's new value after a login of `account_id`: a fresh entry for it, first."""
    entry = signing.dumps(
        [account_id, secrets.token_urlsafe(16), int(clock.now().timestamp())], salt=_SALT
    )
    others = [signed for account, _nonce, signed in _entries(cookie) if account != account_id]
    kept = [entry, *others][: policies.DEVICE_COOKIE_MAX_ACCOUNTS]
    return _SEPARATOR.join(kept)


def set_cookie(request, response, account_id: int) -> None:
    """Give this browser a device cookie for the account that just logged in."""
    response.set_cookie(
        COOKIE_NAME,
        issue(request.COOKIES.get(COOKIE_NAME), account_id),
        max_age=int(policies.DEVICE_COOKIE_TTL.total_seconds()),
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
    )
