"""Portal settings: environment in, settings out. No logic beyond parsing and safety checks."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import proxies
from zorgsleutel.envconfig import (
    BASE_DIR,
    VAR_DIR,
    env_bool,
    env_database,
    env_float,
    env_int,
    env_list,
    env_str,
    load_dotenv,
    require_public_url,
    require_strong_secret,
)

load_dotenv()

PACKAGE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 (refused unless DEBUG)
DEV_VAULT_KEY = "dev-only-vault-client-key"
DEV_SMARTCARD_CA_PIN = "24681357"  # the demo's SoftHSM2 CA token (`zorgsleutel demo`)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")

# Secrets with DEBUG off: not the development value, at least this long, not "a" * 50. SECRET_KEY
# as Django's own check (security.W009) asks; it also derives the key of the app secrets.
SECRET_KEY_MIN_LENGTH = 50
VAULT_CLIENT_KEY_MIN_LENGTH = 32

if not DEBUG:
    require_strong_secret(
        "SECRET_KEY", SECRET_KEY, min_length=SECRET_KEY_MIN_LENGTH, development=DEV_SECRET_KEY
    )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")

INSTALLED_APPS = [
    # First, so its commands replace Django's changepassword and createsuperuser.
    "zorgsleutel.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "zorgsleutel.core",
    "zorgsleutel.authn",
    "zorgsleutel.organisations",
    "zorgsleutel.messaging",
    "zorgsleutel.mobileapp",
    "zorgsleutel.uzi",
    "zorgsleutel.cards",
    "zorgsleutel.smartcards",
    "oauth2_provider",
    "zorgsleutel.oidc",
    "zorgsleutel.web",
]
# Interactive API docs (Swagger UI, zorgsleutel/api.py) in development only, served from
# django-ninja's static files (the "ninja" app) so they work under the CSP.
API_DOCS = DEBUG
if DEBUG:
    INSTALLED_APPS.append("zorgsleutel.devtools")
if API_DOCS:
    INSTALLED_APPS.append("ninja")

MIDDLEWARE = [
    # First: everything after it (SSL redirect, HSTS, CSRF) asks request.is_secure().
    "zorgsleutel.core.middleware.ForwardedProtoMiddleware",
    "zorgsleutel.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "zorgsleutel.core.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "zorgsleutel.core.middleware.RequestContextMiddleware",
    "zorgsleutel.authn.sessions.SessionTimeoutMiddleware",
    "zorgsleutel.authn.sessions.AssuranceMiddleware",
    # A page that may lead on to an application: its origin in form-action (oidc/formaction.py).
    "zorgsleutel.oidc.formaction.FormActionMiddleware",
    # Last: with DEBUG, a missing page is our 404 page, not Django's URL list (web/notfound.py).
    "zorgsleutel.web.notfound.NotFoundPageMiddleware",
]
# Where the password login lives (authn) and where a login lands (Mijn Zorgsleutel, accounts):
# code below or beside them names these settings, never the URL names (docs/architecture.md).
LOGIN_URL = "authn:login"
LOGIN_REDIRECT_URL = "accounts:home"
# Where a login lands by role (policies.landing, authn/landing.py): the Operatorconsole, an
# organisation's Aan de slag (its URL takes the organisation's public id), Mijn Zorgsleutel.
LANDING_URLS = {
    "console": "console:applications",
    "next_steps": "web:next_steps",
    "home": LOGIN_REDIRECT_URL,
}
# Sessions' people come with their memberships in one query; passwords are checked only by the
# login flows, never by django.contrib.auth.authenticate() (authn/backends.py).
AUTHENTICATION_BACKENDS = ["zorgsleutel.authn.backends.PersonBackend"]

ROOT_URLCONF = "zorgsleutel.urls"
# Form widgets through Django's Jinja2 renderer and its own widget templates (shipped with
# Django, autoescaping on): the same markup as the Django-template renderer, a third of its
# CPU (docs/benchmarks.md; tests/web/test_form_renderer.py compares the two). Each field is an
# NL Design System form field (web/forms.py, web/jinja2/zorgsleutel/field.html).
FORM_RENDERER = "zorgsleutel.web.forms.FormRenderer"
WSGI_APPLICATION = "zorgsleutel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zorgsleutel.web.context.site",
            ],
        },
    },
]

# A reused connection is pinged at the start of each request (one round-trip) unless this is off:
# `zorgsleutel smartcard-ca serve` turns it off (the ping cost a third of an OCSP answer on
# PostgreSQL), as the vault does; a dead connection then fails one request, and is closed after it.
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        VAR_DIR / "portal.sqlite3",
        health_checks=env_bool("DATABASE_HEALTH_CHECKS", True),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "zs"),
        }
    }
else:
    # The database cache is shared by every process, so rate limits hold across workers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "zorgsleutel_cache",
            # Rate-limit counters and QR approvals must not be culled at Django's default 300
            # entries; expired rows are removed as they are found.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
# Django's database sessions (cached in front when the cache is Redis), written once per change
# (authn/sessionstore.py): logout deletes the row, so a copied cookie dies with it (signed
# cookies could not do that, docs/accounts.md).
SESSION_ENGINE = "zorgsleutel.authn.sessionstore"

# Argon2id at OWASP parameters first; PBKDF2 (and friends) accepted for imported hashes and
# upgraded to Argon2id on the next successful login (Django re-hashes with the first hasher).
PASSWORD_HASHERS = [
    "zorgsleutel.core.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "zorgsleutel.core.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": policies.PASSWORD_MIN_LENGTH},
    },
    # Django's CommonPasswordValidator's list is part of ours (core/blocklist/).
    {"NAME": "zorgsleutel.core.passwords.GuessablePasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Bodies bigger than this are refused with 413 before anything reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Security headers. CSP has no 'unsafe-inline': every script and style is a static file.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "zs_session"
# A browser-session cookie (no Max-Age/Expires): closing the browser on a shared ward PC ends the
# login. The server ends sessions itself (authn/sessions.py: idle and absolute timeouts); the
# stored row expires with the absolute timeout, so the purge job removes abandoned ones.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = int(policies.SESSION_ABSOLUTE_TIMEOUT.total_seconds())
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 63072000)  # 2 years, as nginx sent before
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Our reverse proxies, as socket peers (REMOTE_ADDR): their X-Forwarded-For gives the client IP
# for audit events and rate limits (core.requestcontext: exact addresses), and, with
# BEHIND_TLS_PROXY, their X-Forwarded-Proto the scheme (core.middleware.ForwardedProtoMiddleware).
# No SECURE_PROXY_SSL_HEADER: Django would believe that header from any peer.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", True)
proxies.networks(TRUSTED_PROXIES, setting="TRUSTED_PROXIES")  # a typo stops the start

# Outgoing mail: outbox rows delivered by the worker over SMTP (EMAIL_URL).
EMAIL_URL = env_str("EMAIL_URL", "")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Zorgsleutel <noreply@zorgsleutel.test>")
# The portal's public address: links in mail, QR codes, and the OpenID Connect issuer (oidc/).
# With DEBUG off it must be given, and be the same on every portal node and the worker; in
# development it defaults to this process's own port.
SITE_URL = env_str("SITE_URL", "" if not DEBUG else f"http://127.0.0.1:{env_int('PORT', 8000)}")
if not DEBUG:
    require_public_url("SITE_URL", SITE_URL)
SITE_NAME = "Zorgsleutel"
# Where mail for the operators goes (a new blank-card order): their team's shared mailbox. Empty:
# each active operator account's own address (docs/smartcards.md, "Blank cards").
OPERATOR_EMAIL = env_str("OPERATOR_EMAIL", "operators@zorgsleutel.test" if DEBUG else "")

# Mail transport for the worker: "smtp" from EMAIL_URL, or "outbox" (development: the mail stays
# in the outbox and shows in the dev mailbox). Chosen like Django's STORAGES.
MAIL_TRANSPORTS = {
    "default": {
        "BACKEND": (
            "zorgsleutel.messaging.transports.SmtpTransport"
            if EMAIL_URL
            else "zorgsleutel.messaging.transports.DevOutboxTransport"
        ),
        "OPTIONS": {"url": EMAIL_URL},
    }
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail"],
    }
}

# The vault is a separate service, reached only through zorgsleutel.vaultclient.
VAULT_URL = env_str("VAULT_URL", f"http://127.0.0.1:{env_int('VAULT_PORT', 8001)}")
VAULT_CLIENT_ID = env_str("VAULT_CLIENT_ID", "portal")
VAULT_CLIENT_KEY = env_str("VAULT_CLIENT_KEY", DEV_VAULT_KEY if DEBUG else "")
VAULT_TIMEOUT_SECONDS = env_float("VAULT_TIMEOUT_SECONDS", 5.0)
if not DEBUG:
    require_strong_secret(
        "VAULT_CLIENT_KEY",
        VAULT_CLIENT_KEY,
        min_length=VAULT_CLIENT_KEY_MIN_LENGTH,
        development=DEV_VAULT_KEY,
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # oauthlib logs authorization codes at DEBUG ("Saving grant {'code': ...}"): never below
    # WARNING, whatever LOG_LEVEL says (tests/oidc/test_attacks.py).
    "loggers": {"django.db.backends": {"level": "WARNING"}, "oauthlib": {"level": "WARNING"}},
}

BASE_DIR = BASE_DIR
VAR_DIR = VAR_DIR

# UZI cards (docs/uzi.md). Trust anchors and CA certificates, PEM or DER files in one folder:
# self-signed certificates are the anchors, the others are intermediates. Production: the Staat der
# Nederlanden roots and the UZI-register CAs; development and tests: a TEST hierarchy.
UZI_TRUST_DIR = Path(env_str("UZI_TRUST_DIR", str(VAR_DIR / "uzi" / "trust")))
# Accepted certificate policy OIDs (prefixes) of authentication certificates; empty = the defaults
# in zorgsleutel.uzi.
UZI_POLICY_OIDS = env_list("UZI_POLICY_OIDS")
UZI_CHECK_CRL = env_bool("UZI_CHECK_CRL", False)
UZI_OCSP = env_bool("UZI_OCSP", False)
# A TLS client certificate is read from this header only when the request comes from one of these
# addresses (the reverse proxy, see deploy/nginx); the portal verifies the chain again itself.
UZI_TRUSTED_PROXIES = env_list("UZI_TRUSTED_PROXIES")
proxies.networks(UZI_TRUSTED_PROXIES, setting="UZI_TRUSTED_PROXIES")
UZI_CLIENT_CERT_HEADER = env_str("UZI_CLIENT_CERT_HEADER", "X-SSL-Client-Cert")
# Where the reverse proxy asks for the client certificate (e.g. https://uzi.example.nl); empty =
# the pages offer only the card client.
UZI_TLS_URL = env_str("UZI_TLS_URL", "")

# The smartcard CA (docs/smartcards.md): its keys in a PKCS#11 token (SoftHSM2 in development and
# the demo, `zorgsleutel smartcard-ca init`; an HSM in production: its module, label and PIN), its
# certificates as PEM (root.pem, issuing.pem) in SMARTCARD_CA_DIR. Without a PIN the
# portal issues no smartcards and signs no status (the pages say so; OCSP and CRL answer 503).
SMARTCARD_CA_DIR = Path(env_str("SMARTCARD_CA_DIR", str(VAR_DIR / "smartcard-ca")))
# Where the card certificates say relying parties find OCSP, the CRL and the CA certificate (AIA,
# CRL distribution point). Plain HTTP, as RFC 5280 4.2.1.13 and 4.2.2.1 ask (the answers are
# signed; fetching them over TLS would need the status TLS is checking); the shipped nginx answers
# these addresses on port 80. Default: SITE_URL with http. Certificates keep what they were
# issued with: change it before the first card.
SMARTCARD_STATUS_URL = env_str("SMARTCARD_STATUS_URL", re.sub(r"^https://", "http://", SITE_URL))
SMARTCARD_CA_MODULE = env_str("SMARTCARD_CA_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
SMARTCARD_CA_TOKEN = env_str("SMARTCARD_CA_TOKEN", "Zorgsleutel smartcard CA")
SMARTCARD_CA_PIN = env_str("SMARTCARD_CA_PIN", DEV_SMARTCARD_CA_PIN if DEBUG else "")

# Single sign-on: Zorgsleutel as an OpenID Connect provider (docs/oidc.md), on
# django-oauth-toolkit. The issuer is SITE_URL (oidc/validator.py reads it at run time). What
# a relying party may ask is narrowed here and again in oidc/: the authorization code flow
# only (oidc/server.py knows no other grant), PKCE with S256, exact redirect URIs, tokens
# stored as hashes. The lifetimes are policies.
# Plain-http redirect URIs to this machine (127.0.0.1, [::1], localhost): development's demo
# relying party and the tests' only (oidc/clients.py); production's are https.
OIDC_LOOPBACK_HTTP_REDIRECTS = DEBUG
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OAUTH2_SERVER_CLASS": "zorgsleutel.oidc.server.Server",
    "OAUTH2_VALIDATOR_CLASS": "zorgsleutel.oidc.validator.Validator",
    "SCOPES": {
        "openid": "Log in with Zorgsleutel",
        "profile": "Your name",
        "email": "Your e-mail address",
        "roles": "Your role and application roles in the organisation",
        "dezi": "The UZI card you logged in with (Dezi claims)",
    },
    "DEFAULT_SCOPES": ["openid"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": int(policies.OIDC_CODE_TTL.total_seconds()),
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(policies.OIDC_ACCESS_TOKEN_TTL.total_seconds()),
    "ID_TOKEN_EXPIRE_SECONDS": int(policies.OIDC_ID_TOKEN_TTL.total_seconds()),
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"]
    if OIDC_LOOPBACK_HTTP_REDIRECTS
    else ["https"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise", "public"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
    # RFC 9700 (OAuth 2.0 Security BCP): every gate on. The `iss` authorization-response
    # parameter (RFC 9207) is added by oidc/authorize.py, on errors too, from SITE_URL.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": False,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Refresh tokens rotate at every use and a replayed one revokes its family: the validator
    # does it (oidc/validator.py, families.py); said here too, so the deploy checks see it.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
}
# django-oauth-toolkit's deploy checks: W005 asks for its own `iss` parameter, which oidc/ adds
# itself (above); W008 is development's loopback http redirect URIs.
# The toolkit's models, named (they are swappable; oidc/models.py refers to two of them, which
# makes Django ask for these settings).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W005", "oauth2_provider.W008"]
