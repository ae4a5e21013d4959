"""The vault's rules, as data: lifetimes, attempts and caps a security reviewer asks about.

The vault is deployed on its own and imports nothing of the portal, so its rules live here
(the portal's are in zorgsleutel/policies.py).
"""

from datetime import timedelta

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5  # wrong codes per challenge, then the challenge is blocked
# Between two codes for one enrolment, whichever challenge they belong to (a blocked challenge
# does not start a new one sooner); only a verified code ends the wait.
RESEND_AFTER = timedelta(seconds=30)

# Hourly SMS caps, counted by the keyed hash of the number. Anyone can make the portal enrol
# any number, but nobody can confirm one without its code: so sends to numbers of pending
# enrolments have their own small cap, and never count against a confirmed enrolment's codes.
# Only unanswered codes and notices count: a code typed in correctly is given back (only the
# number's owner can), so logging in often never locks the owner out.
CAP_WINDOW = timedelta(hours=1)
SMS_PER_ENROLMENT_PER_HOUR = 5  # codes and notices of one enrolment, pending or confirmed
SMS_UNCONFIRMED_PER_NUMBER_PER_HOUR = 3  # sends for pending enrolments of one number
SMS_PER_NUMBER_PER_HOUR = 10  # sends for confirmed enrolments of one number (several accounts)

# Notices: fixed texts (vault/texts.py) the portal may ask to send to a confirmed number.
NOTICE_KINDS = ("credentials_changed", "authenticator_linked")
PENDING_ENROLMENT_TTL = timedelta(hours=24)  # unconfirmed enrolments are purged after this

# Signed requests: the timestamp may differ this much from the vault's clock; nonces are
# remembered twice as long, so a captured request can never be replayed.
REQUEST_MAX_SKEW = timedelta(seconds=60)
NONCE_RETENTION = 2 * REQUEST_MAX_SKEW
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32  # nesting of [ and { (no body needs more than 2), checked before parsing

# Keys with DEBUG off (settings.py): encryption/index/code keys are exactly 32 bytes; client keys
# are random strings of at least this many characters.
MIN_CLIENT_KEY_CHARS = 32

DEV_OUTBOX_LIMIT = 200
