"""Activation and reset end logged in by password + SMS (the person has just shown both), under
that means' rules: the level it gives ("low"), and never past what an SMS login would allow."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client

from appids import app_id
from people import PASSWORD
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]
NEW_PASSWORD = "Nieuw-wachtwoord-2026"
LOGGED_IN = "zs_acr", "zs_amr", "zs_means"
NAMES = "names"  # the addresses the organisation knows the event's people by (core/audit.py)
APP_REQUIRED = "Uw rol vereist de Zorgsleutel-app: log in met de app."
APP_HELD = (
    "Uw Zorgsleutel-app is geblokkeerd of verwijderd. Uw beheerder kan de app deblokkeren of u "
    "de app opnieuw laten koppelen."
)


@pytest.fixture
def texts(vault_service):
    """`texts(hint)`: how many SMS the vault sent to this masked number since the test began."""
    began = datetime.now().astimezone()

    def count(hint: str) -> int:
        return sum(
            1
            for sms in vault_service.dev_sms()
            if sms["to"] == hint and datetime.fromisoformat(sms["sent_at"]) >= began
        )

    return count


def _invite(organisation, person, mailed_link, role: str = "member") -> tuple[User, str]:
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    membership = members.invite_member(
        actor=admin, organisation=organisation, name="Nina Nieuw", email="nina@zorggroep.nl",
        role=role,
    )  # fmt: skip
    return membership.user, mailed_link("nina@zorggroep.nl")


def _reset_link(user: User) -> str:
    raw = tokens.issue(user=user, purpose=LinkToken.PASSWORD_RESET, ttl=timedelta(minutes=60))
    return f"/wachtwoord-herstellen/{raw}"


def _set_up(client, link: str, number: str, sms_code, *, wrong: bool = False):
    """Password and phone on the link's form, then the code texted to the number (or another)."""
    data = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "phone": number}
    assert client.post(link, data).status_code == 302
    code = sms_code(f"06 •• •• •• {number[-2:]}")
    if wrong:
        code = f"{(int(code) + 1) % 1_000_000:06d}"
    return client.post(link + "/code", {"code": code})


def _session_of(client) -> dict:
    session = client.session
    return {key: session.get(key) for key in ("_auth_user_id", *LOGGED_IN)}


def _logins(action: str = "login.succeeded") -> list[tuple[str, dict]]:
    return [(e.target, e.details) for e in AuditEvent.objects.filter(action=action).order_by("seq")]


def test_activation_ends_logged_in_by_sms_with_one_text(
    client, organisation, person, mailed_link, sms_code, fresh_number, texts
):
    user, link = _invite(organisation, person, mailed_link)
    done = _set_up(client, link, fresh_number("31"), sms_code)

    assert done.status_code == 302 and done["Location"] == "/mijn"
    assert _session_of(client) == {
        "_auth_user_id": str(user.pk), "zs_acr": "low", "zs_amr": ["pwd", "sms"], "zs_means": "sms"
    }  # fmt: skip
    assert _logins() == [
        (
            user.audit_ref,
            {
                "acr": "low",
                "amr": ["pwd", "sms"],
                "means": "sms",
                NAMES: {user.audit_ref: "nina@zorggroep.nl"},
            },
        )
    ]
    home = client.get("/mijn")
    assert home.status_code == 200
    assert (
        "Uw wachtwoord en mobiele telefoonnummer zijn opgeslagen en u bent ingelogd. Voortaan "
        "logt u in met uw wachtwoord en een sms-code." in home.content.decode()
    )
    assert texts("06 •• •• •• 31") == 1  # the activation's code only: no second one to log in
    user.refresh_from_db()
    assert user.state == User.ACTIVE and user.check_password(NEW_PASSWORD)


def test_a_reset_ends_logged_in_and_ends_every_other_session(
    client, organisation, person, vault_service, sms_code, fresh_number, texts, login_as
):
    user = person(organisation, "member", email="lid@zorggroep.nl")
    elsewhere = Client()
    login_as(elsewhere, user, acr="low")
    assert elsewhere.get("/mijn").status_code == 200

    done = _set_up(client, _reset_link(user), fresh_number("32"), sms_code)

    assert done.status_code == 302 and done["Location"] == "/mijn"
    assert _session_of(client) == {
        "_auth_user_id": str(user.pk), "zs_acr": "low", "zs_amr": ["pwd", "sms"], "zs_means": "sms"
    }  # fmt: skip
    assert _logins() == [
        (
            user.audit_ref,
            {
                "acr": "low",
                "amr": ["pwd", "sms"],
                "means": "sms",
                NAMES: {user.audit_ref: "lid@zorggroep.nl"},
            },
        )
    ]
    assert client.get("/mijn").status_code == 200  # the new session is of the new epoch
    assert elsewhere.get("/mijn").status_code == 302  # the one from before the reset ended
    assert texts("06 •• •• •• 32") == 1


