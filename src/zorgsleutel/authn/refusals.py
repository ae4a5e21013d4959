"""Every "no" to "may this person log in, or act here?": its stable code and the words the
person reads, in one table.

The code is API vocabulary (the `error` of a JSON answer) and the audit detail `reason` of the
refusal's event; the text is what every page, API and app shows for it, whichever means or
flow refused: the login by password + SMS code (password.py), the Zorgsleutel app and its
QR login (mobileapp), the checks of people.permissions, and beheer's actions on members and
their app IDs (accounts, mobileapp). A code reads the same everywhere, so a person blocked in
their only organisation reads that their account is blocked, whichever means they tried.

Why here, in authn: every capability that refuses sits above authn and imports it. One
refusal is decided below it: people.permissions.require (people cannot import authn) refuses
`forbidden` itself, in its own words (permissions.FORBIDDEN, listed below); every other reason
it gives comes from a check authn registers (sessions.authenticator_refusal), which answers
with an error of this table. So people words one refusal and knows no other, and this table
is still whole.

Not here: the limits on the way in (authn/limits.py, one wording per limit), bad input (a
form's field, a malformed request) and the operators' console, which refuse no person.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.people import permissions

TEXTS: dict[str, str | Promise] = {
    # --- Logging in (means.refusal, and each means' own questions) ----------------------------
    "account_blocked": _("Your account is blocked. Contact your manager."),
    "organisation_suspended": _("Your organisation has been suspended. Please contact us."),
    "app_required": _("Your role requires the Zorgsleutel app: log in with the app."),
    "app_held": _(
        "Your Zorgsleutel app is blocked or was removed. Your manager can unblock it or let "
        "you link the app again."
    ),
    "smartcard_required": _("You have a smartcard: log in with your smartcard."),
    "smartcard_held": _(
        "Your smartcard is blocked. Only your administrator or manager can unblock it."
    ),
    "app_smartcard_exclusive": _(
        "You have a smartcard. The Zorgsleutel app does not work together with it: report your "
        "smartcard lost first (My Zorgsleutel, Your smartcards), then link the app."
    ),
    "no_phone": _("No mobile number is set for this account."),
    "device_blocked": _(
        "This app is blocked. Ask your manager to unblock it, or link the app again."
    ),
    "device_unknown": _("This app is not (or no longer) linked."),
    "device_pending": _(
        "This app waits for the permission of your organisation's administrator or manager."
    ),
    # --- Acting in an organisation (people.permissions and the flows) -------------------------
    "forbidden": permissions.FORBIDDEN,
    "authenticator_not_accepted": _(
        "The Zorgsleutel app you logged in with is blocked or removed for this organisation. "
        "Its administrator or manager can unblock it."
    ),
    "not_yourself": _("You cannot do this to your own account."),
    "smartcard_holder_role_own": _(
        "You use a smartcard. Administrators and managers log in with the Zorgsleutel app: "
        "report your smartcard lost first (My Zorgsleutel, Your smartcards), then accept."
    ),
    "smartcard_holder_role": _(
        "This person uses a smartcard. Administrators and managers log in with the app: the "
        "smartcard must be deleted first."
    ),
    "role_not_allowed": _(
        "Only an administrator can give the role %(role)s or act for someone who has it."
    ),
    "last_administrator": _(
        "An organisation always keeps at least one administrator. Appoint another first."
    ),
    "operator_not_member": _("Operators cannot be members of an organisation."),
    # --- What the member or app ID stands at, in this organisation ----------------------------
    "already_member": _("This person is already a member."),
    "not_invited": _("This person has already activated the account."),
    "not_blocked": _("This person is not blocked."),
    "device_revoked": _("This app has been removed."),
    "device_not_removed": _("Remove the app first."),
}

# means.refusal's reasons that the person reads under another code: blocked in every
# organisation they accepted is, for them, a blocked account (the API code stays stable).
REASON_CODES = {"membership_blocked": "account_blocked"}


def code_for(reason: str) -> str:
    """The code of a means.refusal reason."""
    return REASON_CODES.get(reason, reason)


def error(
    code: str, kind: type[DomainError] = PermissionDenied, *, field: str | None = None, **params
) -> DomainError:
    """The refusal `code` as the error to raise: `kind` gives its HTTP status (403 unless the
    caller's protocol says otherwise), `params` fill in its text (role_not_allowed: `role`)."""
    text = TEXTS[code]
    return kind(code, text % params if params else text, field=field)
