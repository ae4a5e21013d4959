"""Whose organisation a validation makes (seed 003 step 5): the account of the application's
e-mail address, if it has one (docs/organisations.md, "An address that has an account").

The validation link proves a mailbox and the UZI card the practice; neither proves the account.
A mailbox alone may reset a password and phone (seed 000), never reach what needs the app: so an
existing account gets the organisation only in a browser logged in as that account at the level
it requires, and an operator's never (policies.validation_refusal). Operators see in the
console that an applicant's address has an account; nobody else is told more than the link's
holder knows.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.organisations.models import Application
from zorgsleutel.people.models import User

# policies.validation_refusal's answers, as the applicant reads them. The first two tell a
# browser not logged in as the account only what the link's holder knows: the address is taken.
REFUSALS = {
    "log_in_first": _(
        "An account already exists for the e-mail address of this application. Log in with that "
        "account first, then open the link in the e-mail again: the organisation is added to "
        "your account."
    ),
    "other_account": _(
        "You are logged in with another account than the one of this application's e-mail "
        "address. Log out, log in with the account of that address, then open the link again."
    ),
    "operator_not_allowed": _(
        "Operators never become members of an organisation. This application names the e-mail "
        "address of an operator's account; apply again with another e-mail address."
    ),
    "account_blocked": _("The account for this e-mail address is blocked. Contact us."),
    "assurance_required": _(
        "Your account requires the Zorgsleutel app. Log in with the app, then open the link again."
    ),
}

NONE, EXISTING, OPERATOR = "none", "existing", "operator"


def find(application: Application, *, lock: bool = False) -> User | None:
    """The account of the application's e-mail address (locked, inside a transaction)."""
    rows = User.objects.select_for_update() if lock else User.objects
    return rows.filter(email=application.applicant_email).first()


def standing(application: Application) -> str:
    """For operators only (the console): NONE, EXISTING or OPERATOR."""
    account = find(application)
    if account is None:
        return NONE
    return OPERATOR if account.is_operator else EXISTING


def require_browser(account: User | None, person: User | None, session_acr: str) -> None:
    """Raise unless the browser (logged in as `person` at `session_acr`, or nobody) may make
    `account` (None: the validation makes one) the new organisation's administrator."""
    code = policies.validation_refusal(account, person, session_acr)
    if code is not None:
        raise PermissionDenied(code, REFUSALS[code])


def record_refusal(error, *, person: User | None, application_id) -> None:
    """Audit a refused validation (for operators: no organisation exists yet)."""
    audit.record(
        "organisation.validation_refused",
        actor=person or "anonymous",
        target=f"application:{application_id}",
        outcome=audit.DENIED,
        details={"error": error.code},
    )
