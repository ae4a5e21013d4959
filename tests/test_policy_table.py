"""Every rule of policies.py (and the vault's), written out once: documentation a reviewer can
read next to the seeds. This table alone pins nothing: each rule also has a behaviour test that
fails when the rule changes (docs/policy-pins.md names them; scripts/mutate-policies leaves
this file out when it looks for them)."""

from __future__ import annotations

from datetime import timedelta

from zorgsleutel import policies

A, M, W = "administrator", "manager", "member"


def test_the_portal_s_lifetimes_limits_and_timeouts():
    assert {
        "MAIL_MAX_ATTEMPTS": 8,
        "MAIL_RETRY_BACKOFF": (
            timedelta(seconds=30),
            timedelta(minutes=2),
            timedelta(minutes=10),
            timedelta(minutes=30),
            timedelta(hours=1),
            timedelta(hours=3),
            timedelta(hours=6),
        ),
        "ACTIVATION_LINK_TTL": timedelta(hours=72),
        "INVITATION_LINK_TTL": timedelta(hours=72),
        "NOT_ME_LINK_TTL": timedelta(days=14),
        "PASSWORD_RESET_LINK_TTL": timedelta(minutes=60),
        "EMAIL_DOMAIN_MAX_LENGTH": 128,
        "LOGIN_FAILURE_WINDOW": timedelta(hours=1),
        "LOGIN_THROTTLES": {
            "device": {"free": 5, "base_seconds": 2, "max_seconds": 900},
            "untrusted": {"free": 10, "base_seconds": 2, "max_seconds": 900},
            "ip": {"free": 30, "base_seconds": 2, "max_seconds": 900},
        },
        "DEVICE_COOKIE_TTL": timedelta(days=365),
        "DEVICE_COOKIE_MAX_ACCOUNTS": 5,
        "PASSWORD_MIN_LENGTH": 12,
        "PASSWORD_BLOCKLIST_MIN_WORD": 4,
        "PASSWORD_MIN_DISTINCT_CHARACTERS": 5,
        "PASSWORD_MAX_PATTERN_RUNS": 2,
        "REASON_MIN_LENGTH": 5,
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=30),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=12),
        "SESSION_AUTHENTICATIONS_KEPT": 8,
        "PENDING_LOGIN_TTL": timedelta(minutes=10),
        "APP_ENROLMENT_TTL": timedelta(minutes=5),
        "APP_LOGIN_TTL": timedelta(minutes=3),
        "APP_MAX_WRONG_PINS": 3,
        "APP_POLL_INTERVAL_MS": 1000,
        "CARD_CHALLENGE_TTL": timedelta(minutes=5),
        "VALIDATION_LINK_TTL": timedelta(days=14),
        "VALIDATED_BROWSER_TTL": timedelta(minutes=30),
        "IPV6_LIMIT_PREFIX": 64,
        "PURGE_INTERVAL": timedelta(minutes=10),
        "PURGE_CHALLENGES_AFTER": timedelta(hours=1),
        "PURGE_LINK_TOKENS_AFTER": timedelta(days=30),
        "SMARTCARD_VALIDITY": timedelta(days=1095),
        "SMARTCARD_POLICY_OID": "2.999.7.1.1",
        "SMARTCARD_CRL_NEXT_UPDATE": timedelta(hours=24),
        "SMARTCARD_OCSP_NEXT_UPDATE": timedelta(hours=1),
        "SMARTCARD_ORGANISATION_KINDS": {"care_provider"},
        "SMARTCARD_REFUSED_ROLES": {"administrator", "manager"},
        "SMARTCARD_UZI_PAS_TYPES": {"Z", "N"},
        "SMARTCARD_CREATE_TTL": timedelta(minutes=10),
        "SMARTCARD_PROOF_TTL": {"in_person": timedelta(days=30), "uzi": timedelta(minutes=30)},
        "SMARTCARD_RENEWAL_WINDOW": timedelta(days=60),
        "SMARTCARD_ORDER_MAX": 500,
        "LOGIN_RETURN_TTL": timedelta(minutes=30),
        "OIDC_CODE_TTL": timedelta(seconds=60),
        "OIDC_ACCESS_TOKEN_TTL": timedelta(minutes=10),
        "OIDC_ID_TOKEN_TTL": timedelta(minutes=10),
        "OIDC_REFRESH_TOKEN_TTL": timedelta(minutes=30),
        "OIDC_REFRESH_FAMILY_TTL": timedelta(hours=12),
        "OIDC_JWKS_MAX_AGE": timedelta(hours=1),
        "OIDC_KEY_ROTATE_EVERY": timedelta(days=90),
        "OIDC_KEY_PUBLISH_AHEAD": timedelta(days=2),
        "OIDC_KEY_KEEP_RETIRED": timedelta(days=2),
        "OIDC_RSA_KEY_BITS": 2048,
        "ACR_URIS": {
            "low": "http://eidas.europa.eu/LoA/low",
            "substantial": "http://eidas.europa.eu/LoA/substantial",
            "high": "http://eidas.europa.eu/LoA/high",
        },
        "OIDC_REDIRECT_URIS_MAX": 10,
        "OIDC_SIGN_IN_KEPT": timedelta(hours=12),
        "OIDC_LOGOUT_DELIVERIES_KEPT": timedelta(days=30),
        "OIDC_CONSENT_TICKET_TTL": timedelta(minutes=15),
        "OIDC_CONSENT_TICKETS_MAX": 5,
        "OIDC_LOGO_MAX_BYTES": 200 * 1024,
        "OIDC_LOGO_MAX_SIDE": 2048,
        "OIDC_LOGO_SIDE": 128,
        "OIDC_CLIENT_JWKS_KEYS_MAX": 5,
        "OIDC_CLIENT_RSA_MIN_BITS": 2048,
        "OIDC_CLIENT_ASSERTION_MAX_AHEAD": timedelta(minutes=5),
        "OIDC_CLIENT_ASSERTION_LEEWAY": timedelta(seconds=30),
    } == {
        "MAIL_MAX_ATTEMPTS": policies.MAIL_MAX_ATTEMPTS,
        "MAIL_RETRY_BACKOFF": policies.MAIL_RETRY_BACKOFF,
        "ACTIVATION_LINK_TTL": policies.ACTIVATION_LINK_TTL,
        "INVITATION_LINK_TTL": policies.INVITATION_LINK_TTL,
        "NOT_ME_LINK_TTL": policies.NOT_ME_LINK_TTL,
        "PASSWORD_RESET_LINK_TTL": policies.PASSWORD_RESET_LINK_TTL,
        "EMAIL_DOMAIN_MAX_LENGTH": policies.EMAIL_DOMAIN_MAX_LENGTH,
        "LOGIN_FAILURE_WINDOW": policies.LOGIN_FAILURE_WINDOW,
        "LOGIN_THROTTLES": policies.LOGIN_THROTTLES,
        "DEVICE_COOKIE_TTL": policies.DEVICE_COOKIE_TTL,
        "DEVICE_COOKIE_MAX_ACCOUNTS": policies.DEVICE_COOKIE_MAX_ACCOUNTS,
        "PASSWORD_MIN_LENGTH": policies.PASSWORD_MIN_LENGTH,
        "PASSWORD_BLOCKLIST_MIN_WORD": policies.PASSWORD_BLOCKLIST_MIN_WORD,
        "PASSWORD_MIN_DISTINCT_CHARACTERS": policies.PASSWORD_MIN_DISTINCT_CHARACTERS,
        "PASSWORD_MAX_PATTERN_RUNS": policies.PASSWORD_MAX_PATTERN_RUNS,
        "REASON_MIN_LENGTH": policies.REASON_MIN_LENGTH,
        "SESSION_IDLE_TIMEOUT": policies.SESSION_IDLE_TIMEOUT,
        "SESSION_ABSOLUTE_TIMEOUT": policies.SESSION_ABSOLUTE_TIMEOUT,
        "SESSION_AUTHENTICATIONS_KEPT": policies.SESSION_AUTHENTICATIONS_KEPT,
        "PENDING_LOGIN_TTL": policies.PENDING_LOGIN_TTL,
        "APP_ENROLMENT_TTL": policies.APP_ENROLMENT_TTL,
        "APP_LOGIN_TTL": policies.APP_LOGIN_TTL,
        "APP_MAX_WRONG_PINS": policies.APP_MAX_WRONG_PINS,
        "APP_POLL_INTERVAL_MS": policies.APP_POLL_INTERVAL_MS,
        "CARD_CHALLENGE_TTL": policies.CARD_CHALLENGE_TTL,
        "VALIDATION_LINK_TTL": policies.VALIDATION_LINK_TTL,
        "VALIDATED_BROWSER_TTL": policies.VALIDATED_BROWSER_TTL,
        "IPV6_LIMIT_PREFIX": policies.IPV6_LIMIT_PREFIX,
        "PURGE_INTERVAL": policies.PURGE_INTERVAL,
        "PURGE_CHALLENGES_AFTER": policies.PURGE_CHALLENGES_AFTER,
        "PURGE_LINK_TOKENS_AFTER": policies.PURGE_LINK_TOKENS_AFTER,
        "SMARTCARD_VALIDITY": policies.SMARTCARD_VALIDITY,
        "SMARTCARD_POLICY_OID": policies.SMARTCARD_POLICY_OID,
        "SMARTCARD_CRL_NEXT_UPDATE": policies.SMARTCARD_CRL_NEXT_UPDATE,
        "SMARTCARD_OCSP_NEXT_UPDATE": policies.SMARTCARD_OCSP_NEXT_UPDATE,
        "SMARTCARD_ORGANISATION_KINDS": policies.SMARTCARD_ORGANISATION_KINDS,
        "SMARTCARD_REFUSED_ROLES": policies.SMARTCARD_REFUSED_ROLES,
        "SMARTCARD_UZI_PAS_TYPES": policies.SMARTCARD_UZI_PAS_TYPES,
        "SMARTCARD_CREATE_TTL": policies.SMARTCARD_CREATE_TTL,
        "SMARTCARD_PROOF_TTL": policies.SMARTCARD_PROOF_TTL,
        "SMARTCARD_RENEWAL_WINDOW": policies.SMARTCARD_RENEWAL_WINDOW,
        "SMARTCARD_ORDER_MAX": policies.SMARTCARD_ORDER_MAX,
        "LOGIN_RETURN_TTL": policies.LOGIN_RETURN_TTL,
        "OIDC_CODE_TTL": policies.OIDC_CODE_TTL,
        "OIDC_ACCESS_TOKEN_TTL": policies.OIDC_ACCESS_TOKEN_TTL,
        "OIDC_ID_TOKEN_TTL": policies.OIDC_ID_TOKEN_TTL,
        "OIDC_REFRESH_TOKEN_TTL": policies.OIDC_REFRESH_TOKEN_TTL,
        "OIDC_REFRESH_FAMILY_TTL": policies.OIDC_REFRESH_FAMILY_TTL,
        "OIDC_JWKS_MAX_AGE": policies.OIDC_JWKS_MAX_AGE,
        "OIDC_KEY_ROTATE_EVERY": policies.OIDC_KEY_ROTATE_EVERY,
        "OIDC_KEY_PUBLISH_AHEAD": policies.OIDC_KEY_PUBLISH_AHEAD,
        "OIDC_KEY_KEEP_RETIRED": policies.OIDC_KEY_KEEP_RETIRED,
        "OIDC_RSA_KEY_BITS": policies.OIDC_RSA_KEY_BITS,
        "ACR_URIS": policies.ACR_URIS,
        "OIDC_REDIRECT_URIS_MAX": policies.OIDC_REDIRECT_URIS_MAX,
        "OIDC_SIGN_IN_KEPT": policies.OIDC_SIGN_IN_KEPT,
        "OIDC_LOGOUT_DELIVERIES_KEPT": policies.OIDC_LOGOUT_DELIVERIES_KEPT,
        "OIDC_CONSENT_TICKET_TTL": policies.OIDC_CONSENT_TICKET_TTL,
        "OIDC_CONSENT_TICKETS_MAX": policies.OIDC_CONSENT_TICKETS_MAX,
        "OIDC_LOGO_MAX_BYTES": policies.OIDC_LOGO_MAX_BYTES,
        "OIDC_LOGO_MAX_SIDE": policies.OIDC_LOGO_MAX_SIDE,
        "OIDC_LOGO_SIDE": policies.OIDC_LOGO_SIDE,
        "OIDC_CLIENT_JWKS_KEYS_MAX": policies.OIDC_CLIENT_JWKS_KEYS_MAX,
        "OIDC_CLIENT_RSA_MIN_BITS": policies.OIDC_CLIENT_RSA_MIN_BITS,
        "OIDC_CLIENT_ASSERTION_MAX_AHEAD": policies.OIDC_CLIENT_ASSERTION_MAX_AHEAD,
        "OIDC_CLIENT_ASSERTION_LEEWAY": policies.OIDC_CLIENT_ASSERTION_LEEWAY,
    }


