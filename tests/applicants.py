"""A care provider's application as test data (seed 003, step 2), for every test folder."""

from __future__ import annotations

URA, UZI = "90000382", "900016528"


def application_data(**changes):
    """ApplicationData of Huisartsenpraktijk De Linde, applicant Jan Test; override any field."""
    from zorgsleutel.organisations.flows.applications import ApplicationData

    values = {
        "organisation_name": "Huisartsenpraktijk De Linde",
        "kvk_number": "12345678",
        "ura": URA,
        "agb_code": "",
        "street": "Lindelaan 1",
        "postal_code": "1234 AB",
        "city": "Utrecht",
        "applicant_name": "Jan Test",
        "applicant_email": "jan@delinde.nl",
        "applicant_uzi_number": UZI,
        "declaration": True,
    }
    return ApplicationData(**{**values, **changes})


def approved_application(**changes):
    """(application, the validation link's path) after an operator approved it."""
    import re

    from zorgsleutel.accounts.models import User
    from zorgsleutel.messaging.models import OutboxMail
    from zorgsleutel.organisations.flows import applications
    from zorgsleutel.organisations.models import Application

    operator, _ = User.objects.get_or_create(
        email="ops@zorgsleutel.test",
        defaults={"name": "Ops", "state": User.ACTIVE, "is_operator": True},
    )
    application = applications.submit_application(data=application_data(**changes), locale="nl")
    applications.approve_application(actor=operator, application_id=application.public_id)
    mail = OutboxMail.objects.filter(template="application_approved").order_by("-pk").first()
    url = re.search(r"https?://\S+/organisatie/valideren/\S+", mail.body_text).group(0)
    return Application.objects.get(pk=application.pk), url
