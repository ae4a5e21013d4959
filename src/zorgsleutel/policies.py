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
# (Their hash chain is SHA-256, core/audit.py: a format, not a setting.)


def known_to(organisation, person) -> bool:
    """Tenancy: an organisation may name a person (their e-mail address) only while it has a
    membership of them, in any state: invited (the address it typed), active or blocked. The
    people of other organisations, and the memberships it deleted, it knows by their pseudonym
    only, whether or not their account still exists (docs/accounts.md, "Audit")."""
    loaded = getattr(person, "loaded_memberships", None)
    if loaded is not None:
        return any(m.organisation_id == organisation.pk for m in loaded)
    return person.memberships.filter(organisation_id=organisation.pk).exists()


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
    # Seed 003: administrators and managers block, unblock and delete the app IDs registered
    # under their organisation; "relink" lets a person link a new app after a removal.
    "apps.block": frozenset({ADMINISTRATOR, MANAGER}),
    "apps.unblock": frozenset({ADMINISTRATOR, MANAGER}),
    "apps.delete": frozenset({ADMINISTRATOR, MANAGER}),
    "apps.relink": frozenset({ADMINISTRATOR, MANAGER}),
    # Seed 003: they block, unblock and delete the smartcards registered under their
    # organisation, and confirm a care worker's identity in person before that one makes theirs.
    "smartcards.block": frozenset({ADMINISTRATOR, MANAGER}),
    "smartcards.unblock": frozenset({ADMINISTRATOR, MANAGER}),
    "smartcards.delete": frozenset({ADMINISTRATOR, MANAGER}),
    "smartcards.confirm_identity": frozenset({ADMINISTRATOR, MANAGER}),
    # Seed 003's webshop step ("Lege ZORG-ID Smartcards zijn aan te vragen via deze webshop"):
    # administrators order blank smartcards, see their organisation's orders and cancel them.
    "smartcards.order": frozenset({ADMINISTRATOR}),
    # Aan de slag: what an administrator does after validation (seed 003, step 6: appoint
    # managers, let care workers in, order blank cards), ticked off as it is done.
    "organisation.next_steps": frozenset({ADMINISTRATOR}),
    # Beheer → Applicaties (single sign-on): administrators register their own organisation's
    # applications (allowed for that organisation only), see every application that may
    # receive its people, and delete the ones it registered itself (docs/oidc.md, "Clients").
    "sso_clients.register": frozenset({ADMINISTRATOR}),
}

# A membership is what an organisation controls (docs/accounts.md, "Tenancy"): invited until the
# person accepts (accepted_at), then active or blocked by that organisation. Only active ones act;
# an invitation the organisation blocked was never accepted and counts for nothing.
MEMBERSHIP_INVITED, MEMBERSHIP_ACTIVE, MEMBERSHIP_BLOCKED = "invited", "active", "blocked"

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


def lost_permissions(old_role: str, new_role: str) -> list[str]:
    """What a role change from `old_role` to `new_role` takes away (PERMISSIONS, in their
    order): Beheer asks first when it takes anything (docs/look.md, "Actions")."""
    return [
        action
        for action in PERMISSIONS
        if allows(old_role, action) and not allows(new_role, action)
    ]


# --- Links sent by mail --------------------------------------------------------------------------
ACTIVATION_LINK_TTL = timedelta(hours=72)
# An invitation of someone who already has an account, accepted while logged in. The same
# lifetime as an activation link: the list shows "link verlopen" after the same time for both, so
# it never tells whether the address had an account.
INVITATION_LINK_TTL = ACTIVATION_LINK_TTL
# "Dit was ik niet" in the mail after a password and phone reset: blocks the person's
# memberships and alerts their organisations' managers (docs/accounts.md, "Recovery").
NOT_ME_LINK_TTL = timedelta(days=14)
PASSWORD_RESET_LINK_TTL = timedelta(minutes=60)