def test_a_wrong_code_saves_nothing_and_logs_nobody_in(
    client, organisation, person, mailed_link, sms_code, fresh_number
):
    user, link = _invite(organisation, person, mailed_link)
    answer = _set_up(client, link, fresh_number("33"), sms_code, wrong=True)
    assert answer.status_code == 200 and "4" in answer.content.decode()  # attempts left
    assert _session_of(client) == dict.fromkeys(("_auth_user_id", *LOGGED_IN))
    assert _logins() == []
    user.refresh_from_db()
    assert user.state == User.INVITED and not user.has_usable_password()


def test_a_role_that_needs_the_app_is_sent_on_to_link_it_as_after_an_sms_login(
    client, organisation, person, mailed_link, sms_code, fresh_number
):
    """A care provider's manager without an app yet: logged in at "low" (SMS), and the only
    way on is to link the app, exactly as after an SMS login."""
    user, link = _invite(organisation, person, mailed_link, role="manager")
    done = _set_up(client, link, fresh_number("34"), sms_code)
    assert done.status_code == 302 and done["Location"] == "/mijn"
    assert _session_of(client)["zs_acr"] == "low"
    assert _logins() == [
        (
            user.audit_ref,
            {
                "acr": "low",
                "amr": ["pwd", "sms"],
                "means": "sms",
                NAMES: {user.audit_ref: "nina@zorggroep.nl"},
            },
        )
    ]
    for page in ("/mijn", "/beheer"):  # nothing but linking the app
        answer = client.get(page, HTTP_ACCEPT="text/html")
        assert answer.status_code == 302 and answer["Location"] == "/mijn/app-koppelen"
    assert client.get("/beheer").status_code == 403  # an API call: assurance_required


def _app(user: User, organisation, state: str):
    """An app ID that works ("active"), or that the organisation blocked for itself."""
    return app_id(user, decided={} if state == "active" else {organisation: state})


@pytest.mark.parametrize(
    ("app_state", "reason", "message"),
    [("active", "app_required", APP_REQUIRED), ("blocked", "app_held", APP_HELD)],
)
def test_a_reset_never_logs_in_by_sms_whom_the_app_rules_refuse(
    client, organisation, person, sms_code, fresh_number, app_state, reason, message
):
    """The app is the way in (or it is blocked): the reset saves password and phone, and the
    person reads on the login page what an SMS login would have told them."""
    manager = person(organisation, "manager", email="chef@zorggroep.nl")
    _app(manager, organisation, app_state)

    done = _set_up(client, _reset_link(manager), fresh_number("35"), sms_code)

    assert done.status_code == 302 and done["Location"] == "/inloggen"
    assert _session_of(client) == dict.fromkeys(("_auth_user_id", *LOGGED_IN))
    assert _logins() == []
    assert _logins("login.refused") == [
        (manager.audit_ref, {"reason": reason, NAMES: {manager.audit_ref: "chef@zorggroep.nl"}})
    ]
    page = client.get("/inloggen").content.decode()
    assert "Uw wachtwoord en mobiele telefoonnummer zijn opgeslagen." in page and message in page
    manager.refresh_from_db()
    assert manager.check_password(NEW_PASSWORD) and not manager.check_password(PASSWORD)
    assert client.get("/mijn").status_code == 302


def test_a_person_blocked_everywhere_is_not_logged_in_by_a_reset(
    client, organisation, person, sms_code, fresh_number
):
    user = person(organisation, "member", email="lid@zorggroep.nl")
    Membership.objects.filter(user=user).update(state=Membership.BLOCKED)
    done = _set_up(client, _reset_link(user), fresh_number("36"), sms_code)
    assert done.status_code == 302 and done["Location"] == "/inloggen"
    assert _session_of(client)["_auth_user_id"] is None
    assert _logins("login.refused") == [
        (
            user.audit_ref,
            {"reason": "membership_blocked", NAMES: {user.audit_ref: "lid@zorggroep.nl"}},
        )
    ]
