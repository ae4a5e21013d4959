"""Seed 003, step 5 (`Ik wil een organisatie valideren`): the approved applicant presents the UZI
card; when the card proves the application's URA and the applicant's UZI number, one transaction
creates the validated organisation and the applicant's account as its administrator. The browser
that presented the card then links the Zorgsleutel app (step 5) and logs in with it (step 6).

The validation link validates once. Until the administrator has linked an app it still lets the
same card holder (same URA and UZI number, checked again) link one, so leaving halfway does not
lock the new administrator out; once an app is linked the link is dead.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.authn import challenges
from zorgsleutel.cards import flows as cards
from zorgsleutel.cards.purposes import Presentation
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.flows.applications import validation_digest
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.people.models import Membership, User

PURPOSE = "validate_organisation"


def _link_invalid() -> NotFound:
    return NotFound(
        "link_invalid",
        _(
            "This validation link is not valid (any more). It can be used once and expires "
            "after %(days)s days. Ask us for a new link."
        )
        % {"days": policies.VALIDATION_LINK_TTL.days},
    )


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


def _usable(application: Application | None) -> bool:
    """Open for validation, or validated with an administrator who has no app yet."""
    if application is None or application.validation_expires_at is None:
        return False
    if clock.now() >= application.validation_expires_at:
        return False
    if application.state == Application.APPROVED:
        return True
    if application.state != Application.VALIDATED:
        return False
    administrator = _administrator(application)
    return administrator is not None and not _has_app(administrator)


def _has_app(user: User) -> bool:
    return AppDevice.objects.filter(user=user).exclude(state=AppDevice.REVOKED).exists()


def open_validation(*, token: str) -> Application:
    """The application behind a validation link, if the link can still be used."""
    if not token or len(token) > 100:
        raise _link_invalid()
    application = Application.objects.filter(validation_token_hash=validation_digest(token)).first()
    if not _usable(application):
        raise _link_invalid()
    return application


def start_card_challenge(*, token: str, session_key: str, host: str) -> cards.ChallengeStarted:
    application = open_validation(token=token)
    return cards.start_challenge(
        session_key=session_key, host=host, purpose=PURPOSE, subject=str(application.public_id)
    )


def present_card(challenge, presentation: Presentation) -> dict:
    """The card's verdict for this application (cards calls this inside a savepoint: raising
    undoes everything done here)."""
    application = (
        Application.objects.select_for_update().filter(public_id=challenge.subject).first()
    )
    if not _usable(application):
        raise _link_invalid()
    identity = presentation.identity
    _require_matching_card(application, identity)
    if application.state == Application.VALIDATED:  # back to link the first app
        administrator = _administrator(application)
        audit.record(
            "organisation.validation_resumed",
            actor=administrator,
            organisation=application.organisation,
            target=administrator,
        )
        return {"user": str(administrator.public_id)}
    if Organisation.objects.filter(ura=application.ura).exists():
        raise Conflict("ura_registered", _("An organisation with this URA is already registered."))
    organisation = Organisation.objects.create(
        name=application.organisation_name,
        kind=Organisation.CARE_PROVIDER,
        state=Organisation.VALIDATED,
        kvk_number=application.kvk_number,
        ura=application.ura,
        agb_code=application.agb_code,
    )
    user = _applicant_account(application, identity)
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
    application.save(update_fields=["state", "validated_at", "organisation"])
    facts = {"ura": identity.ura, "uzi_number": identity.uzi_number, "pas_type": identity.pas_type}
    audit.record(
        "organisation.validated",
        actor=user,
        organisation=organisation,
        target=organisation,
        details={**facts, "application": str(application.public_id), "means": presentation.means},
    )
    audit.record(
        "member.created",
        actor=user,
        organisation=organisation,
        target=user,
        details={"role": policies.ADMINISTRATOR, "validated_with": "uzi"},
    )
    return {"user": str(user.public_id), "organisation": str(organisation.public_id)}


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


def _applicant_account(application: Application, identity) -> User:
    user = User.objects.select_for_update().filter(email=application.applicant_email).first()
    if user is None:
        return User.objects.create_user(
            email=application.applicant_email,
            name=identity.full_name or application.applicant_name,
            state=User.ACTIVE,
        )
    if user.state == User.DELETED:
        raise PermissionDenied(
            "account_blocked",
            _("The account for this e-mail address is blocked. Contact us."),
        )
    if user.state == User.INVITED:  # invited elsewhere, never activated: the card proves them
        user.state = User.ACTIVE
        user.save(update_fields=["state"])
    return user


def validated_user(*, collected: challenges.Collected) -> User:
    """The administrator behind an accepted validation challenge the browser collected."""
    if collected.status != "accepted" or collected.purpose != PURPOSE:
        raise DomainError("not_validated", _("The organisation has not been validated."))
    user = User.objects.filter(public_id=collected.result.get("user"), state=User.ACTIVE).first()
    if user is None:
        raise DomainError("not_validated", _("The organisation has not been validated."))
    return user


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