# --- E-mail addresses of new users ---------------------------------------------------------------
# people/emails.py: one rule for pages, API and imports. DNS allows 253, no business needs 128.
EMAIL_DOMAIN_MAX_LENGTH = 128
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
# most MAX (authn/throttle.py, the OWASP device-cookie scheme):
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
# The device cookie a browser gets after a complete login (authn/devices.py): signed, bound to
# the account, HttpOnly, SameSite=Lax, Secure on HTTPS; one cookie holds up to this many accounts.
DEVICE_COOKIE_TTL = timedelta(days=365)
DEVICE_COOKIE_MAX_ACCOUNTS = 5
PASSWORD_MIN_LENGTH = 12
# New passwords that are easy to guess are refused (core/passwords.py, NIST SP 800-63B 5.1.1.2):
# a password on the blocklist (core/blocklist/), or a listed word of at least this many letters
# with only digits and symbols around it ("wachtwoord123") ...
PASSWORD_BLOCKLIST_MIN_WORD = 4
# ... or with fewer different characters than this ("aaaaaaaaaaaa", "121212121212") ...
PASSWORD_MIN_DISTINCT_CHARACTERS = 5
# ... or made of at most this many stretches of the same or neighbouring characters (in the
# alphabet, the digits or a keyboard row: "abcdefghijkl", "abcdef123456", "qwertyuiop12").
PASSWORD_MAX_PATTERN_RUNS = 2

# --- Sessions ------------------------------------------------------------------------------------
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)  # after the session's first login
# A session keeps each authentication it saw (authn/sessions.py: means, acr, amr, time), so a
# step-up adds to what the first login proved; the oldest go beyond this many.
SESSION_AUTHENTICATIONS_KEPT = 8
# A login that has passed the password but not yet the SMS code expires after this.
PENDING_LOGIN_TTL = timedelta(minutes=10)
# A page that sent a person to log in (an application's single sign-on request) is where the
# login lands, if the login ends within this time (authn/sessions.py: returning_to).
LOGIN_RETURN_TTL = timedelta(minutes=30)

# --- Where a login lands (docs/organisations.md, "After logging in") -----------------------------
# A login that started on a protected page returns there (`?next=`: a path on this site, never
# another host; authn/landing.py). Otherwise an operator lands on the Operatorconsole; an
# administrator of an organisation with nobody in it but administrators yet (a care provider just
# validated, a business customer just created) on that organisation's Aan de slag; everyone else
# on Mijn Zorgsleutel.
LANDING_CONSOLE, LANDING_NEXT_STEPS, LANDING_HOME = "console", "next_steps", "home"


def landing(*, is_operator: bool, setting_up: bool) -> str:
    if is_operator:
        return LANDING_CONSOLE
    return LANDING_NEXT_STEPS if setting_up else LANDING_HOME


def setting_up(membership, roles_in_organisation: set[str]) -> bool:
    """Whether `membership` is an active administrator's of an organisation (not suspended) in
    which nobody holds another role yet: no manager appointed, nobody invited."""
    return (
        membership.state == MEMBERSHIP_ACTIVE
        and membership.role == ADMINISTRATOR
        and membership.organisation.suspended_at is None
        and roles_in_organisation <= {ADMINISTRATOR}
    )


# --- Operators -----------------------------------------------------------------------------------
# Operators (staff of the service) act on the platform, never inside an organisation's people:
# business customers, applications (seed 003 step 3), suspension, the platform audit log.
OPERATOR_PERMISSIONS = frozenset(
    {
        "organisations.create_business",
        "applications.review",
        "organisations.suspend",
        "audit.platform",
        "card_orders.handle",  # the queue of blank-card orders: ship or cancel
        "sso_clients.manage",  # register and delete single sign-on applications (oidc/)
    }
)
# The reason an operator gives when rejecting an application (mailed to the applicant) or
# suspending an organisation has at least this many characters.
REASON_MIN_LENGTH = 5

# --- Zorgsleutel app -----------------------------------------------------------------------------
APP_ENROLMENT_TTL = timedelta(minutes=5)
APP_LOGIN_TTL = timedelta(minutes=3)
APP_MAX_WRONG_PINS = 3  # consecutive; then the app ID is blocked (a manager unblocks, or re-enrol)
APP_POLL_INTERVAL_MS = 1000

# --- Authentication means per role (docs/app-protocol.md, "Who must use the app") ---------------
ASSURANCE_ORDER = {"": 0, "low": 1, "substantial": 2, "high": 3}
# Care providers (seed 003): administrators and managers log in with the app. Operators always.
# Any organisation may require the app for all its members (Organisation.required_acr).
APP_REQUIRED_ROLES = {"care_provider": frozenset({ADMINISTRATOR, MANAGER}), "business": frozenset()}


