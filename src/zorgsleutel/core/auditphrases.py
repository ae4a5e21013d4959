"""The words for an audit event's detail fields: a refusal's reason, a role, a login means, a
permission, a count. core/auditwords.py's sentences use them by the field's name.

A value no table here knows reads as itself (an operator's typed reason, an app's name), a
code with its underscores as spaces; a value of the wrong shape never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

# How the logs write a moment: "7 december 2026, 14:05" (in the portal's time zone).
DATETIME_FORMAT = "j F Y, H:i"

# Refusal codes (authn/refusals.py and the flows' own), as the detail `reason` or `error`.
REASONS: dict[str, Promise] = {
    "account_blocked": _("account blocked"),
    "membership_blocked": _("blocked in every organisation"),
    "organisation_suspended": _("organisation suspended"),
    "app_required": _("their role requires the app"),
    "app_held": _("their app is blocked or removed"),
    "smartcard_required": _("they have a smartcard"),
    "smartcard_held": _("their smartcard is blocked"),
    "app_smartcard_exclusive": _("they have a smartcard, which excludes the app"),
    "no_phone": _("no mobile number"),
    "device_blocked": _("app blocked"),
    "device_unknown": _("app not (or no longer) linked"),
    "device_pending": _("the app waits for the organisation's permission"),
    "device_revoked": _("app removed"),
    "device_not_removed": _("the app is not removed"),
    "forbidden": _("not allowed"),
    "authenticator_not_accepted": _("logged in with an app this organisation blocked"),
    "not_yourself": _("not for one's own account"),
    "smartcard_holder_role_own": _("they use a smartcard"),
    "smartcard_holder_role": _("the person uses a smartcard"),
    "role_not_allowed": _("only an administrator may act for this role"),
    "last_administrator": _("the last administrator"),
    "operator_not_member": _("operators are no members"),
    "already_member": _("already a member"),
    "not_invited": _("already activated"),
    "not_blocked": _("not blocked"),
    "invalid_link": _("the invitation is not open"),
    "enrolment_invalid": _("the linking code is not valid"),
    "not_found": _("not found"),
    "smartcard_revoked": _("smartcard revoked"),
    "smartcard_not_blocked": _("smartcard not blocked"),
    "smartcard_blocked_already": _("smartcard blocked already"),
    "smartcard_unknown": _("unknown smartcard"),
    "smartcard_role": _("administrators and managers use the app"),
    "smartcard_exists": _("they have a smartcard already"),
    "smartcard_proof_missing": _("identity not proved"),
    "smartcard_not_renewable": _("not renewable yet"),
    "uzi_pas_type": _("not a personal UZI card"),
    "uzi_other_organisation": _("UZI card of another organisation"),
    "uzi_bound_elsewhere": _("UZI card linked to another account"),
    "uzi_other_card": _("another UZI card"),
    "wrong_ura": _("UZI card of another organisation"),
    "wrong_uzi_number": _("another UZI number"),
    "pas_type_not_allowed": _("this kind of UZI card is not accepted"),
    "not_validated": _("organisation not validated"),
    "bad_signature": _("invalid signature"),
    "challenge_invalid": _("the code is not valid (any more)"),
    "expired": _("expired"),
    "revoked": _("revoked"),
    "untrusted": _("not issued by a trusted CA"),
    "reported_not_me": _("‘This was not me’"),
    "credentials_reset": _("after a new password and mobile number"),
    "authenticator_linked": _("after linking an app"),
    "sso_client_other_organisation": _("an organisation's own application is for it alone"),
    "sso_client_not_own": _("registered by Zorgsleutel's operators"),
}

ROLES: dict[str, Promise] = {
    "administrator": _("administrator"),
    "manager": _("manager"),
    "member": _("member"),
}

# login.succeeded's `means` (authn's registry of means), and its `amr` in events without it.
MEANS: dict[str, Promise] = {
    "sms": _("an SMS code"),
    "app": _("the Zorgsleutel app"),
    "smartcard": _("a Zorgsleutel smartcard"),
    "uzi": _("a UZI card"),
}
_MEANS_BY_AMR = {("pwd", "sms"): "sms", ("app", "pin"): "app"}
_CARD_OF_SOME_KIND = _("a smartcard or UZI card")

# authenticator.link_notice's `means`: what was linked.
LINKED: dict[str, Promise] = {"app": _("a Zorgsleutel app"), "smartcard": _("a smartcard")}

# permission.denied's `action` (policies.PERMISSIONS and OPERATOR_PERMISSIONS, and the flows'
# own): what the actor tried, after "tried to" (in Dutch "probeerde ... te ...").
ACTIONS: dict[str, Promise] = {
    "members.view": pgettext_lazy("tried to", "view the people"),
    "members.create": pgettext_lazy("tried to", "invite someone"),
    "members.resend_activation": pgettext_lazy("tried to", "send a link again"),
    "members.block": pgettext_lazy("tried to", "block someone"),
    "members.unblock": pgettext_lazy("tried to", "unblock someone"),
    "members.delete": pgettext_lazy("tried to", "delete someone"),
    "members.accept": pgettext_lazy("tried to", "accept an invitation"),
    "managers.appoint": pgettext_lazy("tried to", "appoint a manager or administrator"),
    "audit.view": pgettext_lazy("tried to", "read the audit log"),
    "apps.block": pgettext_lazy("tried to", "block an app"),
    "apps.unblock": pgettext_lazy("tried to", "unblock an app"),
    "apps.delete": pgettext_lazy("tried to", "delete an app"),
    "apps.relink": pgettext_lazy("tried to", "allow a new app"),
    "smartcards.block": pgettext_lazy("tried to", "block a smartcard"),
    "smartcards.unblock": pgettext_lazy("tried to", "unblock a smartcard"),
    "smartcards.delete": pgettext_lazy("tried to", "delete a smartcard"),
    "smartcards.confirm_identity": pgettext_lazy("tried to", "confirm someone's identity"),
    "smartcards.order": pgettext_lazy("tried to", "order blank smartcards"),
    "sso_clients.register": pgettext_lazy("tried to", "manage single sign-on applications"),
    "api.other_organisation": pgettext_lazy(
        "tried to", "reach another organisation with an API token"
    ),
    "organisations.create_business": pgettext_lazy("tried to", "create a business customer"),
    "organisations.suspend": pgettext_lazy("tried to", "suspend an organisation"),
    "applications.review": pgettext_lazy("tried to", "review applications"),
    "audit.platform": pgettext_lazy("tried to", "read the platform audit log"),
    "card_orders.handle": pgettext_lazy("tried to", "handle card orders"),
}

# ratelimit.refused's `action` (policies.RATE_LIMITS), after "the limit for".
LIMITED: dict[str, Promise] = {
    "password_reset.request": _("asking for a new password"),
    "password_reset.mail": _("mails with a new password link"),
    "sms.send": _("SMS codes"),
    "invitation.resend": _("sending links again"),
    "app.login_page": _("the app's login page"),
    "app.request": _("the app's requests"),
    "app.enrol": _("linking apps"),
    "app.answer": _("the app's answers"),
    "card.request": _("the card reader's requests"),
    "card.answer": _("the card reader's answers"),
    "smartcard.login_page": _("the smartcard login page"),
    "smartcard.qr": _("smartcard QR codes"),
    "application.submit": _("applications"),
}

# The keys a limit counts by (policies.RATE_LIMITS), "per_ip" or "ip".
PER: dict[str, Promise] = {
    "ip": _("per IP address"),
    "email": _("per e-mail address"),
    "link": _("per link"),
    "account": _("per account"),
    "membership": _("per membership"),
    "user": _("per person"),
    "device": _("per app"),
    "challenge": _("per code"),
    "recipient": _("per recipient"),
}

# A card challenge's purpose (cards/purposes.py), after "accepted for".
PURPOSES: dict[str, Promise] = {
    "smartcard_login": _("logging in with a smartcard"),
    "smartcard_uzi": _("proving an identity for a smartcard"),
    "smartcard_create": _("making a smartcard"),
    "smartcard_renew": _("renewing a smartcard"),
    "validate_organisation": _("validating an organisation"),
}

# What an SMS code's check said (the vault's verdicts).
RESULTS: dict[str, Promise] = {
    "wrong": _("wrong code"),
    "expired": _("code expired"),
    "blocked": _("too many wrong codes"),
}


def _code(value) -> str:
    return str(value).replace("_", " ")


def _from(table: dict[str, Promise]) -> Callable[[object], str]:
    def word(value) -> str:
        found = table.get(value) if isinstance(value, str) else None
        return str(found) if found is not None else _code(value)

    return word


def _reason(value) -> str:
    """A refusal code in words (one no table knows with spaces for its underscores); anything
    else (a reason an operator typed) as it is."""
    found = REASONS.get(value) if isinstance(value, str) else None
    if found is not None:
        return str(found)
    return _code(value) if re.fullmatch(r"[a-z0-9_]+", str(value)) else str(value)


def _count(words: Callable[[int], str]) -> Callable[[object], str]:
    """A number (or a list's length) in words: `words(n)` is an ngettext with %(n)s."""

    def count(value) -> str:
        number = value if isinstance(value, int) else len(value) if isinstance(value, list) else 0
        return words(number) % {"n": number}

    return count


def _wait(value) -> str:
    seconds = int(value) if isinstance(value, int | float) else 0
    if seconds <= 120:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def _limits(value) -> str:
    keys = value if isinstance(value, list) else [value]
    words = [str(PER.get(str(key).removeprefix("per_"), _code(key))) for key in keys]
    return _join(words)


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return str(_("%(first)s and %(last)s")) % {"first": ", ".join(words[:-1]), "last": words[-1]}


def moment(value) -> str:
    """A stored moment (a datetime or ISO text) as people write it, in the portal's zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return str(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, DATETIME_FORMAT)


FIELDS: dict[str, Callable[[object], str]] = {
    "reason": _reason,
    "error": _reason,
    "role": _from(ROLES),
    "from": _from(ROLES),
    "to": _from(ROLES),
    "target_role": _from(ROLES),
    "means": _from(MEANS),
    "action": _from(ACTIONS),
    "purpose": _from(PURPOSES),
    "result": _from(RESULTS),
    "limits": _limits,
    "limit": _limits,
    "wait": _wait,
    "quantity": _count(lambda n: ngettext("%(n)s blank smartcard", "%(n)s blank smartcards", n)),
    "left": _count(lambda n: ngettext("%(n)s attempt left", "%(n)s attempts left", n)),
    "managers": _count(lambda n: ngettext("%(n)s manager", "%(n)s managers", n)),
    "removed": _count(
        lambda n: ngettext("%(n)s linked app or card", "%(n)s linked apps or cards", n)
    ),
    "serials": lambda value: ", ".join(map(str, value)) if isinstance(value, list) else str(value),
    "not_after": moment,
}

# A field that one event type words its own way.
OWN: dict[tuple[str, str], Callable[[object], str]] = {
    ("ratelimit.refused", "action"): _from(LIMITED),
    ("authenticator.link_notice", "means"): _from(LINKED),
}


def _login_means(details: dict) -> str:
    means = details.get("means")
    if isinstance(means, str) and means in MEANS:
        return str(MEANS[means])
    amr = tuple(details.get("amr") or ())
    if amr in _MEANS_BY_AMR:
        return str(MEANS[_MEANS_BY_AMR[amr]])
    return str(_CARD_OF_SOME_KIND)


def _card(details: dict) -> str:
    number = details.get("uzi_number")
    if number:
        return str(_("The card with UZI number %(number)s")) % {"number": number}
    return str(_("A card"))


# Words made from more than one field.
DERIVED: dict[str, dict[str, Callable[[dict], str]]] = {
    "login.succeeded": {"means": _login_means},
    "card.accepted": {"card": _card},
    "card.refused": {"card": _card},
}


def facts(name: str, details: dict) -> dict[str, str]:
    """The detail fields of an event of type `name` in words, by field name."""
    worded = {}
    for field, value in details.items():
        word = OWN.get((name, field)) or FIELDS.get(field) or str
        try:
            worded[field] = word(value)
        except (TypeError, ValueError):
            worded[field] = str(value)
    for field, make in DERIVED.get(name, {}).items():
        worded[field] = make(details)
    return worded
