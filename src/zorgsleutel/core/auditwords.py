"""The audit log in words: for every event type (core/auditevents.py) the name a filter offers
and the sentence a log shows, in the reader's language.

A sentence is a template over `actor`, `target` and `organisation` (names, people/auditlog.py)
and the event's detail fields, each worded by core/auditphrases.py. A variant replaces the
sentence when a detail field has a value ("*": any value; "@target": the event has a target).
An event type without words fails tests/core/test_audit_words.py; an event of a type no longer
here (an old row) reads as UNKNOWN, never as an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Words:
    label: Promise  # what the event-type filter offers: "Inloggen gelukt"
    sentence: Promise  # "%(actor)s is ingelogd met %(means)s"


# area                  event type                          label, sentence
_AREAS: tuple[tuple[Promise, tuple[tuple[str, Promise, Promise], ...]], ...] = (
    (_("Logging in"), (
        ("login.succeeded", _("Logged in"), _("%(actor)s logged in with %(means)s")),
        ("logout.succeeded", _("Logged out"), _("%(actor)s logged out")),
        ("login.password_failed", _("Wrong password"), _("%(actor)s typed a wrong password")),
        ("login.refused", _("Login refused"), _("%(actor)s could not log in: %(reason)s")),
        ("login.code_sent", _("SMS code sent"),
         _("An SMS code was sent to %(actor)s (%(hint)s)")),
        ("login.code_resent", _("New SMS code asked for"),
         _("%(actor)s asked for a new SMS code")),
        ("login.code_failed", _("Wrong SMS code"),
         _("%(actor)s typed an SMS code that did not work: %(result)s")),
        ("login.throttled", _("Login paused"),
         _("Logging in was paused for %(wait)s after too many wrong attempts")),
        ("sms.send_refused", _("SMS limit reached"),
         _("No SMS was sent to %(target)s: too many messages %(limits)s")),
        ("ratelimit.refused", _("Limit reached"),
         _("%(actor)s reached the limit for %(action)s (%(limits)s)")),
    )),
    (_("Zorgsleutel app"), (
        ("app.enrolment_started", _("App linking started"),
         _("%(actor)s started to link a Zorgsleutel app")),
        ("app.enrolment_refused", _("App linking refused"),
         _("%(actor)s could not link an app: %(reason)s")),
        ("app.enrolled", _("App linked"), _("%(actor)s linked the app %(target)s")),
        ("app.bad_signature", _("Invalid app signature"),
         _("An app of %(target)s sent an invalid signature")),
        ("app.wrong_pin", _("Wrong PIN in the app"),
         _("%(actor)s typed a wrong PIN in the app %(target)s (%(left)s)")),
        ("app.login_approved", _("Login approved in the app"),
         _("%(actor)s approved a login with the app %(target)s")),
        ("app.login_refused", _("App login refused"),
         _("%(actor)s could not log in with the app: %(reason)s")),
        ("app.revoked", _("App removed by its owner"),
         _("%(actor)s removed their app %(target)s")),
        ("app.revoke_refused", _("App removal refused"),
         _("%(actor)s could not remove an app: %(reason)s")),
        ("app.blocked", _("App blocked"), _("%(actor)s blocked the app %(target)s")),
        ("app.unblocked", _("App unblocked"), _("%(actor)s unblocked the app %(target)s")),
        ("app.deleted", _("App deleted"), _("%(actor)s deleted the app %(target)s")),
        ("app.released", _("New app allowed"),
         _("%(actor)s allowed a new app in place of the app %(target)s")),
    )),
    (_("Cards presented"), (
        ("card.accepted", _("Card accepted"), _("%(card)s was accepted for %(purpose)s")),
        ("card.refused", _("Card refused"),
         _("%(card)s was refused for %(purpose)s: %(error)s")),
        ("card.forged_header", _("Forged certificate header"),
         _("A request from %(peer)s carried a card certificate the proxy did not set; "
           "refused")),
        ("card.other_browser", _("Card offered in another browser"),
         _("A card was offered in another browser than the one that asked for it; refused")),
    )),
    (_("Smartcards"), (
        ("smartcard.identity_confirmed", _("Identity confirmed"),
         _("%(actor)s confirmed the identity of %(target)s in person")),
        ("uzi.bound", _("UZI card linked"),
         _("%(actor)s linked the UZI card with UZI number %(uzi_number)s to their account")),
        ("smartcard.issued", _("Smartcard made"), _("%(actor)s made the smartcard %(target)s")),
        ("smartcard.renewed", _("Smartcard renewed"),
         _("%(actor)s renewed the smartcard %(target)s")),
        ("smartcard.blocked", _("Smartcard blocked"),
         _("%(actor)s blocked the smartcard %(target)s")),
        ("smartcard.unblocked", _("Smartcard unblocked"),
         _("%(actor)s unblocked the smartcard %(target)s")),
        ("smartcard.deleted", _("Smartcard deleted"),
         _("%(actor)s deleted the smartcard %(target)s")),
        ("smartcard.reported_lost", _("Smartcard reported lost"),
         _("%(actor)s reported the smartcard %(target)s lost")),
        ("smartcard.responder_certified", _("Status responder certified"),
         _("The smartcard CA certified a status responder (certificate %(serial)s, valid "
           "until %(not_after)s)")),
    )),
    (_("Own account"), (
        ("account.setup_code_sent", _("SMS code for activating or resetting sent"),
         _("An SMS code to activate the account was sent to %(target)s (%(hint)s)")),
        ("account.setup_code_wrong", _("Wrong SMS code while activating or resetting"),
         _("%(actor)s typed an SMS code that did not work: %(result)s")),
        ("account.activated", _("Account activated"), _("%(actor)s activated their account")),
        ("account.credentials_reset", _("New password and mobile number set"),
         _("%(actor)s set a new password and mobile number")),
        ("account.reported_not_me", _("‘This was not me’ reported"),
         _("%(actor)s reported ‘This was not me’; %(removed)s removed")),
        ("account.anonymised", _("Account anonymised"),
         _("%(actor)s anonymised %(target)s")),
        ("account.created", _("Account created (demo)"),
         _("%(actor)s created the account of %(target)s")),
        ("account.phone_set", _("Mobile number set (demo)"),
         _("%(actor)s set the mobile number of %(target)s (%(hint)s)")),
        ("password_reset.requested", _("New password asked for"),
         _("%(actor)s asked for a new password; a mail was sent")),
        ("password_reset.refused", _("New password refused"),
         _("%(actor)s asked for a new password too often (%(limit)s); refused")),
        ("password_reset.link_sent", _("Password link mailed"),
         _("%(target)s was mailed a link to set a new password")),
        ("phone.notice_sent", _("Notice texted"),
         _("%(target)s was texted about a change to their account")),
        ("authenticator.link_notice", _("Linked app reported"),
         _("%(target)s and %(managers)s were told that %(means)s was linked")),
        ("phone.notice_failed", _("Notice not texted"),
         _("The text message to %(target)s could not be sent (%(error)s)")),
        ("phone.erase_failed", _("Mobile number not erased"),
         _("The mobile number of %(target)s could not be erased from the vault (%(error)s); "
           "try again")),
    )),
    (_("People"), (
        ("member.created", _("Person invited"), _("%(actor)s invited %(target)s as %(role)s")),
        ("member.imported", _("Person imported"),
         _("%(actor)s imported %(target)s as %(role)s")),
        ("member.activation_resent", _("Link sent again"),
         _("%(actor)s sent %(target)s a new link")),
        ("member.accepted", _("Invitation accepted"),
         _("%(actor)s accepted the invitation of %(organisation)s")),
        ("member.role_changed", _("Role changed"),
         _("%(actor)s changed the role of %(target)s from %(from)s to %(to)s")),
        ("member.blocked", _("Person blocked"), _("%(actor)s blocked %(target)s")),
        ("member.unblocked", _("Person unblocked"), _("%(actor)s unblocked %(target)s")),
        ("member.deleted", _("Person deleted"),
         _("%(actor)s removed %(target)s from %(organisation)s")),
        ("permission.denied", _("Action refused"),
         _("%(actor)s tried to %(action)s; refused: %(reason)s")),
        ("apitoken.created", _("API token created"),
         _("%(actor)s created the API token “%(name)s”")),
        ("apitoken.revoked", _("API token revoked"),
         _("%(actor)s revoked the API token %(target)s")),
    )),
    (_("Organisation"), (
        ("organisation.created", _("Organisation created"),
         _("%(actor)s created %(organisation)s")),
        ("organisation.validated", _("Organisation validated"),
         _("%(actor)s validated %(organisation)s with a UZI card (URA %(ura)s)")),
        ("organisation.validation_resumed", _("Validation resumed"),
         _("%(actor)s resumed the validation of %(organisation)s")),
        ("organisation.validation_refused", _("Validation refused"),
         _("%(actor)s could not validate the application of %(target)s: %(error)s")),
        ("organisation.suspended", _("Organisation suspended"),
         _("%(actor)s suspended %(organisation)s: %(reason)s")),
        ("organisation.reinstated", _("Suspension lifted"),
         _("%(actor)s lifted the suspension of %(organisation)s")),
    )),
    (_("Card orders"), (
        ("card_order.placed", _("Smartcards ordered"), _("%(actor)s ordered %(quantity)s")),
        ("card_order.shipped", _("Order shipped"),
         _("%(actor)s shipped the order of %(quantity)s (%(serials)s)")),
        ("card_order.cancelled", _("Order cancelled"),
         _("%(actor)s cancelled the order of %(target)s")),
    )),
    (_("Single sign-on"), (
        ("sso_client.registered", _("Application registered for single sign-on"),
         _("%(actor)s registered the application %(name)s for single sign-on")),
        ("sso_client.deleted", _("Application removed from single sign-on"),
         _("%(actor)s removed the application %(name)s from single sign-on")),
        ("sso.code_issued", _("Signed in to an application"),
         _("%(actor)s signed in to the application %(target)s")),
        ("sso.code_exchanged", _("Application received the sign-in"),
         _("The application %(actor)s received the sign-in of %(target)s")),
        ("sso.code_reused", _("Sign-in code used twice"),
         _("The application %(actor)s used the sign-in code of %(target)s a second time; "
           "its tokens were revoked")),
        ("sso.token_revoked", _("Application gave up a token"),
         _("The application %(actor)s gave up a token of %(target)s")),
        ("sso.token_refreshed", _("Application renewed a sign-in"),
         _("The application %(actor)s renewed the tokens of the sign-in of %(target)s")),
        ("sso.refresh_reused", _("Renewal token used twice"),
         _("The application %(actor)s used a spent renewal token of %(target)s; the tokens of "
           "that sign-in were revoked")),
        ("sso.consent_given", _("Consent given to an application"),
         _("%(actor)s gave the application %(target)s consent")),
        ("sso.consent_refused", _("Consent refused to an application"),
         _("%(actor)s refused the application %(target)s consent")),
        ("sso.consent_revoked", _("Consent withdrawn from an application"),
         _("%(actor)s withdrew the consent for the application %(target)s")),
        ("sso.logged_out", _("Logged out through an application"),
         _("%(actor)s logged out of Zorgsleutel through the application %(target)s")),
        ("sso.logout_sent", _("Application told of a logout"),
         _("The application %(actor)s was told that %(target)s logged out")),
        ("sso.logout_failed", _("Application not told of a logout"),
         _("The application %(actor)s could not be told that %(target)s logged out "
           "(%(attempts)s attempts)")),
        ("sso.authorize_refused", _("Sign-in to an application refused"),
         _("%(actor)s was refused signing in to the application %(target)s: %(reason)s")),
        ("sso.token_refused", _("Token request refused"),
         _("A token request of the application %(client_id)s was refused: %(reason)s")),
        ("sso_key.published", _("Signing key published"),
         _("A new signing key for single sign-on was published (%(kid)s)")),
        ("sso_key.activated", _("Signing key in use"),
         _("The signing key %(kid)s for single sign-on is now in use")),
        ("sso_key.retired", _("Signing key retired"),
         _("The signing key %(kid)s for single sign-on no longer signs")),
        ("sso_key.removed", _("Signing key removed"),
         _("The signing key %(kid)s for single sign-on was removed")),
        ("sso_key.resealed", _("Signing key sealed again"),
         _("The signing key %(kid)s for single sign-on was sealed under the new secret key")),
        ("sso_secret.created", _("Single sign-on secret made"),
         _("The single sign-on secret %(name)s was made")),
        ("sso_secret.resealed", _("Single sign-on secret sealed again"),
         _("The single sign-on secret %(name)s was sealed under the new secret key")),
    )),
    (_("Applications and operators"), (
        ("application.submitted", _("Application submitted"),
         _("The application of %(target)s was submitted")),
        ("application.approved", _("Application approved"),
         _("%(actor)s approved the application of %(target)s")),
        ("application.link_renewed", _("Validation link sent again"),
         _("%(actor)s sent a new validation link for the application of %(target)s")),
        ("application.rejected", _("Application rejected"),
         _("%(actor)s rejected the application of %(target)s: %(reason)s")),
        ("operator.created", _("Operator created"), _("%(actor)s made %(target)s an operator")),
        ("mail.test_queued", _("Test mail queued"), _("%(actor)s queued a test mail")),
    )),
)  # fmt: skip

# (event type, detail field, value): the sentence when the event's detail has that value.
VARIANTS: dict[tuple[str, str, object], Promise] = {
    ("app.revoked", "reason", "reported_not_me"): _(
        "%(actor)s removed the app %(target)s with ‘This was not me’"
    ),
    ("smartcard.identity_confirmed", "method", "uzi"): _(
        "%(actor)s proved their identity with their UZI card"
    ),
    ("smartcard.reported_lost", "reason", "reported_not_me"): _(
        "%(actor)s revoked the smartcard %(target)s with ‘This was not me’"
    ),
    ("account.setup_code_sent", "purpose", "password_reset"): _(
        "An SMS code to set a new password was sent to %(target)s (%(hint)s)"
    ),
    ("account.reported_not_me", "membership", "blocked"): _(
        "%(actor)s reported ‘This was not me’: their membership is blocked and %(removed)s removed"
    ),
    ("password_reset.requested", "mailed", False): _(
        "%(actor)s asked for a new password; no mail was sent (over the limit, or no account)"
    ),
    ("member.created", "first_manager", True): _(
        "%(actor)s made %(target)s the first manager of %(organisation)s"
    ),
    ("member.created", "validated_with", "uzi"): _(
        "%(target)s became the administrator of %(organisation)s by validating it"
    ),
    ("permission.denied", "@target", "*"): _(
        "%(actor)s tried to %(action)s (%(target)s); refused: %(reason)s"
    ),
    ("card_order.cancelled", "reason", "*"): _(
        "%(actor)s cancelled the order of %(target)s: %(reason)s"
    ),
}

# An event of a type no longer in the registry (an old row): still a sentence.
UNKNOWN = _("%(actor)s: event ‘%(action)s’")
UNKNOWN_WITH_TARGET = _("%(actor)s: event ‘%(action)s’ about %(target)s")

WORDS: dict[str, Words] = {
    name: Words(label, sentence) for _area, events in _AREAS for name, label, sentence in events
}


def sentence(name: str, details: dict, has_target: bool) -> Promise | None:
    """The template for an event of type `name` with these details (None: an unknown type)."""
    for (event, field, value), text in VARIANTS.items():
        if event != name:
            continue
        have = has_target if field == "@target" else details.get(field)
        if (value == "*" and have) or (value != "*" and have == value):
            return text
    words = WORDS.get(name)
    return words.sentence if words else None


def label(name: str) -> str:
    """The name the filter offers for an event type (the type itself for an unknown one)."""
    words = WORDS.get(name)
    return str(words.label) if words else name


def choices(names) -> list[tuple[str, list[tuple[str, str]]]]:
    """The event-type filter's options for these types: (area, [(type, label), ...]), in the
    table's order."""
    wanted = set(names)
    grouped = []
    for area, events in _AREAS:
        options = [(name, str(label)) for name, label, _sentence in events if name in wanted]
        if options:
            grouped.append((str(area), options))
    return grouped
