"""One table of refusals (authn/refusals.py): every code and the Dutch words a person reads for
it, wherever it is refused, written out; and the login by password + SMS code audits each of its
refusals with that code."""

from __future__ import annotations

import pytest
from django.utils import translation

from people import PASSWORD
from zorgsleutel.authn import password, refusals
from zorgsleutel.authn.pending import LOGIN, PendingCode
from zorgsleutel.core import clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.people.models import Membership, User

# The seeds' wording: a person blocked in their only organisation reads that their account is
# blocked, whichever means they tried (the review found "Uw organisatie is geschorst").
DUTCH = {
    "account_blocked": "Uw account is geblokkeerd. Neem contact op met uw beheerder.",
    "organisation_suspended": "Uw organisatie is geschorst. Neem contact met ons op.",
    "app_required": "Uw rol vereist de Zorgsleutel-app: log in met de app.",
    "app_held": (
        "Uw Zorgsleutel-app is geblokkeerd of verwijderd. Uw beheerder kan de app deblokkeren "
        "of u de app opnieuw laten koppelen."
    ),
    "no_phone": "Voor dit account is geen mobiel telefoonnummer ingesteld.",
    "device_blocked": (
        "Deze app is geblokkeerd. Vraag uw beheerder om te deblokkeren, of koppel de app opnieuw."
    ),
    "device_unknown": "Deze app is niet (meer) gekoppeld.",
    "device_pending": (
        "Deze app wacht op toestemming van de portaaladministrator of beheerder van uw organisatie."
    ),
    "forbidden": "U mag dit niet doen.",
    "authenticator_not_accepted": (
        "De Zorgsleutel-app waarmee u bent ingelogd is voor deze organisatie geblokkeerd of "
        "verwijderd. De portaaladministrator of beheerder van deze organisatie kan de app "
        "deblokkeren."
    ),
    "not_yourself": "Dit kunt u niet bij uw eigen account doen.",
    "role_not_allowed": (
        "Alleen een portaaladministrator kan de rol Beheerder toekennen of iets doen bij iemand "
        "met die rol."
    ),
    "last_administrator": (
        "Een organisatie houdt altijd minstens één portaaladministrator. Wijs eerst een andere "
        "portaaladministrator toe."
    ),
    "operator_not_member": "Operators kunnen geen lid zijn van een organisatie.",
    "already_member": "Deze persoon is al lid.",
    "not_invited": "Deze persoon heeft het account al geactiveerd.",
    "not_blocked": "Deze persoon is niet geblokkeerd.",
    "device_revoked": "Deze app is verwijderd.",
    "device_not_removed": "Verwijder de app eerst.",
    "smartcard_required": "U hebt een smartcard: log in met uw smartcard.",
    "smartcard_holder_role_own": (
        "U gebruikt een smartcard. Portaaladministrators en beheerders loggen in met de "
        "Zorgsleutel-app: meld eerst uw smartcard als kwijt (Mijn Zorgsleutel, Uw smartcards) en "
        "accepteer dan."
    ),
    "smartcard_holder_role": (
        "Deze persoon gebruikt een smartcard. Portaaladministrators en beheerders loggen in met "
        "de app: de smartcard moet eerst worden verwijderd."
    ),
    "smartcard_held": (
        "Uw smartcard is geblokkeerd. Alleen uw portaaladministrator of beheerder kan hem "
        "deblokkeren."
    ),
    "app_smartcard_exclusive": (
        "U hebt een smartcard. De Zorgsleutel-app werkt daar niet mee samen: meld eerst uw "
        "smartcard als kwijt (Mijn Zorgsleutel, Uw smartcards) en koppel dan de app."
    ),
}


def test_the_table_words_every_refusal_so():
    assert set(refusals.TEXTS) == set(DUTCH)
    with translation.override("nl"):
        worded = {
            code: str(refusals.error(code, role="Beheerder").message) for code in refusals.TEXTS
        }
    assert worded == DUTCH
    # means.refusal's reasons: blocked in every organisation reads as a blocked account.
    assert refusals.REASON_CODES == {"membership_blocked": "account_blocked"}
    assert refusals.code_for("membership_blocked") == "account_blocked"
    assert refusals.code_for("app_held") == "app_held"


