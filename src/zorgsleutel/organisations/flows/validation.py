"""Seed 003, step 5 (`Ik wil een organisatie valideren`): the approved applicant presents the UZI
card in the browser that opened the validation link. Two proofs meet there:

  - the card (answered on another device or through the TLS path) proves the application's URA
    and the applicant's UZI number; `present_card` checks that and makes nothing;
  - the browser that collects the card's verdict is who the organisation goes to
    (`validate_organisation`, in the transaction that uses the verdict up): a new account when
    the address has none, else only the account this browser is logged in as, at the level the
    account requires, and never an operator (policies.validation_refusal).

The link proves a mailbox, and a mailbox alone never reaches what needs the app: without the
second rule, a mailbox and one's own card of another practice made the mailbox's account an
administrator and linked an app to it.

The validation link validates once. For a new account it still lets the same card holder (same
URA and UZI number, checked again) link the first app, so leaving halfway does not lock the new
administrator out; once an app is linked the link is dead. An account that existed before links
its app from its own logged-in session (mobileapp's enrolment page), never through the link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from zorgsleutel import policies
from zorgsleutel.authn import challenges
from zorgsleutel.cards import flows as cards
from zorgsleutel.cards.purposes import Presentation
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.flows import applicant_account
from zorgsleutel.organisations.flows.applications import validation_digest
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.people import signals
from zorgsleutel.people.models import Membership, User

PURPOSE = "validate_organisation"


def _link_invalid() -> NotFound:
    return NotFound(
        "link_invalid",
        ngettext_lazy(
            "This validation link is not valid (any more). It can be used once and expires "
            "after %(hours)s hour. Ask us for a new link.",
            "This validation link is not valid (any more). It can be used once and expires "
            "after %(hours)s hours. Ask us for a new link.",
            "hours",
        )
        % {"hours": int(policies.VALIDATION_LINK_TTL.total_seconds() // 3600)},
    )


def _not_validated() -> DomainError:
    return DomainError("not_validated", _("The organisation has not been validated."))


def _administrator(application: Application) -> User | None:
    if application.organisation_id is None:
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(organisation_id=application.organisation_id, role=policies.ADMINISTRATOR)
        .filter(user__email=application.applicant_email)
        .first()
    )
    return membership.user if membership else None


def has_app(user: User) -> bool:
    return AppDevice.objects.filter(user=user).exclude(state=AppDevice.REVOKED).exists()


def _usable(application: Application | None) -> bool:
    """Open for validation, or validated for a new account whose administrator has no app yet."""
    if application is None or application.validation_expires_at is None:
        return False
    if clock.now() >= application.validation_expires_at:
        return False
    if application.state == Application.APPROVED:
        return True
    if application.state != Application.VALIDATED or not application.new_account:
        return False
    administrator = _administrator(application)
    return (
        administrator is not None and not administrator.is_operator and not has_app(administrator)
    )


def open_validation(*, token: str) -> Application:
    """The application behind a validation link, if the link can still be used."""
    if not token or len(token) > 100:
        raise _link_invalid()
    application = Application.objects.filter(validation_token_hash=validation_digest(token)).first()
    if not _usable(application):
        raise _link_invalid()
    return application


@dataclass(frozen=True)
class CardPage:
    application: Application
    challenge: cards.ChallengeStarted
    account_name: str  # the logged-in account the organisation goes to; "" for a new account


def start_card_challenge(
    *, token: str, person: User | None, session_acr: str, session_key: str, host: str
) -> CardPage:
    """The card challenge for this browser, when it may validate the application: a browser
    that is not (logged in as) the address's existing account gets none. A logged-in browser's
    refusal is audited; an anonymous one's is only shown (nobody to name, nothing attempted)."""
    application = open_validation(token=token)
    account = None
    if application.state == Application.APPROVED:
        account = applicant_account.find(application)
        try:
            applicant_account.require_browser(account, person, session_acr)
        except DomainError as error:
            if person is not None:
                applicant_account.record_refusal(
                    error, person=person, application_id=application.public_id
                )
            raise
    challenge = cards.start_challenge(
        session_key=session_key, host=host, purpose=PURPOSE, subject=str(application.public_id)
    )
    return CardPage(application, challenge, account.name if account else "")


def _ura_registered() -> Conflict:
    return Conflict("ura_registered", _("An organisation with this URA is already registered."))


def present_card(challenge, presentation: Presentation) -> dict:
    """The card's verdict for this application (cards calls this inside a savepoint): it proves
    the practice and the applicant, or is refused. Nothing is made here: the browser that
    collects the verdict decides whose organisation it becomes (validate_organisation)."""
    application = Application.objects.filter(public_id=challenge.subject).first()
    if not _usable(application):
        raise _link_invalid()
    identity = presentation.identity
    _require_matching_card(application, identity)
    if application.state == Application.APPROVED and (
        Organisation.objects.filter(ura=application.ura).exists()
    ):
        raise _ura_registered()
    return {"name": identity.full_name}  # a new account's name (cards adds the card's facts)


