"""The words of the mailed links (docs/glossary.md, "Links and how long they work"): the reset
mail calls its link a herstellink, never an activation link; a used or expired link says who can
send a new one; every mail says its link's lifetime in hours."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from zorgsleutel.accounts import tasks
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import LinkToken, User
from zorgsleutel.core import clock
from zorgsleutel.messaging.models import OutboxMail

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+")

RESET_MAIL_NL = "\n\n".join(
    [
        "Beste Annet Actief,",
        "U hebt gevraagd om een nieuw wachtwoord en mobiel telefoonnummer in te stellen. Open "
        "deze herstellink:",
        "LINK",
        "De herstellink is 1 uur geldig en werkt één keer. Hebt u dit niet gevraagd? Negeer dan "
        "deze e-mail; er verandert niets.",
        "Dit bericht is automatisch verstuurd door Zorgsleutel. U kunt er niet op antwoorden.",
    ]
)
RESET_MAIL_EN = "\n\n".join(
    [
        "Dear Annet Actief,",
        "You asked to set a new password and mobile phone number. Open this reset link:",
        "LINK",
        "The reset link is valid for 1 hour and can be used once. Did you not ask for this? Then "
        "ignore this e-mail; nothing changes.",
        "This message was sent automatically by Zorgsleutel. You cannot reply to it.",
    ]
)

USED_ACTIVATION_LINK = (
    "Deze activatielink is niet (meer) geldig: hij werkt één keer en een beperkte tijd. Hebt u "
    "uw account al geactiveerd? Log dan in. Zo niet, vraag dan een beheerder of "
    "portaaladministrator van uw organisatie om een nieuwe activatielink: zelf kunt u die niet "
    "aanvragen."
)
USED_RESET_LINK = (
    "Deze herstellink is niet (meer) geldig: hij werkt één keer en een beperkte tijd. Vraag een "
    "nieuwe aan met Wachtwoord vergeten op de inlogpagina."
)


@pytest.fixture
def active(organisation, person):
    return person(organisation, "member", email="actief@zorggroep.nl", name="Annet Actief")


def _reset_mail(user) -> OutboxMail:
    tasks.mail_reset_link.call(user.email)
    return OutboxMail.objects.get(to=user.email, template="password_reset")


def _body(mail: OutboxMail) -> str:
    return LINK.sub("LINK", mail.body_text).strip()


def test_the_reset_mail_calls_its_link_a_herstellink(active):
    mail = _reset_mail(active)
    assert mail.subject == "Nieuw Zorgsleutel-wachtwoord en mobiel telefoonnummer instellen"
    assert _body(mail) == RESET_MAIL_NL
    assert "activatie" not in mail.body_text + mail.body_html + mail.subject


def test_the_reset_mail_in_english(active):
    User.objects.filter(pk=active.pk).update(language="en")
    active.refresh_from_db()
    mail = _reset_mail(active)
    assert mail.subject == "Set a new Zorgsleutel password and mobile number"
    assert _body(mail) == RESET_MAIL_EN


def test_the_activation_mail_says_hours_and_who_sends_a_new_link(organisation, person):
    manager = person(organisation, "manager")
    members.invite_member(
        actor=manager, organisation=organisation, name="Nina Nieuw", email="nina@zorggroep.nl"
    )
    mail = OutboxMail.objects.get(to="nina@zorggroep.nl")
    assert (
        "De activatielink is 72 uur geldig en werkt één keer. Is hij verlopen? Vraag dan een "
        "beheerder of portaaladministrator van uw organisatie om een nieuwe."
    ) in mail.body_text


def _page_message(response) -> str:
    return html.unescape(
        re.search(r"<h1>[^<]*</h1>\s*<p>([^<]*)</p>", response.content.decode())[1]
    )


def test_a_used_activation_link_says_only_a_manager_or_administrator_sends_a_new_one(
    client, organisation, person, mailed_link
):
    manager = person(organisation, "manager")
    members.invite_member(
        actor=manager, organisation=organisation, name="Nina Nieuw", email="nina@zorggroep.nl"
    )
    link = mailed_link("nina@zorggroep.nl")
    with clock.frozen(clock.now() + timedelta(hours=73)):  # expired
        expired = client.get(link)
    assert expired.status_code == 404
    assert _page_message(expired) == USED_ACTIVATION_LINK
    LinkToken.objects.filter(user__email="nina@zorggroep.nl").update(used_at=clock.now())
    used = client.get(link)
    assert (used.status_code, _page_message(used)) == (404, USED_ACTIVATION_LINK)


def test_a_used_reset_link_says_ask_again_with_forgot_password(client, active, mailed_link):
    _reset_mail(active)
    link = mailed_link(active.email)
    with clock.frozen(clock.now() + timedelta(hours=2)):
        response = client.get(link)
    assert response.status_code == 404
    assert _page_message(response) == USED_RESET_LINK