def required_acr(user) -> str:
    """The assurance this person's sessions must reach ("low" or "substantial").

    Accepted memberships count (a blocked one too: being blocked never lowers what a person
    must show); an invitation not yet accepted asks nothing of the person."""
    if getattr(user, "is_operator", False):
        return "substantial"
    for membership in accepted_memberships(user):
        organisation = membership.organisation
        if membership.role in APP_REQUIRED_ROLES.get(organisation.kind, frozenset()):
            return "substantial"
        if ASSURANCE_ORDER.get(organisation.required_acr, 0) >= ASSURANCE_ORDER["substantial"]:
            return "substantial"
    return "low"


def memberships(user):
    """Memberships with organisations: the ones loaded with the person (people/loading.py: a
    login, the person of every request), else one query that loads them."""
    loaded = getattr(user, "loaded_memberships", None)
    if loaded is not None:
        return loaded
    from django.db.models import prefetch_related_objects

    # Nothing to do when a caller prefetched them; else two queries.
    prefetch_related_objects([user], "memberships__organisation")
    return user.memberships.all()


def accepted_memberships(user) -> list:
    """The memberships the person accepted (active, or blocked by their organisation since)."""
    return [m for m in memberships(user) if m.accepted_at is not None]


def satisfies(acr: str, required: str) -> bool:
    return ASSURANCE_ORDER.get(acr, 0) >= ASSURANCE_ORDER.get(required, 0)


# No fallback to a weaker means (docs/app-protocol.md): once a person's role or organisation
# requires the app and an app was linked, a blocked or removed app never opens the door to the
# password + SMS login or to linking a new app by oneself. A manager unblocks the app, or
# releases a removed one (apps.relink), and only then may the person link a new app. Each
# organisation decides about a person's app IDs for itself (docs/accounts.md, "Who governs an
# authenticator"): a new app linked while an organisation that requires the app holds the old
# one works there only once that organisation allows it.
# authn/means.py asks this for a means below the person's required assurance, with the standing
# of a means that reaches it ("active", "held" or "none").
# A smartcard (docs/smartcards.md) is held to the same rule where it is what reaches the level.
WEAKER_MEANS_REFUSALS = {
    ("app", "active"): "app_required",
    ("app", "held"): "app_held",
    ("smartcard", "active"): "smartcard_required",
    ("smartcard", "held"): "smartcard_held",
}


def weaker_means_refusal(stronger: str, stronger_standing: str) -> str | None:
    """Why a weaker means may not log the person in, given what they have of the stronger means
    `stronger` ("app", "smartcard")."""
    return WEAKER_MEANS_REFUSALS.get((stronger, stronger_standing))


def requires_app(membership) -> bool:
    """Whether this membership's organisation makes the person use the app."""
    organisation = membership.organisation
    return membership.role in APP_REQUIRED_ROLES.get(organisation.kind, frozenset()) or (
        ASSURANCE_ORDER.get(organisation.required_acr, 0) >= ASSURANCE_ORDER["substantial"]
    )


# A mailbox alone never reaches the app-required level. A reset by mail (the seed's flow) gives
# a password and a phone, so a session of password + SMS after it proves no more than the
# mailbox. A new app ID linked from such a session (below the person's required level, since
# the last reset: User.credentials_reset_at) works for an organisation that requires the app
# only once that organisation allows it (AppDecision "pending"; Beheer's "Deblokkeren"), unless
# that organisation released the person's app after the reset (its consent). Without a reset,
# the first app of a person the organisation invited is linked from the activation's session.
def new_app_waits(
    membership, *, holds: bool, session_acr: str, reset_at, released_since_reset: bool
) -> bool:
    """Whether a new app ID must wait for this membership's organisation's consent."""
    if not requires_app(membership):
        return False
    if holds:
        return True  # the person's app is blocked or removed there (WEAKER_MEANS_REFUSALS)
    after_reset = reset_at is not None and not satisfies(session_acr, "substantial")
    return after_reset and not released_since_reset


def may_link_app(user, app_standing: str, session_acr: str) -> bool:
    """Whether this session may link a new app ID for the person."""
    if app_standing == "none":
        return True  # the first app, or a manager released the old one
    return satisfies(session_acr, required_acr(user))


