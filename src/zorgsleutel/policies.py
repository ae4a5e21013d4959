"""Every rule a security reviewer asks about, as data, in one place.

Flows read these values; nothing else in the code hard-codes a lifetime, a limit or a permission.
Rate limits use the allauth notation: "N/period/key" with period s, m, h or d and key ip or key.
"""

from __future__ import annotations

from datetime import timedelta

# --- Outgoing mail -------------------------------------------------------------------------------
# Delivery attempts and the wait before each retry; after the last one the mail is marked failed
# (and stays visible to operators), never silently dropped.
MAIL_MAX_ATTEMPTS = 8
MAIL_RETRY_BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)


def mail_retry_delay(attempt: int) -> timedelta:
    """Wait before attempt number `attempt + 1`, given `attempt` failed ones so far (1-based)."""
    index = min(max(attempt, 1), len(MAIL_RETRY_BACKOFF)) - 1
    return MAIL_RETRY_BACKOFF[index]


# --- Audit ---------------------------------------------------------------------------------------
# Audit events are never updated or deleted by the application. Retention is an operator task.
AUDIT_HASH_ALGORITHM = "sha256"

# --- Request limits ------------------------------------------------------------------------------
MAX_JSON_BODY_BYTES = 64 * 1024

# --- Demo ----------------------------------------------------------------------------------------
DEMO_PASSWORD = "Zorgsleutel-demo-2026"  # noqa: S105 (public demo data, refused outside DEBUG)
