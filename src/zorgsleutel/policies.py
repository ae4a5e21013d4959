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


# --- Roles and permissions -----------------------------------------------------------------------
# Who may do what inside their own organisation. Nobody may ever set or see another person's
# password or phone number: there is no permission for it, because there is no code path for it.
ADMINISTRATOR, MANAGER, MEMBER = "administrator", "manager", "member"

PERMISSIONS: dict[str, frozenset[str]] = {
    "members.view": frozenset({ADMINISTRATOR, MANAGER}),
    "members.create": frozenset({ADMINISTRATOR, MANAGER}),
    "members.resend_activation": frozenset({ADMINISTRATOR, MANAGER}),
    "members.block": frozenset({ADMINISTRATOR, MANAGER}),
    "members.unblock": frozenset({ADMINISTRATOR, MANAGER}),
    "members.delete": frozenset({ADMINISTRATOR, MANAGER}),
    "managers.appoint": frozenset({ADMINISTRATOR}),
    "audit.view": frozenset({ADMINISTRATOR}),
}

# Which base roles an actor may hand out when creating or changing a member (seed 003: only the
# administrator appoints managers and further administrators).
ROLE_GRANTS: dict[str, frozenset[str]] = {
    ADMINISTRATOR: frozenset({ADMINISTRATOR, MANAGER, MEMBER}),
    MANAGER: frozenset({MEMBER}),
    MEMBER: frozenset(),
}


def allows(role: str | None, action: str) -> bool:
    return role is not None and role in PERMISSIONS.get(action, frozenset())


def may_grant(role: str | None, granted: str) -> bool:
    return granted in ROLE_GRANTS.get(role or "", frozenset())


# --- Links sent by mail --------------------------------------------------------------------------
ACTIVATION_LINK_TTL = timedelta(hours=72)
PASSWORD_RESET_LINK_TTL = timedelta(minutes=60)

# --- E-mail addresses of new users ---------------------------------------------------------------
# Seed 000: "Een gebruiker moet over een zakelijk e-mailadres beschikken". Organisations may also
# fix their own allowed domains (Organisation.allowed_email_domains).
CONSUMER_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.nl",
        "outlook.com",
        "outlook.nl",
        "live.nl",
        "live.com",
        "msn.com",
        "ziggo.nl",
        "kpnmail.nl",
        "kpnplanet.nl",
        "planet.nl",
        "home.nl",
        "xs4all.nl",
        "icloud.com",
        "me.com",
        "mac.com",
        "yahoo.com",
        "yahoo.nl",
        "gmx.com",
        "gmx.net",
        "proton.me",
        "protonmail.com",
        "aol.com",
        "upcmail.nl",
        "casema.nl",
        "chello.nl",
        "hetnet.nl",
        "tele2.nl",
        "online.nl",
        "telfort.nl",
        "quicknet.nl",
    }
)

# --- Password login ------------------------------------------------------------------------------
# Failed passwords never lock an account permanently: each throttle is a growing delay. After
# FREE counted attempts, the next waits BASE * 2^(n - FREE) seconds after the last failure, at
# most MAX (accounts/throttle.py, the OWASP device-cookie scheme):
#  - "device": a browser holding a valid device cookie for the account counts only its own
#    failures; an attacker elsewhere can never slow the real user's browser down;
#  - "untrusted": every client of this account without its device cookie, from anywhere (an
#    attacker can slow these down for the account: the design);
#  - "ip": every client without a device cookie from this address, any account.
# Counters fade after LOGIN_FAILURE_WINDOW without attempts; a right password clears the
# device's counter and gives the attempt's count back to the other two.
LOGIN_FAILURE_WINDOW = timedelta(hours=1)
LOGIN_THROTTLES = {
    "device": {"free": 5, "base_seconds": 2, "max_seconds": 15 * 60},
    "untrusted": {"free": 10, "base_seconds": 2, "max_seconds": 15 * 60},
    "ip": {"free": 30, "base_seconds": 2, "max_seconds": 15 * 60},
}
# The device cookie a browser gets after a complete login (accounts/devices.py): signed, bound to
# the account, HttpOnly, SameSite=Lax, Secure on HTTPS; one cookie holds up to this many accounts.
DEVICE_COOKIE_TTL = timedelta(days=365)
DEVICE_COOKIE_MAX_ACCOUNTS = 5
# Wachtwoord vergeten: over these, requests are not mailed (per address: same answer as always)
# or refused with "too many requests" (per address of the client, for that client only).
PASSWORD_RESET_LIMITS = {"per_email": "3/h", "per_ip": "20/h"}
# Every form that makes the vault send an SMS (activation, reset, the login's "send a new code"):
# per mailed link, per account and per client address; over a limit nothing is sent.
SMS_SEND_LIMITS = {"per_link": "3/h", "per_account": "5/h", "per_ip": "20/h"}
PASSWORD_MIN_LENGTH = 12