# --- UZI cards (docs/uzi.md) ---------------------------------------------------------------------
CARD_CHALLENGE_TTL = timedelta(minutes=5)
# Seed 003: the applicant validates with a UZI-zorgverlenerspas (Z) or a pas for a named employee
# (N). Cards not tied to one person (M) and server certificates (S) prove no person.
VALIDATION_PAS_TYPES = frozenset({"Z", "N"})

# --- Organisation applications (seed 003 steps 2-6) ----------------------------------------------
VALIDATION_LINK_TTL = timedelta(days=14)
# The browser that validated an organisation for a brand-new administrator (the card made the
# account) may link that administrator's first app this long (step 5, then step 6).
VALIDATED_BROWSER_TTL = timedelta(minutes=30)


def validation_refusal(account, person, session_acr: str) -> str | None:
    """Why validating an organisation may not make `account` (the one of the application's
    e-mail address, None when there is none) its administrator, given the browser's logged-in
    `person` (None: nobody) and their session's assurance; None when it may.

    The link proves the mailbox and the card the practice; neither proves the account (a
    mailbox alone resets a password, never what needs the app). So an existing account is only
    reached from its own session at the level it requires, and an operator never becomes a
    member of an organisation. The first answers tell nothing about the account to a browser
    that is not logged in as it."""
    if account is None:
        return None  # the validation makes the account
    if person is None:
        return "log_in_first"
    if person.pk != account.pk:
        return "other_account"
    if getattr(account, "is_operator", False):
        return "operator_not_allowed"
    if not account.is_active:
        return "account_blocked"
    if not satisfies(session_acr, required_acr(account)):
        return "assurance_required"
    return None


def login_refusal(user) -> str | None:
    """Why this person may not log in now, or None.

    Someone with no accepted membership (an operator, someone just validated, or with only
    invitations to accept) logs in. Otherwise at least one accepted membership must be active
    in an organisation that is not suspended: a person blocked in one organisation keeps
    working in the others, and nobody logs in through a suspended organisation alone."""
    if getattr(user, "is_operator", False):
        return None
    accepted = accepted_memberships(user)
    if not accepted:
        return None
    usable = [m for m in accepted if m.state == MEMBERSHIP_ACTIVE]
    if not usable:
        return "membership_blocked"
    if all(m.organisation.suspended_at is not None for m in usable):
        return "organisation_suspended"
    return None


def login_allowed(user) -> bool:
    return login_refusal(user) is None


# --- Rate limits (core/ratelimit.py) ------------------------------------------------------------
# Every limit of the portal by action; flows call ratelimit.consume(action=..., ip=..., <key>=...).
# allauth's notation, "N/period/key" (period s, m, h or d), several separated by commas: "ip" is
# the client address, any other key a value the flow names (membership=, recipient=, ...). Fixed
# windows; refused requests count too. Over a limit nothing is sent or created, the person reads
# when to try again (429 with Retry-After) and the window's first refusal is audited. Limits slow
# an attacker and never lock out the owner: each one fades with its window. The password login
# has its own growing delays (LOGIN_THROTTLES above), not these.
RATE_LIMITS = {
    # Wachtwoord vergeten: per client address the form refuses; per address typed, requests over
    # the limit are silently not mailed (the same answer as always: it must not tell either).
    "password_reset.request": "20/h/ip",
    "password_reset.mail": "3/h/email",
    # Every form that makes the vault send an SMS (activation, reset, "send a new code"): per
    # mailed link, per account and per client address (authn/sendlimits.py).
    "sms.send": "3/h/link,5/h/account,20/h/ip",
    # Beheer: "Nieuwe activatielink sturen" mails the person again. Per membership (so one
    # organisation's resends never use up another's budget for the same person) and per actor.
    "invitation.resend": "3/h/membership,30/h/user",
    # An anonymous visit of "Inloggen met de app" writes a session and a QR challenge.
    "app.login_page": "60/m/ip",
    # The app protocol (docs/app-protocol.md): every call per address, enrolment calls per
    # address, signed answers per app ID.
    "app.request": "120/m/ip",
    "app.enrol": "20/m/ip",
    "app.answer": "10/m/device",
    # UZI cards, the card API and the TLS path alike: per address, answers per challenge.
    "card.request": "60/m/ip",
    "card.answer": "5/m/challenge",
    "smartcard.login_page": "60/m/ip",
    # A card page's QR code, made only when the holder asks for it (smartcards/views.py).
    "smartcard.qr": "60/m/ip",
    # Single sign-on: a request that sends the browser to log in writes a session (where the
    # login lands). Per address; a hospital's staff behind one address start their day at once.
    "sso.login": "120/m/ip",
    # Organisatie aanmelden mails the applicant: per client address and per recipient address.
    "application.submit": "10/h/ip,3/h/recipient,10/d/recipient",
}
# Limits "per address" count an IPv6 client by its /64 network (one subscriber's, which holds
# 2^64 addresses); IPv4 addresses one by one.
IPV6_LIMIT_PREFIX = 64

