"""The portal's only way to the phone vault: signed HTTP calls, opaque ids and masked hints back.

from zorgsleutel import vaultclient
sent = vaultclient.get().enrol(phone="06 1234 5678", locale="nl")
"""

from zorgsleutel.vaultclient.client import (
    ChallengeSent,
    NoticeSent,
    VaultClient,
    VaultError,
    VaultRefused,
    VaultUnavailable,
    Verdict,
    get,
)

__all__ = [
    "ChallengeSent",
    "NoticeSent",
    "VaultClient",
    "VaultError",
    "VaultRefused",
    "VaultUnavailable",
    "Verdict",
    "get",
]
