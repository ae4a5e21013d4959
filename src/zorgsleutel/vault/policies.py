"""The vault's rules, as data: lifetimes, attempts and caps a security reviewer asks about.

The vault is deployed on its own and imports nothing of the portal, so its rules live here
(the portal's are in zorgsleutel/policies.py).
"""

from datetime import timedelta

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5  # wrong codes per challenge, then the challenge is blocked
RESEND_AFTER = timedelta(seconds=30)  # same challenge, new code
CAP_WINDOW = timedelta(hours=1)
SMS_PER_ENROLMENT_PER_HOUR = 5
SMS_PER_NUMBER_PER_HOUR = 10  # across enrolments, counted by the keyed hash of the number
PENDING_ENROLMENT_TTL = timedelta(hours=24)  # unconfirmed enrolments are purged after this

# Signed requests: the timestamp may differ this much from the vault's clock; nonces are
# remembered twice as long, so a captured request can never be replayed.
REQUEST_MAX_SKEW = timedelta(seconds=60)
NONCE_RETENTION = 2 * REQUEST_MAX_SKEW
MAX_BODY_BYTES = 16 * 1024

DEV_OUTBOX_LIMIT = 200