def test_the_error_carries_the_code_and_the_status_the_caller_gives():
    refused = refusals.error("not_yourself")
    assert (type(refused), refused.code, refused.status) == (PermissionDenied, "not_yourself", 403)
    conflict = refusals.error("already_member", Conflict, field="email")
    assert (type(conflict), conflict.status, conflict.as_dict()["field"]) == (
        Conflict,
        409,
        "email",
    )
    assert refusals.error("device_unknown", NotFound).status == 404


# --- The login by password + SMS code audits each refusal -----------------------------------


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(
        name="Zorggroep Weiger", kind=Organisation.CARE_PROVIDER, ura="90000333"
    )


@pytest.fixture
def member(organisation, person, clear_throttles):
    user = person(organisation, "member", email="lid@weiger.nl")
    User.objects.filter(pk=user.pk).update(phone_enrolment="enr_test")
    Membership.objects.filter(user=user).update(accepted_at=clock.now())
    user.refresh_from_db()
    return user


@pytest.fixture
def clear_throttles():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _refused() -> list[tuple[str, str, str, dict]]:
    return [
        (e.organisation, e.target, e.outcome, e.details)
        for e in AuditEvent.objects.filter(action="login.refused").order_by("seq")
    ]


def test_no_phone_on_record_is_refused_and_audited(organisation, member):
    User.objects.filter(pk=member.pk).update(phone_enrolment="")
    with pytest.raises(DomainError) as refused:
        password.check_credentials(email="lid@weiger.nl", password=PASSWORD, ip="10.0.0.1")
    assert refused.value.code == "no_phone"
    assert _refused() == [
        (
            organisation.audit_ref,
            member.audit_ref,
            "denied",
            {"reason": "no_phone", "names": {member.audit_ref: "lid@weiger.nl"}},
        )
    ]


def test_a_blocked_account_is_refused_at_the_password_and_audited(organisation, member):
    User.objects.filter(pk=member.pk).update(state=User.BLOCKED)
    with pytest.raises(DomainError) as refused:
        password.check_credentials(email="lid@weiger.nl", password=PASSWORD, ip="10.0.0.1")
    assert refused.value.code == "account_blocked"
    assert _refused() == [
        (
            organisation.audit_ref,
            member.audit_ref,
            "denied",
            {
                "state": "blocked",
                "reason": "account_blocked",
                "names": {member.audit_ref: "lid@weiger.nl"},
            },
        )
    ]


def test_blocked_between_the_password_and_the_code_is_refused_and_audited(organisation, member):
    """Before: the code step answered account_blocked and recorded nothing."""
    pending = PendingCode(LOGIN, member.pk, "chl_x", "06 •• •• •• 01", clock.now().timestamp())
    User.objects.filter(pk=member.pk).update(state=User.BLOCKED)
    with pytest.raises(DomainError) as refused:
        password.verify_code(pending=pending, code="123456")
    assert refused.value.code == "account_blocked"
    assert [details for *_, details in _refused()] == [
        {
            "state": "blocked",
            "reason": "account_blocked",
            "names": {member.audit_ref: "lid@weiger.nl"},
        }
    ]


def test_blocked_in_the_only_organisation_reads_as_a_blocked_account(organisation, member):
    Membership.objects.filter(user=member).update(state=Membership.BLOCKED)
    with pytest.raises(DomainError) as refused, translation.override("nl"):
        password.check_credentials(email="lid@weiger.nl", password=PASSWORD, ip="10.0.0.1")
    assert refused.value.code == "account_blocked"
    assert str(refused.value.message) == DUTCH["account_blocked"]
    assert [details["reason"] for *_, details in _refused()] == ["membership_blocked"]