# --- Clean-up of transient rows (zorgsleutel/purge.py) -------------------------------------------
# `zorgsleutel purge` deletes what is of no use any more; `zorgsleutel run` runs it this often
# (production: cron, docs/deployment.md). Sessions go when their row expires
# (SESSION_ABSOLUTE_TIMEOUT after the last write); expired rows of the database cache at once.
PURGE_INTERVAL = timedelta(minutes=10)
# QR login and card challenges and app enrolment codes live minutes. Their rows stay this long
# past expiry, so a request in flight still finds its row and is told "expired", then they go.
PURGE_CHALLENGES_AFTER = timedelta(hours=1)
# Mail links nobody can use any more (expired, used or revoked) stay this long, for support
# questions ("my link did not work"), then go. Open links are never purged.
PURGE_LINK_TOKENS_AFTER = timedelta(days=30)

# --- Zorgsleutel smartcards (docs/smartcards.md) -------------------------------------------------
# A card certificate's lifetime (seed 003's ZORG-ID smartcard; the issue: 3 years).
SMARTCARD_VALIDITY = timedelta(days=3 * 365)
# Our certificate policy, under the ITU-T example arc 2.999 until Zorgsleutel has its own
# enterprise number: a PLACEHOLDER, documented as such; relying parties must not pin it yet.
SMARTCARD_POLICY_OID = "2.999.7.1.1"
# How long a CRL and a signed OCSP answer say they hold (nextUpdate). Both are made again at once
# on every block, unblock or revocation; a relying party that caches an answer may trust it this
# long. The portal's own card logins ask the database, never a cached answer.
SMARTCARD_CRL_NEXT_UPDATE = timedelta(hours=24)
SMARTCARD_OCSP_NEXT_UPDATE = timedelta(hours=1)
# The OCSP responder's certificate (a key in each portal process's memory, certified by the
# issuing CA; smartcards/responder.py). It carries id-pkix-ocsp-nocheck and so cannot be revoked:
# it lives two days, and a process certifies a new key after one, so every answer it signed
# (valid SMARTCARD_OCSP_NEXT_UPDATE) stays verifiable until its nextUpdate.
SMARTCARD_RESPONDER_VALIDITY = timedelta(days=2)
SMARTCARD_RESPONDER_RENEWAL = timedelta(days=1)


# --- Zorgsleutel smartcards (docs/smartcards.md) -------------------------------------------------
# Seed 003: a care provider's care workers make their own smartcard; "De beheerder kan geen
# ZORG-ID Smartcard gebruiken omdat dit niet samenwerkt met ZORG-ID Mobile App ID": administrators
# and managers log in with the app and never hold a smartcard, and one person has either an app ID
# or a smartcard, never both (remove the one before making the other).
SMARTCARD_ORGANISATION_KINDS = frozenset({"care_provider"})
SMARTCARD_REFUSED_ROLES = frozenset({ADMINISTRATOR, MANAGER})
# The UZI card route: a card of the organisation's URA, of these pas types (as for validation).
SMARTCARD_UZI_PAS_TYPES = frozenset({"Z", "N"})
# The page's challenge: time to put the blank card in the reader and choose its PIN.
SMARTCARD_CREATE_TTL = timedelta(minutes=10)
# How long a proof of who the member is counts for one card: an identity check in person (a
# manager saw the document), or the member's UZI card presented while logged in.
SMARTCARD_PROOF_TTL = {"in_person": timedelta(days=30), "uzi": timedelta(minutes=30)}
# A certificate this close to its end may be renewed (a new key on the card) from a smartcard
# session.
SMARTCARD_RENEWAL_WINDOW = timedelta(days=60)
# Blank cards one order may ask for.
SMARTCARD_ORDER_MAX = 500


