"""Seed 003, steps 2 and 3: a care provider applies (`Organisatie aanmelden`), receives the
application by e-mail, and an operator approves it (the applicant gets a single-use validation
link) or rejects it with a reason."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound, raise_all
from zorgsleutel.messaging.outbox import enqueue_mail
from zorgsleutel.organisations.flows import applicant_account
from zorgsleutel.organisations.flows.operators import require_operator
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.people import emails
from zorgsleutel.people.models import User

EIGHT_DIGITS = re.compile(r"^[0-9]{8}$")
NINE_DIGITS = re.compile(r"^[0-9]{9}$")
POSTAL_CODE = re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ApplicationData:
    organisation_name: str
    kvk_number: str
    ura: str
    agb_code: str
    street: str
    postal_code: str
    city: str
    applicant_name: str
    applicant_email: str
    applicant_uzi_number: str
    declaration: bool


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def tidy(data: ApplicationData) -> ApplicationData:
    """Spaces and dots out of numbers, names on one line, postal code as 1234 AB."""
    digits = {
        name: re.sub(r"[\s.]", "", getattr(data, name) or "") for name in ("kvk_number", "ura")
    }
    digits["agb_code"] = re.sub(r"[\s.]", "", data.agb_code or "")
    uzi = re.sub(r"\s", "", data.applicant_uzi_number or "")
    postal = _clean(data.postal_code).upper()
    return ApplicationData(
        organisation_name=_clean(data.organisation_name),
        kvk_number=digits["kvk_number"],
        ura=digits["ura"],
        agb_code=digits["agb_code"],
        street=_clean(data.street),
        postal_code=postal if " " in postal or len(postal) != 6 else f"{postal[:4]} {postal[4:]}",
        city=_clean(data.city),
        applicant_name=_clean(data.applicant_name),
        applicant_email=(data.applicant_email or "").strip().lower(),
        applicant_uzi_number=uzi,
        declaration=bool(data.declaration),
    )


def check(data: ApplicationData) -> ApplicationData:
    """The tidy application, or every wrong field's DomainError at once (FieldErrors when there
    are several; the form shows them from the same `field_errors`)."""
    data = tidy(data)
    raise_all(field_errors(data))
    return data


def field_errors(data: ApplicationData) -> list[DomainError]:
    errors = []

    def wrong(field: str, code: str, message) -> None:
        errors.append(DomainError(code, message, field=field))

    if not data.organisation_name:
        wrong("organisation_name", "name_required", _("Fill in the organisation's name."))
    if not data.kvk_number:
        wrong("kvk_number", "kvk_required", _("Fill in the KvK number."))
    elif not EIGHT_DIGITS.match(data.kvk_number):
        wrong("kvk_number", "invalid_kvk", _("A KvK number has 8 digits."))
    if not data.ura:
        wrong("ura", "ura_required", _("Fill in the URA."))
    elif not EIGHT_DIGITS.match(data.ura):
        wrong("ura", "invalid_ura", _("A URA has 8 digits."))
    if data.agb_code and not EIGHT_DIGITS.match(data.agb_code):
        wrong("agb_code", "invalid_agb", _("An AGB code has 8 digits (or leave it empty)."))
    if not data.street:
        wrong("street", "street_required", _("Fill in the street and number."))
    if not data.postal_code:
        wrong("postal_code", "postal_code_required", _("Fill in the postal code."))
    elif not POSTAL_CODE.match(data.postal_code):
        wrong("postal_code", "invalid_postal_code", _("A postal code looks like 1234 AB."))
    if not data.city:
        wrong("city", "city_required", _("Fill in the city."))
    if not data.applicant_name:
        wrong("applicant_name", "applicant_name_required", _("Fill in your name."))
    if not data.applicant_email:
        wrong("applicant_email", "email_required", _("Fill in your business e-mail address."))
    elif not EMAIL.match(data.applicant_email) or len(data.applicant_email) > 254:
        wrong("applicant_email", "invalid_email", emails.INVALID)
    elif data.applicant_email.rpartition("@")[2] in policies.CONSUMER_EMAIL_DOMAINS:
        wrong(
            "applicant_email",
            "consumer_email",
            _("Use a business e-mail address; addresses at %(domain)s are not accepted.")
            % {"domain": data.applicant_email.rpartition("@")[2]},
        )
    if not data.applicant_uzi_number:
        wrong("applicant_uzi_number", "uzi_number_required", _("Fill in your UZI number."))
    elif not NINE_DIGITS.match(data.applicant_uzi_number):
        wrong(
            "applicant_uzi_number",
            "invalid_uzi_number",
            _("A UZI number has 9 digits; it is printed on your UZI card."),
        )
    if not data.declaration:
        wrong(
            "declaration",
            "declaration_required",
            _("Confirm that you may represent this organisation and that the details are correct."),
        )
    return errors


def _refuse_taken_ura(ura: str) -> None:
    """The form is anonymous: it says the URA is taken, never by whom (no organisation's or
    person's name leaves through it)."""
    if not Organisation.objects.filter(ura=ura).exists():
        return
    raise Conflict(
        "ura_registered",
        _(
            "URA %(ura)s is already registered with Zorgsleutel. Ask an administrator of your "
            "organisation to add you."
        )
        % {"ura": ura},
        field="ura",
    )


def submit_application(*, data: ApplicationData, locale: str) -> Application:
    """Store the application and mail it to the applicant (seed: U ontvangt een e-mail met de
    aanvraag)."""
    data = check(data)
    _refuse_taken_ura(data.ura)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                organisation_name=data.organisation_name,
                kvk_number=data.kvk_number,
                ura=data.ura,
                agb_code=data.agb_code,
                street=data.street,
                postal_code=data.postal_code,
                city=data.city,
                applicant_name=data.applicant_name,
                applicant_email=data.applicant_email,
                applicant_uzi_number=data.applicant_uzi_number,
                language=locale,
                submitted_at=clock.now(),
            )
            audit.record(
                "application.submitted",
                actor=application,
                target=application,
                details={"ura": data.ura, "kvk": data.kvk_number},
            )
            enqueue_mail(
                template="application_received",
                to=application.applicant_email,
                context={"application": _mail_view(application)},
                locale=locale,
            )
    except IntegrityError:
        raise Conflict(
            "application_open",
            _(
                "An application for this URA is already being processed. You will receive an "
                "e-mail once it has been handled."
            ),
            field="ura",
        ) from None
    return application


