"""Every audit event type: its name, the detail fields it may carry, and who reads it.

The names are stored in the database and shown in the logs as they are, so a name never
changes once events carry it. `audit.record()` refuses a name that is not here, a detail field
its type does not list, and an organisation on an event only operators read (see `check`).

Who reads what:
- operators (the platform log, `/operator/audit`) read every event;
- an organisation's administrators (`/beheer/<org>/audit`, permission `audit.view` in
  `policies.py`) read the events of a type marked ORGANISATION that were recorded for their
  organisation. An event about a person goes to every organisation where that person accepted
  a membership (`people.personevents`), never to one that only invited the address.

Besides the fields listed, every event recorded for an organisation may carry `names`: the
e-mail addresses of the people it names whom that organisation knows (policies.known_to),
written by core/audit.py alone (a caller passing it is refused like any unlisted field).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

OPERATOR, ADMINISTRATOR = "operator", "administrator"
NAMES = "names"  # {"user:<uuid>": e-mail}: see the docstring
PLATFORM = frozenset({OPERATOR})
ORGANISATION = frozenset({OPERATOR, ADMINISTRATOR})

# What the audit log keeps of a presented card (cards/verification.summary) and of its challenge.
_CARD = {"purpose", "subject", "means", "uzi_number", "ura", "pas_type", "role", "certificate"}

# name                               readers        detail fields it may carry
_TABLE: tuple[tuple[str, frozenset[str], set[str]], ...] = (
    # --- Login with password + SMS code -------------------------------------------------------
    ("login.throttled",                 PLATFORM,      {"wait"}),
    ("login.password_failed",           ORGANISATION,  set()),  # anonymous for unknown addresses
    ("login.refused",                   ORGANISATION,  {"state", "reason"}),
    ("login.code_sent",                 PLATFORM,      {"hint"}),
    ("login.code_resent",               PLATFORM,      set()),
    ("login.code_failed",               ORGANISATION,  {"result"}),
    ("login.succeeded",                 ORGANISATION,  {"acr", "amr", "means"}),  # every means
    ("logout.succeeded",                ORGANISATION,  set()),  # Uitloggen (/oidc/logout: sso.)
    ("sms.send_refused",                PLATFORM,      {"limits"}),
    # core/ratelimit.consume: the first refusal of a limit's window (action, the keys over it).
    ("ratelimit.refused",               PLATFORM,      {"action", "limits"}),
    # --- Zorgsleutel app ----------------------------------------------------------------------
    ("app.enrolment_started",           PLATFORM,      set()),
    ("app.enrolment_refused",           ORGANISATION,  {"reason"}),
    ("app.enrolled",                    ORGANISATION,  {"name", "waiting"}),
    ("app.bad_signature",               ORGANISATION,  set()),
    ("app.wrong_pin",                   ORGANISATION,  {"left"}),
    ("app.login_approved",              ORGANISATION,  set()),
    ("app.login_refused",               ORGANISATION,  {"reason"}),
    ("app.revoked",                     ORGANISATION,  {"reason"}),  # by its owner
    ("app.revoke_refused",              ORGANISATION,  {"reason"}),  # not the owner's app ID
    ("app.blocked",                     ORGANISATION,  set()),  # by the organisation (beheer)
    ("app.unblocked",                   ORGANISATION,  set()),
    ("app.deleted",                     ORGANISATION,  set()),
    ("app.released",                    ORGANISATION,  set()),
    # --- Cards presented (UZI card, smartcard) ------------------------------------------------
    ("card.accepted",                   PLATFORM,      _CARD),
    ("card.refused",                    PLATFORM,      _CARD | {"error"}),
    ("card.forged_header",              PLATFORM,      {"peer", "challenge"}),
    # The TLS path's held certificate claimed by a browser that did not start the challenge.
    ("card.other_browser",              PLATFORM,      {"challenge"}),
    # --- Zorgsleutel smartcards (smartcards/) -------------------------------------------------
    ("smartcard.identity_confirmed",    ORGANISATION,  {"method"}),  # in person, or UZI card
    ("uzi.bound",                       ORGANISATION,  {"uzi_number"}),
    ("smartcard.issued",                ORGANISATION,  {"serial", "fingerprint", "route",
                                                        "card_serial"}),
    ("smartcard.renewed",               ORGANISATION,  {"serial", "fingerprint", "renews"}),
    ("smartcard.blocked",               ORGANISATION,  {"serial"}),
    ("smartcard.unblocked",             ORGANISATION,  {"serial"}),
    ("smartcard.deleted",               ORGANISATION,  {"serial"}),
    ("smartcard.reported_lost",         ORGANISATION,  {"serial", "reason"}),
    # A process's OCSP responder certified by the issuing CA (smartcards/responder.py).
    ("smartcard.responder_certified",   PLATFORM,      {"serial", "fingerprint", "not_after"}),
    # --- A person's own account: activation, reset, Dit was ik niet ---------------------------
    ("account.setup_code_sent",         PLATFORM,      {"purpose", "hint"}),
    ("account.setup_code_wrong",        PLATFORM,      {"result"}),
    ("account.activated",               PLATFORM,      {"hint"}),
    ("account.credentials_reset",       PLATFORM,      {"hint"}),
    ("account.reported_not_me",         ORGANISATION,  {"membership", "removed", "reason"}),
    # The platform's log only: that deleting an invitation ended an account would tell the
    # organisation the address had none before (accounts/flows/members.delete_member).
    ("account.anonymised",              PLATFORM,      set()),
    ("account.created",                 PLATFORM,      {"demo"}),  # demo data only
    ("account.phone_set",               PLATFORM,      {"hint"}),  # demo data only
    ("password_reset.requested",        PLATFORM,      {"mailed"}),  # never whether it is known
    ("password_reset.refused",          PLATFORM,      {"limit"}),
    ("password_reset.link_sent",        PLATFORM,      set()),
    ("phone.notice_sent",               ORGANISATION,  set()),
    ("authenticator.link_notice",       ORGANISATION,  {"means", "managers", "sms"}),
    ("phone.notice_failed",             PLATFORM,      {"error"}),  # for an operator to follow up
    ("phone.erase_failed",              PLATFORM,      {"error", "enrolment"}),  # to retry
    # --- Beheer: an organisation's members ----------------------------------------------------
    # "account" (a validation's): "new", or "existing" (the account's own session validated)
    ("member.created",                  ORGANISATION,  {"role", "application_roles",
                                                        "first_manager", "validated_with",
                                                        "account"}),
    ("member.imported",                 ORGANISATION,  {"role"}),
    ("member.activation_resent",        ORGANISATION,  set()),
    ("member.accepted",                 ORGANISATION,  set()),
    ("member.role_changed",             ORGANISATION,  {"from", "to"}),
    ("member.blocked",                  ORGANISATION,  set()),
    ("member.unblocked",                ORGANISATION,  set()),
    ("member.deleted",                  ORGANISATION,  set()),
    ("permission.denied",               ORGANISATION,  {"action", "target_role", "reason"}),
    ("apitoken.created",                ORGANISATION,  {"name"}),
    ("apitoken.revoked",                ORGANISATION,  set()),
    # --- Organisations ------------------------------------------------------------------------
    ("organisation.created",            ORGANISATION,  {"kind", "kvk"}),
    ("organisation.validated",          ORGANISATION,  {"ura", "uzi_number", "pas_type",
                                                        "application", "means"}),
    ("organisation.validation_resumed", ORGANISATION,  set()),
    # Step 5 refused whose organisation it would become (policies.validation_refusal), or the
    # card's verdict no longer held when the browser collected it; no organisation exists yet.
    ("organisation.validation_refused", PLATFORM,      {"error"}),
    ("organisation.suspended",          ORGANISATION,  {"reason", "members"}),
    ("organisation.reinstated",         ORGANISATION,  set()),
    # --- Blank smartcards ordered (smartcards/orders.py): by an administrator, shipped by an
    # operator with the cards' serial numbers, cancelled by either before that ("by": who)
    ("card_order.placed",               ORGANISATION,  {"quantity"}),
    ("card_order.shipped",              ORGANISATION,  {"quantity", "serials"}),
    ("card_order.cancelled",            ORGANISATION,  {"by", "reason"}),
    # --- Single sign-on (oidc/, docs/oidc.md) --------------------------------------------------
    # An application registered or deleted by an operator, in the log of each organisation
    # whose people it may receive.
    ("sso_client.registered",           ORGANISATION,  {"name", "client_id", "redirect_uris",
                                                        "minimum_acr", "subject_type", "url",
                                                        "logo", "id_token_algorithm",
                                                        "backchannel_logout_uri",
                                                        "post_logout_redirect_uris",
                                                        "allowed_scopes",
                                                        "token_endpoint_auth_method", "jwks"}),
    ("sso_client.deleted",              ORGANISATION,  {"name", "client_id"}),
    # A person signed in to an application (for one organisation, in its log), the code
    # exchanged for tokens, a second exchange of it (its tokens revoked), a token revoked by
    # the application, a refresh (the pair rotated), a rotated refresh token presented again
    # (every token of that sign-in revoked).
    ("sso.code_issued",                 ORGANISATION,  {"client_id", "acr"}),
    ("sso.code_exchanged",              ORGANISATION,  {"client_id"}),
    ("sso.code_reused",                 ORGANISATION,  {"client_id", "revoked"}),
    ("sso.token_revoked",               ORGANISATION,  {"client_id"}),
    ("sso.token_refreshed",             ORGANISATION,  {"client_id"}),
    ("sso.refresh_reused",              ORGANISATION,  {"client_id", "revoked"}),
    # A person's consent to an application (oidc/consent.py), in the log of the organisation
    # they act for there: given (the scopes just allowed), refused on the consent page,
    # withdrawn in Mijn Zorgsleutel (their tokens there revoked: how many).
    ("sso.consent_given",               ORGANISATION,  {"client_id", "scopes"}),
    ("sso.consent_refused",             ORGANISATION,  {"client_id", "scopes"}),
    ("sso.consent_revoked",             ORGANISATION,  {"client_id", "scopes", "revoked"}),
    # Logout (oidc/logout.py, backchannel.py): a person logged out through an application; an
    # application told that a session which signed in to it ended, or given up on.
    ("sso.logged_out",                  ORGANISATION,  {"client_id"}),
    ("sso.logout_sent",                 ORGANISATION,  {"client_id", "reason", "attempts"}),
    ("sso.logout_failed",               ORGANISATION,  {"client_id", "reason", "attempts"}),
    # Refusals that name no organisation of the person: the platform's log.
    ("sso.authorize_refused",           PLATFORM,      {"client_id", "reason"}),
    ("sso.token_refused",               PLATFORM,      {"client_id", "error", "reason",
                                                        "endpoint"}),
    # The signing keys and the pairwise-subject secret (oidc/keys.py).
    ("sso_key.published",               PLATFORM,      {"kid", "signs_from"}),
    ("sso_key.activated",               PLATFORM,      {"kid", "first"}),
    ("sso_key.retired",                 PLATFORM,      {"kid"}),
    ("sso_key.removed",                 PLATFORM,      {"kid"}),
    ("sso_key.resealed",                PLATFORM,      {"kid"}),
    ("sso_secret.created",              PLATFORM,      {"name"}),
    ("sso_secret.resealed",             PLATFORM,      {"name"}),
    # --- The operator console, the command line ------------------------------------------------
    ("application.submitted",           PLATFORM,      {"ura", "kvk"}),
    ("application.approved",            PLATFORM,      set()),
    ("application.link_renewed",        PLATFORM,      set()),
    ("application.rejected",            PLATFORM,      {"reason"}),
    ("operator.created",                PLATFORM,      set()),
    ("mail.test_queued",                PLATFORM,      set()),
)  # fmt: skip


@dataclass(frozen=True)
class EventType:
    name: str
    readers: frozenset[str]
    fields: frozenset[str]


EVENT_TYPES: dict[str, EventType] = {
    name: EventType(name, readers, frozenset(fields)) for name, readers, fields in _TABLE
}


class AuditVocabularyError(ValueError):
    """An event the registry does not allow: a bug in the code that records it."""


class UnknownEventType(AuditVocabularyError):
    pass


class UnknownDetailField(AuditVocabularyError):
    pass


class PlatformOnlyEvent(AuditVocabularyError):
    """An event only operators read, recorded for an organisation (its administrators would
    read it)."""


def check(name: str, details: dict | None, *, for_organisation: bool) -> EventType:
    """The type of an event about to be recorded; raises if the registry does not allow it.

    It raises in production too: an event outside the registry has no rule for who reads it,
    and a field outside it may carry what a log must not keep, so the change it belongs to
    fails with it, as it does when the append itself fails (no change without its event).
    """
    event_type = EVENT_TYPES.get(name)
    if event_type is None:
        raise UnknownEventType(f"audit event type {name!r} is not in core/auditevents.py")
    unknown = set(details or ()) - event_type.fields
    if unknown:
        raise UnknownDetailField(
            f"audit event {name!r} carries no field {', '.join(sorted(unknown))}"
            f" (it may carry: {', '.join(sorted(event_type.fields)) or 'none'})"
        )
    if for_organisation and ADMINISTRATOR not in event_type.readers:
        raise PlatformOnlyEvent(f"audit event {name!r} is for operators only, not an organisation")
    return event_type


@functools.cache
def read_by(reader: str) -> frozenset[str]:
    """The names of the event types this reader (a role, or OPERATOR) may read."""
    return frozenset(t.name for t in EVENT_TYPES.values() if reader in t.readers)