def test_the_rate_limits():
    assert policies.RATE_LIMITS == {
        "password_reset.request": "20/h/ip",
        "password_reset.mail": "3/h/email",
        "sms.send": "3/h/link,5/h/account,20/h/ip",
        "invitation.resend": "3/h/membership,30/h/user",
        "app.login_page": "60/m/ip",
        "app.request": "120/m/ip",
        "app.enrol": "20/m/ip",
        "app.answer": "10/m/device",
        "card.request": "60/m/ip",
        "card.answer": "5/m/challenge",
        "smartcard.login_page": "60/m/ip",
        "smartcard.qr": "60/m/ip",
        "sso.login": "120/m/ip",
        "application.submit": "10/h/ip,3/h/recipient,10/d/recipient",
    }


def test_who_may_do_what():
    assert {
        "members.view": {A, M},
        "members.create": {A, M},
        "members.resend_activation": {A, M},
        "members.block": {A, M},
        "members.unblock": {A, M},
        "members.delete": {A, M},
        "managers.appoint": {A},
        "audit.view": {A},
        "apps.block": {A, M},
        "apps.unblock": {A, M},
        "apps.delete": {A, M},
        "apps.relink": {A, M},
        "smartcards.block": {A, M},
        "smartcards.unblock": {A, M},
        "smartcards.delete": {A, M},
        "smartcards.confirm_identity": {A, M},
        "smartcards.order": {A},
        "organisation.next_steps": {A},
        "sso_clients.register": {A},
    } == policies.PERMISSIONS
    assert {A: {A, M, W}, M: {W}, W: set()} == policies.ROLE_GRANTS
    # What a role change takes away (Beheer asks first when it takes anything).
    assert {
        (old, new): policies.lost_permissions(old, new) for old in (A, M, W) for new in (A, M, W)
    } == {
        (A, A): [],
        (A, M): [
            "managers.appoint",
            "audit.view",
            "smartcards.order",
            "organisation.next_steps",
            "sso_clients.register",
        ],
        (A, W): [
            "members.view",
            "members.create",
            "members.resend_activation",
            "members.block",
            "members.unblock",
            "members.delete",
            "managers.appoint",
            "audit.view",
            "apps.block",
            "apps.unblock",
            "apps.delete",
            "apps.relink",
            "smartcards.block",
            "smartcards.unblock",
            "smartcards.delete",
            "smartcards.confirm_identity",
            "smartcards.order",
            "organisation.next_steps",
            "sso_clients.register",
        ],
        (M, A): [],
        (M, M): [],
        (M, W): [
            "members.view",
            "members.create",
            "members.resend_activation",
            "members.block",
            "members.unblock",
            "members.delete",
            "apps.block",
            "apps.unblock",
            "apps.delete",
            "apps.relink",
            "smartcards.block",
            "smartcards.unblock",
            "smartcards.delete",
            "smartcards.confirm_identity",
        ],
        (W, A): [],
        (W, M): [],
        (W, W): [],
    }
    assert {
        "organisations.create_business",
        "applications.review",
        "organisations.suspend",
        "audit.platform",
        "card_orders.handle",
        "sso_clients.manage",
    } == policies.OPERATOR_PERMISSIONS
    assert {"care_provider": {A, M}, "business": set()} == policies.APP_REQUIRED_ROLES
    assert policies.ASSURANCE_ORDER == {"": 0, "low": 1, "substantial": 2, "high": 3}
    assert policies.WEAKER_MEANS_REFUSALS == {
        ("app", "active"): "app_required",
        ("app", "held"): "app_held",
        ("smartcard", "active"): "smartcard_required",
        ("smartcard", "held"): "smartcard_held",
    }
    assert {"Z", "N"} == policies.VALIDATION_PAS_TYPES
    assert {"gmail.com", "hotmail.nl", "ziggo.nl", "xs4all.nl"} <= policies.CONSUMER_EMAIL_DOMAINS
    assert len(policies.CONSUMER_EMAIL_DOMAINS) == 33