def submitted_here(public_id: str) -> Application | None:
    """The application a browser submitted (its session keeps the public id), for the step plan
    of its pages: None when it has none, or the id is no application's (any more)."""
    try:
        return Application.objects.filter(public_id=uuid.UUID(public_id)).first()
    except (TypeError, ValueError):
        return None


def _mail_view(application: Application) -> dict:
    """What the mails show of an application (plain values, rendered in the worker's absence)."""
    return {
        "reference": application.reference,
        "organisation_name": application.organisation_name,
        "kvk_number": application.kvk_number,
        "ura": application.ura,
        "agb_code": application.agb_code or "-",
        "address": f"{application.street}, {application.postal_code} {application.city}",
        "applicant_name": application.applicant_name,
        "applicant_email": application.applicant_email,
        "applicant_uzi_number": application.applicant_uzi_number,
    }


def _locked(application_id) -> Application:
    application = (
        Application.objects.select_for_update().filter(public_id=application_id).first()
        if application_id
        else None
    )
    if application is None:
        raise NotFound("application_not_found", _("This application does not exist."))
    return application


def validation_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _mail_validation_link(application: Application, link: str) -> None:
    enqueue_mail(
        template="application_approved",
        to=application.applicant_email,
        context={
            "application": _mail_view(application),
            "link": link,
            "hours": int(policies.VALIDATION_LINK_TTL.total_seconds() // 3600),
        },
        locale=application.language,
    )


def _issue_validation_link(application: Application) -> str:
    raw = secrets.token_urlsafe(32)
    application.validation_token_hash = validation_digest(raw)
    application.validation_expires_at = clock.now() + policies.VALIDATION_LINK_TTL
    return settings.SITE_URL + reverse("organisations:validate", args=[raw])


def approve_application(*, actor: User | str, application_id) -> Application:
    """Approve: the applicant gets the confirmation with a single-use validation link."""
    require_operator(actor, "applications.review")
    with transaction.atomic():
        application = _locked(application_id)
        if application.state != Application.SUBMITTED:
            raise Conflict("already_decided", _("This application has already been handled."))
        _refuse_taken_ura(application.ura)
        if applicant_account.standing(application) == applicant_account.OPERATOR:
            raise Conflict(  # the validation would refuse it (policies.validation_refusal)
                "operator_not_allowed",
                _(
                    "The applicant's e-mail address belongs to an operator's account, and "
                    "operators never become members of an organisation. Reject this application."
                ),
            )
        link = _issue_validation_link(application)
        application.state = Application.APPROVED
        application.decided_at = clock.now()
        application.decided_by = actor if isinstance(actor, User) else None
        application.save()
        audit.record("application.approved", actor=actor, target=application)
        _mail_validation_link(application, link)
    return application


def renew_validation_link(*, actor: User | str, application_id) -> Application:
    """An approved application whose link expired or got lost: a new link, the old one dies."""
    require_operator(actor, "applications.review")
    with transaction.atomic():
        application = _locked(application_id)
        if application.state != Application.APPROVED:
            raise Conflict("not_approved", _("Only an approved application gets a new link."))
        link = _issue_validation_link(application)
        application.save(update_fields=["validation_token_hash", "validation_expires_at"])
        audit.record("application.link_renewed", actor=actor, target=application)
        _mail_validation_link(application, link)
    return application


def reject_application(*, actor: User | str, application_id, reason: str) -> Application:
    """Reject with a reason, which the applicant receives by e-mail."""
    require_operator(actor, "applications.review")
    reason = (reason or "").strip()
    if len(reason) < policies.REASON_MIN_LENGTH:
        raise DomainError(
            "reason_required",
            _("Give the applicant a reason (at least 5 characters)."),
            field="reason",
        )
    with transaction.atomic():
        application = _locked(application_id)
        if application.state != Application.SUBMITTED:
            raise Conflict("already_decided", _("This application has already been handled."))
        application.state = Application.REJECTED
        application.decided_at = clock.now()
        application.decided_by = actor if isinstance(actor, User) else None
        application.rejection_reason = reason[:2000]
        application.save()
        audit.record(
            "application.rejected", actor=actor, target=application, details={"reason": reason}
        )
        enqueue_mail(
            template="application_rejected",
            to=application.applicant_email,
            context={"application": _mail_view(application), "reason": reason},
            locale=application.language,
        )
    return application