def card_order_refusal(organisation) -> str | None:
    """Why this organisation may not order blank smartcards, or None: a care provider that
    validated with a UZI card (its administrators order; people.permissions checks the role and
    a suspension)."""
    if organisation.kind not in SMARTCARD_ORGANISATION_KINDS or not organisation.ura:
        return "smartcard_not_care_provider"
    if organisation.state != "validated":
        return "organisation_not_validated"
    return None


def smartcard_refusal(membership, *, has_app: bool, has_card: bool) -> str | None:
    """Why this membership's person may not make a smartcard for its organisation now (before
    asking how they prove who they are), or None."""
    organisation = membership.organisation
    if organisation.kind not in SMARTCARD_ORGANISATION_KINDS or not organisation.ura:
        return "smartcard_not_care_provider"
    if membership.state != MEMBERSHIP_ACTIVE or membership.accepted_at is None:
        return "membership_blocked"
    if membership.role in SMARTCARD_REFUSED_ROLES:
        return "smartcard_role"
    if has_app:
        return "smartcard_app_exclusive"
    if has_card:
        return "smartcard_exists"
    return None


def smartcard_role_refusal(role: str, *, holds_card: bool) -> str | None:
    """Why a person who holds a smartcard (active or blocked) may not get this role."""
    return "smartcard_holder_role" if holds_card and role in SMARTCARD_REFUSED_ROLES else None


def app_link_refusal(smartcard_standing: str) -> str | None:
    """Why a person may not link the app: they hold a smartcard (active or blocked)."""
    return None if smartcard_standing == "none" else "app_smartcard_exclusive"


def may_renew_smartcard(not_after, now, session_means: str) -> bool:
    """Whether a card's certificate may be renewed now, from this session."""
    return session_means == "smartcard" and now >= not_after - SMARTCARD_RENEWAL_WINDOW