def test_where_a_login_lands():
    """Without a page to return to: operators on the console, an administrator setting up an
    organisation on its Aan de slag, everyone else on Mijn Zorgsleutel."""
    assert {
        (operator, setting_up): policies.landing(is_operator=operator, setting_up=setting_up)
        for operator in (True, False)
        for setting_up in (True, False)
    } == {
        (True, True): "console",
        (True, False): "console",
        (False, True): "next_steps",
        (False, False): "home",
    }


class _Membership:
    def __init__(self, role, state="active", suspended=False):
        self.role, self.state = role, state
        self.organisation = type("Org", (), {"suspended_at": "then" if suspended else None})()


def test_who_is_setting_up_an_organisation():
    """An active administrator of an organisation (not suspended) with nobody in another role:
    (role, membership state, suspended, the organisation's roles) → setting up."""
    cases = {
        (A, "active", False, frozenset({A})): True,
        (A, "active", False, frozenset({A, M})): False,
        (A, "active", False, frozenset({A, W})): False,
        (A, "active", True, frozenset({A})): False,
        (A, "blocked", False, frozenset({A})): False,
        (A, "invited", False, frozenset({A})): False,
        (M, "active", False, frozenset({M})): False,
        (W, "active", False, frozenset({W})): False,
    }
    assert {
        case: policies.setting_up(_Membership(case[0], case[1], case[2]), set(case[3]))
        for case in cases
    } == cases