def _require_matching_card(application: Application, identity) -> None:
    if identity.pas_type not in policies.VALIDATION_PAS_TYPES:
        raise PermissionDenied(
            "pas_type_not_allowed",
            _(
                "This card (card type %(type)s) is not issued to one person. Use your UZI care "
                "provider card or a UZI card in your own name."
            )
            % {"type": identity.pas_type},
        )
    if identity.ura != application.ura:
        raise PermissionDenied(
            "wrong_ura",
            _(
                "This UZI card belongs to URA %(card)s, but the application is for URA "
                "%(application)s. Use a card of the organisation that applied."
            )
            % {"card": identity.ura, "application": application.ura},
        )
    if identity.uzi_number != application.applicant_uzi_number:
        raise PermissionDenied(
            "wrong_uzi_number",
            _(
                "This UZI card has UZI number %(card)s, but the application names UZI number "
                "%(application)s. The person who applied must use their own card."
            )
            % {"card": identity.uzi_number, "application": application.applicant_uzi_number},
        )


@dataclass(frozen=True)
class Validated:
    administrator: User
    organisation: Organisation
    # The card made the account (now, or when it validated before): this browser links its
    # first app. False: an existing account, which logs in as it always does.
    new_account: bool


def validate_organisation(
    *, collected: challenges.Collected, person, session_acr: str
) -> Validated:
    """The accepted card, collected by the browser that showed it (logged in as `person` at
    `session_acr`, or nobody): one transaction makes the validated organisation and its
    administrator, when this browser may (policies.validation_refusal). A refusal is audited
    and changes nothing."""
    if collected.status != "accepted" or collected.purpose != PURPOSE:
        raise _not_validated()
    try:
        with transaction.atomic():
            return _validate(collected, person, session_acr)
    except DomainError as error:
        applicant_account.record_refusal(error, person=person, application_id=collected.subject)
        raise


def _validate(collected: challenges.Collected, person, session_acr: str) -> Validated:
    result = collected.result or {}
    card = result.get("identity") or {}
    application = (
        Application.objects.select_for_update().filter(public_id=collected.subject).first()
    )
    if not _usable(application):
        raise _link_invalid()
    if (card.get("ura"), card.get("uzi_number")) != (
        application.ura,
        application.applicant_uzi_number,
    ):
        raise _not_validated()  # the card's facts are the application's, or nothing
    if application.state == Application.VALIDATED:  # the new administrator, back for the app
        administrator = _administrator(application)
        audit.record(
            "organisation.validation_resumed",
            actor=administrator,
            organisation=application.organisation,
            target=administrator,
        )
        return Validated(administrator, application.organisation, new_account=True)
    if Organisation.objects.filter(ura=application.ura).exists():
        raise _ura_registered()
    account = applicant_account.find(application, lock=True)
    applicant_account.require_browser(account, person, session_acr)
    organisation = Organisation.objects.create(
        name=application.organisation_name,
        kind=Organisation.CARE_PROVIDER,
        state=Organisation.VALIDATED,
        kvk_number=application.kvk_number,
        ura=application.ura,
        agb_code=application.agb_code,
    )
    user = account or User.objects.create_user(
        email=application.applicant_email,
        name=result.get("name") or application.applicant_name,
        state=User.ACTIVE,
    )
    Membership.objects.create(  # the applicant's own act, with their card: accepted
        user=user,
        organisation=organisation,
        role=policies.ADMINISTRATOR,
        state=Membership.ACTIVE,
        accepted_at=clock.now(),
    )
    application.state = Application.VALIDATED
    application.validated_at = clock.now()
    application.organisation = organisation
    application.new_account = account is None
    application.save(update_fields=["state", "validated_at", "organisation", "new_account"])
    facts = {key: card.get(key) for key in ("ura", "uzi_number", "pas_type")}
    audit.record(
        "organisation.validated",
        actor=user,
        organisation=organisation,
        target=organisation,
        details={**facts, "application": str(application.public_id), "means": card.get("means")},
    )
    audit.record(
        "member.created",
        actor=user,
        organisation=organisation,
        target=user,
        details={
            "role": policies.ADMINISTRATOR,
            "validated_with": "uzi",
            "account": "new" if account is None else "existing",
        },
    )
    signals.memberships_changed.send(sender=__name__, person=user)  # app IDs follow
    return Validated(user, organisation, new_account=account is None)


def new_administrator(*, public_id: str) -> User | None:
    """The active account a validation in this browser made (firstapp.FirstApp holds its id)."""
    return User.objects.filter(public_id=public_id, state=User.ACTIVE).first()


def describe(challenge) -> str:
    application = Application.objects.filter(public_id=challenge.subject).first()
    if application is None:
        return str(_("validate an organisation"))
    return str(
        _("validate %(name)s (URA %(ura)s) and become its administrator")
        % {"name": application.organisation_name, "ura": application.ura}
    )


def register() -> None:
    from zorgsleutel.cards import purposes

    purposes.register(PURPOSE, present_card, describe)