# --- Single sign-on: Zorgsleutel as an OpenID Connect provider (docs/oidc.md) --------------------
# An authorization code is exchanged once, within this time (RFC 6749 4.1.2: at most 10 minutes);
# a second exchange is refused and revokes the tokens of the first.
OIDC_CODE_TTL = timedelta(seconds=60)
# The access token answers the userinfo endpoint this long; the ID token says it holds this long.
OIDC_ACCESS_TOKEN_TTL = timedelta(minutes=10)
OIDC_ID_TOKEN_TTL = timedelta(minutes=10)
# Refresh tokens (oidc/validator.py, docs/oidc.md "Refresh tokens"): each is exchanged once
# (rotation) and only within REFRESH_TOKEN_TTL of being issued: an application idle longer than
# a Zorgsleutel session may be (SESSION_IDLE_TIMEOUT) has to send the person through again. No
# refresh, however often, carries a sign-in past REFRESH_FAMILY_TTL after the person logged in
# (auth_time): the absolute lifetime of the Zorgsleutel session it came from. OIDC_SIGN_IN_KEPT
# must not be shorter (a family is found through its sign-in).
OIDC_REFRESH_TOKEN_TTL = timedelta(minutes=30)
OIDC_REFRESH_FAMILY_TTL = timedelta(hours=12)
# How long relying parties may cache the key set (JWKS Cache-Control max-age).
OIDC_JWKS_MAX_AGE = timedelta(hours=1)
# Signing keys (oidc/keys.py, `zorgsleutel oidc rotate-keys`, run daily): a key signs for
# ROTATE_EVERY; its successor is published PUBLISH_AHEAD before it signs (more than the JWKS
# max-age, so every relying party's cache holds it by then); a replaced key stays published
# KEEP_RETIRED (more than an ID token's lifetime plus the JWKS max-age), then it goes.
OIDC_KEY_ROTATE_EVERY = timedelta(days=90)
OIDC_KEY_PUBLISH_AHEAD = timedelta(days=2)
OIDC_KEY_KEEP_RETIRED = timedelta(days=2)
OIDC_RSA_KEY_BITS = 2048
# The `acr` claim: our assurance levels as eIDAS levels of assurance (the short names are ours).
ACR_URIS = {
    "low": "http://eidas.europa.eu/LoA/low",
    "substantial": "http://eidas.europa.eu/LoA/substantial",
    "high": "http://eidas.europa.eu/LoA/high",
}
# A client registers at most this many redirect URIs, each compared character for character.
OIDC_REDIRECT_URIS_MAX = 10
# Sign-ins (which session's login gave which application a person) are kept this long after
# their code was issued, then purged: the absolute session lifetime, so that a session that
# ends can still find every application it signed in to.
OIDC_SIGN_IN_KEPT = SESSION_ABSOLUTE_TIMEOUT
# The consent page (oidc/consent.py) binds its answer to the request it showed by a ticket in
# the session: single use, valid this long (a person reading what an application receives), at
# most this many at once per session (a few tabs), the oldest dropped first.
OIDC_CONSENT_TICKET_TTL = timedelta(minutes=15)
OIDC_CONSENT_TICKETS_MAX = 5
# An application's logo (shown on its consent page): an uploaded PNG or JPEG of at most
# LOGO_MAX_BYTES and LOGO_MAX_SIDE pixels a side, re-encoded by the portal as a PNG of at most
# LOGO_SIDE pixels a side (no metadata, nothing of the upload kept as sent).
OIDC_LOGO_MAX_BYTES = 200 * 1024
OIDC_LOGO_MAX_SIDE = 2048
OIDC_LOGO_SIDE = 128
# private_key_jwt (oidc/assertions.py, OpenID Connect Core 9, RFC 7523): a client registers at
# most JWKS_KEYS_MAX public keys (two let it roll one over), RSA of at least RSA_MIN_BITS or EC
# P-256. Its assertion's `exp` lies at most ASSERTION_MAX_AHEAD after now (the `jti` is kept
# until `exp` to refuse a second use: a short life keeps that table small and a stolen
# assertion worthless soon); `iat` and `nbf` may lie at most ASSERTION_LEEWAY ahead (the
# application's clock runs a little fast).
OIDC_CLIENT_JWKS_KEYS_MAX = 5
OIDC_CLIENT_RSA_MIN_BITS = 2048
OIDC_CLIENT_ASSERTION_MAX_AHEAD = timedelta(minutes=5)
OIDC_CLIENT_ASSERTION_LEEWAY = timedelta(seconds=30)
# Back-Channel Logout 1.0 (oidc/backchannel.py). A logout token is valid this long after it is
# made (at each attempt: a retry never sends a stale one); the POST to the application waits at
# most CONNECT seconds for the connection and READ for the answer, follows no redirect, and is
# tried MAX_ATTEMPTS times, waiting RETRY_BACKOFF between attempts (then given up, audited as
# `sso.logout_failed`; the application's own session lifetime is the last line).
OIDC_LOGOUT_TOKEN_TTL = timedelta(minutes=2)
OIDC_LOGOUT_CONNECT_TIMEOUT = 3.0  # seconds
OIDC_LOGOUT_READ_TIMEOUT = 5.0  # seconds
OIDC_LOGOUT_MAX_ATTEMPTS = 6
OIDC_LOGOUT_RETRY_BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)


# A delivery that is done (sent, or given up as failed) stays this long after it was written, for
# support questions ("the application did not log me out"), then `zorgsleutel purge` deletes
# it; the audit log keeps `sso.logout_sent` and `sso.logout_failed`. A pending or sending one
# is never purged (its last retry comes within two hours; requeue_stranded picks up the rest).
OIDC_LOGOUT_DELIVERIES_KEPT = timedelta(days=30)


def logout_retry_delay(attempt: int) -> timedelta:
    """Wait before back-channel logout attempt `attempt + 1`, after `attempt` failed ones."""
    index = min(max(attempt, 1), len(OIDC_LOGOUT_RETRY_BACKOFF)) - 1
    return OIDC_LOGOUT_RETRY_BACKOFF[index]


def sso_refusal(membership, client_organisations: set[int]) -> str | None:
    """Why a single sign-on application may not receive this person acting for this
    membership's organisation, or None: tenancy (docs/oidc.md, "Tenancy"). The application
    must be registered for the organisation, the membership accepted and active, the
    organisation not suspended."""
    if membership.organisation_id not in client_organisations:
        return "sso_organisation_not_allowed"
    if membership.accepted_at is None or membership.state != MEMBERSHIP_ACTIVE:
        return "membership_blocked"
    if membership.organisation.suspended_at is not None:
        return "organisation_suspended"
    return None