def test_the_vault_s_rules():
    from zorgsleutel.vault import policies as vault

    assert {
        "CODE_DIGITS": 6,
        "CODE_TTL": timedelta(minutes=5),
        "CODE_MAX_ATTEMPTS": 5,
        "RESEND_AFTER": timedelta(seconds=30),
        "CAP_WINDOW": timedelta(hours=1),
        "SMS_PER_ENROLMENT_PER_HOUR": 5,
        "SMS_UNCONFIRMED_PER_NUMBER_PER_HOUR": 3,
        "SMS_PER_NUMBER_PER_HOUR": 10,
        "NOTICE_KINDS": ("credentials_changed", "authenticator_linked"),
        "PENDING_ENROLMENT_TTL": timedelta(hours=24),
        "REQUEST_MAX_SKEW": timedelta(seconds=60),
        "NONCE_RETENTION": timedelta(seconds=120),
        "MAX_BODY_BYTES": 16 * 1024,
        "MAX_JSON_DEPTH": 32,
        "MIN_CLIENT_KEY_CHARS": 32,
        "DEV_OUTBOX_LIMIT": 200,
    } == {
        "CODE_DIGITS": vault.CODE_DIGITS,
        "CODE_TTL": vault.CODE_TTL,
        "CODE_MAX_ATTEMPTS": vault.CODE_MAX_ATTEMPTS,
        "RESEND_AFTER": vault.RESEND_AFTER,
        "CAP_WINDOW": vault.CAP_WINDOW,
        "SMS_PER_ENROLMENT_PER_HOUR": vault.SMS_PER_ENROLMENT_PER_HOUR,
        "SMS_UNCONFIRMED_PER_NUMBER_PER_HOUR": vault.SMS_UNCONFIRMED_PER_NUMBER_PER_HOUR,
        "SMS_PER_NUMBER_PER_HOUR": vault.SMS_PER_NUMBER_PER_HOUR,
        "NOTICE_KINDS": vault.NOTICE_KINDS,
        "PENDING_ENROLMENT_TTL": vault.PENDING_ENROLMENT_TTL,
        "REQUEST_MAX_SKEW": vault.REQUEST_MAX_SKEW,
        "NONCE_RETENTION": vault.NONCE_RETENTION,
        "MAX_BODY_BYTES": vault.MAX_BODY_BYTES,
        "MAX_JSON_DEPTH": vault.MAX_JSON_DEPTH,
        "MIN_CLIENT_KEY_CHARS": vault.MIN_CLIENT_KEY_CHARS,
        "DEV_OUTBOX_LIMIT": vault.DEV_OUTBOX_LIMIT,
    }