# --- Sessions ------------------------------------------------------------------------------------
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
# A login that has passed the password but not yet the SMS code expires after this.
PENDING_LOGIN_TTL = timedelta(minutes=10)

# --- Operators -----------------------------------------------------------------------------------
# Operators (staff of the service) act on the platform, never inside an organisation's people.
OPERATOR_PERMISSIONS = frozenset({"organisations.create_business"})

# --- Zorgsleutel app -----------------------------------------------------------------------------
APP_ENROLMENT_TTL = timedelta(minutes=5)
APP_LOGIN_TTL = timedelta(minutes=3)
APP_MAX_WRONG_PINS = 3  # consecutive; then the app ID is blocked (a manager unblocks, or re-enrol)
APP_POLL_INTERVAL_MS = 1000
PERMISSIONS.update(
    {
        "apps.block": frozenset({ADMINISTRATOR, MANAGER}),
        "apps.unblock": frozenset({ADMINISTRATOR, MANAGER}),
        "apps.delete": frozenset({ADMINISTRATOR, MANAGER}),
    }
)

# --- Authentication means per role (DESIGN.md "Authentication means and assurance") --------------
ASSURANCE_ORDER = {"": 0, "low": 1, "substantial": 2, "high": 3}
# Care providers (seed 003): administrators and managers log in with the app. Operators always.
# Any organisation may require the app for all its members (Organisation.required_acr).
APP_REQUIRED_ROLES = {"care_provider": frozenset({ADMINISTRATOR, MANAGER}), "business": frozenset()}


def required_acr(user) -> str:
    """The assurance this person's sessions must reach ("low" or "substantial")."""
    if getattr(user, "is_operator", False):
        return "substantial"
    for membership in memberships(user):
        organisation = membership.organisation
        if membership.role in APP_REQUIRED_ROLES.get(organisation.kind, frozenset()):
            return "substantial"
        if ASSURANCE_ORDER.get(organisation.required_acr, 0) >= ASSURANCE_ORDER["substantial"]:
            return "substantial"
    return "low"


def memberships(user):
    """Memberships with organisations: the prefetched ones when the caller loaded them already
    (a login, the assurance check of a request), else one query."""
    prefetched = getattr(user, "_prefetched_objects_cache", {}).get("memberships")
    return prefetched if prefetched is not None else user.memberships.select_related("organisation")


def satisfies(acr: str, required: str) -> bool:
    return ASSURANCE_ORDER.get(acr, 0) >= ASSURANCE_ORDER.get(required, 0)


# Rate limits of the app protocol (allauth-style "N/period"): per app ID and per address.
APP_RATE_LIMITS = {"answer_per_device": "10/m", "per_ip": "120/m", "enrol_per_ip": "20/m"}

# --- UZI cards (docs/uzi.md) ---------------------------------------------------------------------
CARD_CHALLENGE_TTL = timedelta(minutes=5)
CARD_RATE_LIMITS = {"per_ip": "60/m", "answers_per_challenge": "5/m"}
# Seed 003: the applicant validates with a UZI-zorgverlenerspas (Z) or a pas for a named employee
# (N). Cards not tied to one person (M) and server certificates (S) prove no person.
VALIDATION_PAS_TYPES = frozenset({"Z", "N"})

# --- Organisation applications (seed 003 steps 2-6) ----------------------------------------------
VALIDATION_LINK_TTL = timedelta(days=14)
OPERATOR_PERMISSIONS = OPERATOR_PERMISSIONS | {
    "applications.review",
    "organisations.suspend",
    "audit.platform",
}


def login_allowed(user) -> bool:
    """Suspended organisations: nobody logs in through one. A person with no memberships (an
    operator, or someone just validated) or with at least one organisation that is not suspended
    logs in; in a suspended organisation they can do nothing (accounts.permissions)."""
    if getattr(user, "is_operator", False):
        return True
    suspended = [m.organisation.suspended_at is not None for m in memberships(user)]
    return not suspended or not all(suspended)
