"""The keys of single sign-on: the keys that sign ID tokens (RS256 for every client; ES256 for
the clients registered for it), and the pairwise-subject secret.

Stored in the portal's database, sealed: AES-256-GCM under a key derived from SECRET_KEY
(HKDF-SHA256, our own label; the row's kid or name is the associated data, so a sealed key
copied to another row does not open). A copy of the database alone signs nothing and links
no `sub` across applications. We chose this over the smartcard CA's PKCS#11 token: that token
is optional (without its PIN the portal issues no cards, and single sign-on must not depend on
it), SoftHSM2 signs RSA-2048 about 570 times a second on one core (DEPENDENCY-NOTES.md), under
the token endpoint's goal of 240 exchanges a second, and an HSM session per process needs the
care smartcards/runtime.py takes. In software a signature costs about a millisecond. An HSM for
these keys remains possible later: only `_private_jwk` reads the sealed key.

SECRET_KEY rotation: keep the old value in SECRET_KEY_FALLBACKS and run `zorgsleutel oidc
rotate-keys`: it seals every key and the subject secret again under the new SECRET_KEY; then the
fallback may go.

Rotation (`rotate`, run daily by `zorgsleutel oidc rotate-keys`; policies.OIDC_KEY_*): the
first run makes a key that signs at once (nobody can hold an older key set). Then a key signs
for OIDC_KEY_ROTATE_EVERY; its successor is published OIDC_KEY_PUBLISH_AHEAD before it signs,
so a relying party that caches the key set for OIDC_JWKS_MAX_AGE has it before it sees a token
signed with it; the key it replaces stays published OIDC_KEY_KEEP_RETIRED, longer than any
token it signed lives. `--start` publishes a successor now (a planned early rotation). Each
algorithm has its own schedule: an ES256 key is made the first time a client registered for
ES256 gets an ID token (or the JWKS is read while such a client exists), and from then on it
rotates like the RSA key.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from jwcrypto import jwk

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.oidc.models import ProviderSecret, SigningKey

_LABEL = b"zorgsleutel-oidc-keys-v1"
SUBJECT = "subject"
RS256, ES256 = "RS256", "ES256"
ALGORITHMS = (RS256, ES256)


# --- Sealing ------------------------------------------------------------------------------------


@functools.cache
def _kek(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
        secret.encode()
    )


def seal(data: bytes, *, label: str) -> bytes:
    """`data` sealed under the current SECRET_KEY, bound to `label` (a kid, a secret's name)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_kek(settings.SECRET_KEY)).encrypt(nonce, data, label.encode())


def unseal(sealed: bytes, *, label: str) -> tuple[bytes, bool]:
    """The data, and whether it was sealed under a SECRET_KEY_FALLBACKS key (to seal again)."""
    sealed = bytes(sealed)
    secrets_ = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for position, secret in enumerate(secrets_):
        try:
            plain = AESGCM(_kek(secret)).decrypt(sealed[:12], sealed[12:], label.encode())
        except Exception:  # noqa: S112 (InvalidTag: another key sealed it)
            continue
        return plain, position > 0
    raise ValueError(f"the sealed {label} opens under no SECRET_KEY (or fallback)")


# --- Signing keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyInUse:
    kid: str
    algorithm: str
    key: jwk.JWK  # private


def _new_key(state: str, now: datetime, algorithm: str = RS256) -> SigningKey:
    if algorithm == ES256:
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = rsa.generate_private_key(
            public_exponent=65537, key_size=policies.OIDC_RSA_KEY_BITS
        )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = jwk.JWK.from_pem(pem)
    kid = key.thumbprint()
    public = {**json.loads(key.export_public()), "kid": kid, "alg": algorithm, "use": "sig"}
    return SigningKey.objects.create(
        kid=kid,
        algorithm=algorithm,
        state=state,
        sealed_private_key=seal(pem, label=kid),
        public_jwk=public,
        created_at=now,
        activated_at=now if state == SigningKey.CURRENT else None,
    )


@functools.lru_cache(maxsize=8)
def _private_jwk(kid: str, sealed: bytes) -> jwk.JWK:
    """The private key of a row, opened once per process (a row's sealed key never changes
    meaning: a reseal gives new bytes, hence a new cache entry)."""
    pem, _ = unseal(sealed, label=kid)
    return jwk.JWK.from_pem(pem)


def signing_key(algorithm: str = RS256) -> KeyInUse:
    """The key that signs now with `algorithm`. The very first one is made here when
    `rotate-keys` has not made one yet (a unique constraint keeps it one when two processes
    race)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"no signing keys for {algorithm!r}")
    row = SigningKey.objects.filter(algorithm=algorithm, state=SigningKey.CURRENT).first()
    if row is None:
        try:
            with transaction.atomic():
                row = _new_key(SigningKey.CURRENT, clock.now(), algorithm)
                _record("sso_key.activated", row, first=True)
        except IntegrityError:
            row = SigningKey.objects.get(algorithm=algorithm, state=SigningKey.CURRENT)
    return KeyInUse(row.kid, row.algorithm, _private_jwk(row.kid, bytes(row.sealed_private_key)))


def verification_key(kid: str) -> jwk.JWK | None:
    """The public key of a published key (to check an ID token we signed), or None."""
    row = SigningKey.objects.filter(kid=kid).first()
    return jwk.JWK(**row.public_jwk) if row is not None else None


def key_set() -> dict:
    """The JWKS: every published key (next, current, retired), the current ones first (RS256's
    before ES256's)."""
    order = {SigningKey.CURRENT: 0, SigningKey.NEXT: 1, SigningKey.RETIRED: 2}
    rows = sorted(
        SigningKey.objects.all(),
        key=lambda row: (order[row.state], ALGORITHMS.index(row.algorithm), row.created_at),
    )
    return {"keys": [row.public_jwk for row in rows]}


def _record(action: str, row: SigningKey, **details) -> None:
    audit.record(action, actor="system", target=row, details={"kid": row.kid, **details})


@transaction.atomic
def rotate(*, start: bool = False) -> list[str]:
    """Advance the keys' schedule (see the module docstring); what it did, one line each. RS256
    always has keys; ES256 once a client made one."""
    now = clock.now()
    done: list[str] = []
    rows = list(SigningKey.objects.select_for_update().exclude(state=SigningKey.RETIRED))
    for algorithm in ALGORITHMS:
        keys = {row.state: row for row in rows if row.algorithm == algorithm}
        if algorithm == RS256 or keys:
            done += _rotate(algorithm, keys, now, start)
    gone = SigningKey.objects.filter(
        state=SigningKey.RETIRED, retired_at__lte=now - policies.OIDC_KEY_KEEP_RETIRED
    )
    for row in gone:
        _record("sso_key.removed", row)
        done.append(f"removed key {row.kid}")
    gone.delete()
    done += _reseal()
    return done


def _rotate(algorithm: str, keys: dict, now: datetime, start: bool) -> list[str]:
    done: list[str] = []
    current, upcoming = keys.get(SigningKey.CURRENT), keys.get(SigningKey.NEXT)
    if current is None and upcoming is None:
        current = _new_key(SigningKey.CURRENT, now, algorithm)
        _record("sso_key.activated", current, first=True)
        done.append(f"made key {current.kid}; it signs from now on")
    if upcoming is not None and now - upcoming.created_at >= policies.OIDC_KEY_PUBLISH_AHEAD:
        if current is not None:
            current.state, current.retired_at = SigningKey.RETIRED, now
            current.save(update_fields=["state", "retired_at"])
            _record("sso_key.retired", current)
            done.append(f"retired key {current.kid}")
        upcoming.state, upcoming.activated_at = SigningKey.CURRENT, now
        upcoming.save(update_fields=["state", "activated_at"])
        _record("sso_key.activated", upcoming, first=False)
        done.append(f"key {upcoming.kid} signs from now on")
        current, upcoming = upcoming, None
    due = current is not None and now - current.activated_at >= policies.OIDC_KEY_ROTATE_EVERY
    if upcoming is None and (due or (start and not done)):
        upcoming = _new_key(SigningKey.NEXT, now, algorithm)
        _record("sso_key.published", upcoming, signs_from=now + policies.OIDC_KEY_PUBLISH_AHEAD)
        done.append(
            f"published key {upcoming.kid}; it signs from the first run after "
            f"{(now + policies.OIDC_KEY_PUBLISH_AHEAD).isoformat(timespec='seconds')}"
        )
    return done


def _reseal() -> list[str]:
    """Seal again under SECRET_KEY what a fallback sealed (SECRET_KEY rotation)."""
    done = []
    for row in SigningKey.objects.all():
        pem, stale = unseal(row.sealed_private_key, label=row.kid)
        if stale:
            row.sealed_private_key = seal(pem, label=row.kid)
            row.save(update_fields=["sealed_private_key"])
            _record("sso_key.resealed", row)
            done.append(f"sealed key {row.kid} under the current SECRET_KEY")
    for secret in ProviderSecret.objects.all():
        plain, stale = unseal(secret.sealed, label=secret.name)
        if stale:
            secret.sealed = seal(plain, label=secret.name)
            secret.save(update_fields=["sealed"])
            audit.record("sso_secret.resealed", actor="system", details={"name": secret.name})
            done.append(f"sealed the {secret.name} secret under the current SECRET_KEY")
    return done


# --- The pairwise-subject secret ----------------------------------------------------------------


def subject_secret() -> bytes:
    """The secret that keys every pairwise `sub` (claims.py): made once, on first use."""
    return _provider_secret(SUBJECT)


@functools.lru_cache(maxsize=4)
def _opened(name: str, sealed: bytes) -> bytes:
    return unseal(sealed, label=name)[0]


def _provider_secret(name: str) -> bytes:
    row = ProviderSecret.objects.filter(name=name).first()
    if row is None:
        try:
            with transaction.atomic():
                row = ProviderSecret.objects.create(
                    name=name,
                    sealed=seal(secrets.token_bytes(32), label=name),
                    created_at=clock.now(),
                )
                audit.record("sso_secret.created", actor="system", details={"name": name})
        except IntegrityError:
            row = ProviderSecret.objects.get(name=name)
    return _opened(name, bytes(row.sealed))
