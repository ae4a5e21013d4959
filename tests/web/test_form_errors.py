"""Forms that help (issue 17, NL Design System's form guidance): every form sent empty or wrong
shows ALL its errors at once, in an error summary at the top of the form that links each message
to its field, and "Fout:" before the page title; an empty field says what to fill in ("Vul … in"),
a filled-in wrong one what is wrong; every message in the page's language. The browser's own
validation is off (novalidate): only the server says a field is wrong."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from card_orders import ADDRESS, shop  # noqa: F401 (the fixture)
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.authn import pending
from zorgsleutel.core import clock
from zorgsleutel.organisations.forms import ApplicationForm
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.smartcards import orders

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "zorgsleutel"


class _Page(HTMLParser):
    """What a person reads of a page: its title, the error summaries (heading and items, each
    with the id it links to) and the ids on the page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.summaries: list[dict] = []
        self.ids: set[str] = set()
        self._in = []  # open tags that matter: "title", "summary", "h2", "li"
        self._depth = 0  # divs open inside the summary
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "title":
            self._in.append("title")
        elif tag == "div" and "data-error-summary" in attrs:
            assert attrs.get("tabindex") == "-1"  # errors.js moves focus here
            self.summaries.append({"heading": "", "items": []})
            self._in.append("summary")
            self._depth = 1
        elif "summary" in self._in:
            if tag == "div":
                self._depth += 1
            elif tag == "h2":
                self._in.append("h2")
            elif tag == "li":
                self.summaries[-1]["items"].append(["", ""])
                self._in.append("li")
            elif tag == "a" and "li" in self._in:
                self.summaries[-1]["items"][-1][0] = attrs["href"]

    def handle_endtag(self, tag):
        if tag in ("title", "h2", "li") and self._in and self._in[-1] == tag:
            self._in.pop()
        elif tag == "div" and "summary" in self._in:
            self._depth -= 1
            if self._depth == 0:
                self._in.remove("summary")

    def handle_data(self, data):
        if self._in and self._in[-1] == "title":
            self.title += data
        elif self._in and self._in[-1] == "h2":
            self.summaries[-1]["heading"] += data
        elif self._in and self._in[-1] == "li":
            self.summaries[-1]["items"][-1][1] += data


def summary(response) -> tuple[str, str, list[tuple[str, str]]]:
    """(title, heading, [(link, message)]) of a page with one error summary; every link names
    an id on the page."""
    assert response.status_code == 200
    page = _Page(response.content.decode())
    assert len(page.summaries) == 1
    (found,) = page.summaries
    items = [(link, " ".join(message.split())) for link, message in found["items"]]
    for link, _message in items:
        assert not link or link[1:] in page.ids, link
    return " ".join(page.title.split()), found["heading"], items


def no_summary(response) -> str:
    page = _Page(response.content.decode())
    assert page.summaries == []
    return " ".join(page.title.split())


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(
        name="Zorggroep Test",
        kind=Organisation.CARE_PROVIDER,
        state="validated",
        ura="90000111",
        application_roles=["declaraties", "inzage"],
    )


# --- Inloggen, Verifieer, Wachtwoord vergeten ------------------------------------------------


def test_the_login_form_sent_empty(client):
    assert no_summary(client.get("/inloggen")) == "Inloggen · Zorgsleutel"
    assert summary(client.post("/inloggen", {"email": "", "password": ""})) == (
        "Fout: Inloggen · Zorgsleutel",
        "Er zijn 2 fouten in het formulier",
        [("#id_email", "Vul uw e-mailadres in."), ("#id_password", "Vul uw wachtwoord in.")],
    )


def test_the_login_form_with_a_wrong_address_and_no_password(client):
    assert summary(client.post("/inloggen", {"email": "nina@", "password": ""}))[2] == [
        ("#id_email", "Vul een geldig e-mailadres in, zoals naam@organisatie.nl."),
        ("#id_password", "Vul uw wachtwoord in."),
    ]


def test_a_refused_login_is_in_the_summary_without_a_link(client, organisation, person):
    person(organisation, "member", email="wim@zorggroep.nl")
    response = client.post("/inloggen", {"email": "wim@zorggroep.nl", "password": "Niet-zijn-2026"})
    assert summary(response)[1:] == (
        "Er is 1 fout in het formulier",
        [("", "Het e-mailadres of wachtwoord is niet juist.")],
    )


def test_the_code_form_sent_empty(client, organisation, person):
    user = person(organisation, "member")
    session = client.session
    pending.keep(
        session,
        pending.PendingCode(
            pending.LOGIN, user.pk, "challenge", "06 •• •• •• 01", clock.now().timestamp()
        ),
    )
    session.save()
    assert summary(client.post("/inloggen/code", {"code": ""})) == (
        "Fout: Sms-code invullen · Zorgsleutel",
        "Er is 1 fout in het formulier",
        [("#id_code", "Vul de sms-code in.")],
    )


def test_the_forgot_password_form_sent_empty(client):
    assert summary(client.post("/wachtwoord-vergeten", {"email": ""})) == (
        "Fout: Wachtwoord vergeten · Zorgsleutel",
        "Er is 1 fout in het formulier",
        [("#id_email", "Vul uw e-mailadres in.")],
    )


# --- Activation and reset: password, again, phone ----------------------------------------------


@pytest.fixture
def activation_link(organisation, person, mailed_link):
    manager = person(organisation, "manager")
    members.invite_member(
        actor=manager, organisation=organisation, name="Nina Nieuw", email="nina@zorggroep.nl"
    )
    return mailed_link("nina@zorggroep.nl")


def test_the_activation_form_sent_empty(client, activation_link):
    empty = {"password": "", "password_again": "", "phone": ""}
    assert summary(client.post(activation_link, empty)) == (
        "Fout: Uw account activeren · Zorgsleutel",
        "Er zijn 3 fouten in het formulier",
        [
            ("#id_password", "Vul een nieuw wachtwoord in."),
            ("#id_password_again", "Vul het nieuwe wachtwoord nog een keer in."),
            ("#id_phone", "Vul uw mobiele telefoonnummer in."),
        ],
    )


def test_a_short_password_a_mismatch_and_a_bad_number_all_at_once(client, activation_link):
    """The issue's own example: a mismatch no longer hides a too-short password."""
    response = client.post(
        activation_link, {"password": "kort", "password_again": "anders", "phone": "nul zes"}
    )
    assert summary(response)[1:] == (
        "Er zijn 3 fouten in het formulier",
        [
            ("#id_password", "Dit wachtwoord is te kort. Het moet minimaal 12 tekens bevatten."),
            ("#id_password_again", "De twee wachtwoorden zijn niet hetzelfde."),
            ("#id_phone", "Dit is geen geldig mobiel telefoonnummer."),
        ],
    )
    assert User.objects.get(email="nina@zorggroep.nl").state == User.INVITED  # nothing saved


@pytest.mark.parametrize(
    "password, message",
    [
        (
            "wachtwoord123",
            "Dit wachtwoord is een veelgebruikt woord of wachtwoord met alleen cijfers of tekens "
            "erbij, en is daardoor makkelijk te raden.",
        ),
        (
            "aaaaaaaaaaaa",
            "Dit wachtwoord is makkelijk te raden: het bestaat uit herhaalde tekens of een reeks, "
            "zoals aaaa, abcd, 1234 of qwerty.",
        ),
        (
            "password1234",
            "Dit wachtwoord staat op een lijst van veelgebruikte en uitgelekte wachtwoorden, en "
            "is daardoor makkelijk te raden.",
        ),
    ],
)
def test_a_common_password_is_refused_and_the_page_says_why(
    client, activation_link, password, message
):
    response = client.post(
        activation_link, {"password": password, "password_again": password, "phone": ""}
    )
    assert summary(response)[2] == [
        ("#id_password", message),
        ("#id_phone", "Vul uw mobiele telefoonnummer in."),
    ]


def test_the_reset_form_refuses_a_common_password_too(client, organisation, person):
    user = person(organisation, "member", email="wim@zorggroep.nl")
    raw = tokens.issue(user=user, purpose=LinkToken.PASSWORD_RESET, ttl=timedelta(minutes=60))
    response = client.post(
        f"/wachtwoord-herstellen/{raw}",
        {"password": "Welkom2026!!", "password_again": "Welkom2026!", "phone": "06 12345678"},
    )
    assert summary(response) == (
        "Fout: Nieuw wachtwoord en mobiel telefoonnummer instellen · Zorgsleutel",
        "Er zijn 2 fouten in het formulier",
        [
            (
                "#id_password",
                "Dit wachtwoord is een veelgebruikt woord of wachtwoord met alleen cijfers of "
                "tekens erbij, en is daardoor makkelijk te raden.",
            ),
            ("#id_password_again", "De twee wachtwoorden zijn niet hetzelfde."),
        ],
    )


def test_the_summary_is_english_on_an_english_page(client, activation_link):
    client.cookies["django_language"] = "en"
    response = client.post(
        activation_link, {"password": "wachtwoord123", "password_again": "", "phone": ""}
    )
    assert summary(response) == (
        "Error: Activate your account · Zorgsleutel",
        "There are 3 errors in the form",
        [
            (
                "#id_password",
                "This password is a common word or password with only digits or symbols added, "
                "so it is easy to guess.",
            ),
            ("#id_password_again", "Fill in the new password a second time."),
            ("#id_phone", "Fill in your mobile phone number."),
        ],
    )


# --- Beheer: Nieuwe gebruiker, a member's smartcards --------------------------------------------


def test_the_new_user_form_sent_empty(client, organisation, person, login_as):
    login_as(client, person(organisation, "administrator"))
    response = client.post(f"/beheer/{organisation.public_id}/nieuwe-gebruiker", {"role": ""})
    assert summary(response) == (
        "Fout: Nieuwe gebruiker · Zorggroep Test · Zorgsleutel",
        "Er zijn 3 fouten in het formulier",
        [
            ("#id_name", "Vul de naam van de gebruiker in."),
            ("#id_email", "Vul het zakelijke e-mailadres van de gebruiker in."),
            ("#id_role", "Kies een rol."),
        ],
    )


def test_the_new_user_form_with_wrong_values_links_a_choice_group_to_its_first_option(
    client, organisation, person, login_as
):
    login_as(client, person(organisation, "administrator"))
    response = client.post(
        f"/beheer/{organisation.public_id}/nieuwe-gebruiker",
        {"name": "Gijs", "email": "gijs", "role": "keizer", "application_roles": ["geheim"]},
    )
    assert summary(response)[2] == [
        ("#id_email", "Vul een geldig e-mailadres in, zoals naam@organisatie.nl."),
        ("#id_role", "Kies een van de rollen uit de lijst."),
        ("#id_application_roles_0", "Kies applicatierollen uit de lijst."),
    ]


def test_the_identity_check_without_its_tick(client, organisation, person, login_as):
    admin = person(organisation, "administrator")
    worker = person(organisation, "member", name="Wim Werker")
    Membership.objects.update(accepted_at=clock.now())
    membership = Membership.objects.get(user=worker)
    login_as(client, admin)
    page = f"/beheer/{organisation.public_id}/leden/{membership.pk}/smartcards"
    assert summary(client.post(page, {"action": "confirm_identity"})) == (
        "Fout: Smartcards · Wim Werker · Zorgsleutel",
        "Er is 1 fout in het formulier",
        [
            (
                "#id_seen",
                "Vink het vakje aan om te bevestigen dat u het identiteitsbewijs hebt gezien.",
            )
        ],
    )
    ticked = client.post(page, {"action": "confirm_identity", "seen": "yes"})
    assert (ticked.status_code, ticked["Location"]) == (302, page)


# --- Stap 2 Aanvraagformulier invullen ---------------------------------------------------------


def test_the_application_form_sent_empty(client):
    # A browser sends every field (and the CSRF token), filled in or not.
    response = client.post("/organisatie/aanmelden", {"organisation_name": "", "city": ""})
    assert summary(response) == (
        "Fout: Organisatie aanmelden · Zorgsleutel",
        "Er zijn 10 fouten in het formulier",
        [
            ("#id_organisation_name", "Vul de naam van de organisatie in."),
            ("#id_kvk_number", "Vul het KvK-nummer in."),
            ("#id_ura", "Vul de URA in."),
            ("#id_street", "Vul de straat en het huisnummer in."),
            ("#id_postal_code", "Vul de postcode in."),
            ("#id_city", "Vul de plaats in."),
            ("#id_applicant_name", "Vul uw naam in."),
            ("#id_applicant_email", "Vul uw zakelijke e-mailadres in."),
            ("#id_applicant_uzi_number", "Vul uw UZI-nummer in."),
            (
                "#id_declaration",
                "Bevestig dat u deze organisatie mag vertegenwoordigen en dat de gegevens kloppen.",
            ),
        ],
    )
    assert Application.objects.count() == 0


def test_the_application_form_with_wrong_values_says_what_is_wrong(client):
    response = client.post(
        "/organisatie/aanmelden",
        {
            "organisation_name": "Huisartsenpraktijk De Linde",
            "kvk_number": "1234",
            "ura": "9000001x",
            "agb_code": "12",
            "street": "Lindelaan 1",
            "postal_code": "123 AB",
            "city": "Utrecht",
            "applicant_name": "Anna de Linde",
            "applicant_email": "anna@",
            "applicant_uzi_number": "12345",
            "declaration": "on",
        },
    )
    assert summary(response)[2] == [
        ("#id_kvk_number", "Een KvK-nummer bestaat uit 8 cijfers."),
        ("#id_ura", "Een URA bestaat uit 8 cijfers."),
        ("#id_agb_code", "Een AGB-code bestaat uit 8 cijfers (of laat het veld leeg)."),
        ("#id_postal_code", "Een postcode ziet eruit als 1234 AB."),
        ("#id_applicant_email", "Vul een geldig e-mailadres in, zoals naam@organisatie.nl."),
        (
            "#id_applicant_uzi_number",
            "Een UZI-nummer bestaat uit 9 cijfers; het staat op uw UZI-pas.",
        ),
    ]


def test_the_application_form_has_fieldsets_and_examples(client):
    grouped = [name for _legend, names in ApplicationForm.fieldsets for name in names]
    assert sorted(grouped) == sorted(ApplicationForm.base_fields)  # each field once
    html = client.get("/organisatie/aanmelden").content.decode()
    legends = re.findall(r'<legend class="[^"]*zs-fieldset__legend">([^<]+)</legend>', html)
    assert legends == ["De organisatie", "Adres", "Uw gegevens", "Verklaring"]
    for example in (
        "Bijvoorbeeld 1234 AB.",
        "8 cijfers, bijvoorbeeld 12345678. Het staat op uw uittreksel uit het Handelsregister "
        "van de KvK.",
        "8 cijfers: het abonneenummer van uw organisatie bij het UZI-register. Het staat in de "
        "bevestiging van uw abonnement van het UZI-register.",
        "8 cijfers, als uw organisatie er een heeft. Zoek hem op in het AGB-register van Vektis.",
        "9 cijfers. Het staat op uw UZI-pas.",
    ):
        assert example in html


def test_the_confirmation_page_and_the_console_show_the_reference(client, login_as):
    response = client.post(
        "/organisatie/aanmelden",
        {
            "organisation_name": "Huisartsenpraktijk De Linde",
            "kvk_number": "12345678",
            "ura": "90000123",
            "street": "Lindelaan 1",
            "postal_code": "3500AB",
            "city": "Utrecht",
            "applicant_name": "Anna de Linde",
            "applicant_email": "anna@delinde.nl",
            "applicant_uzi_number": "900000123",
            "declaration": "on",
        },
    )
    assert response.status_code == 302
    application = Application.objects.get()
    reference = str(application.public_id)[:8].upper()
    assert re.fullmatch(r"[0-9A-F]{8}", reference) and application.reference == reference
    applied = client.get(response["Location"]).content.decode()
    assert f'Kenmerk: <strong id="application-reference">{reference}</strong>' in applied
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )
    login_as(client, operator)
    detail = client.get(f"/operator/aanvragen/{application.public_id}").content.decode()
    assert f'<dd id="application-reference">{reference}</dd>' in detail
    listed = client.get("/operator/").content.decode()
    assert f'<td data-label="Kenmerk">{reference}</td>' in listed


# --- Operatorconsole: Afwijzen, Schorsen; smartcard orders ---------------------------------------


@pytest.fixture
def operator(client, login_as):
    user = User.objects.create(
        email="ops@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )
    login_as(client, user)
    return user


def _application() -> Application:
    return Application.objects.create(
        organisation_name="Praktijk Afwijzing",
        kvk_number="12345678",
        ura="90000777",
        street="Straat 1",
        postal_code="1234 AB",
        city="Plaats",
        applicant_name="Aad Aanvrager",
        applicant_email="aad@praktijk.nl",
        applicant_uzi_number="900000777",
        submitted_at=clock.now(),
    )


@pytest.mark.parametrize(
    "reason, message",
    [("", "Vul de reden in."), ("Nee.", "Een reden heeft minimaal 5 tekens.")],
)
def test_rejecting_without_a_reason(client, operator, reason, message):
    application = _application()
    response = client.post(
        f"/operator/aanvragen/{application.public_id}/afwijzen", {"reason": reason}
    )
    assert summary(response) == (
        "Fout: Praktijk Afwijzing · Aanvragen · Zorgsleutel",
        "Er is 1 fout in het formulier",
        [("#id_reason", message)],
    )
    application.refresh_from_db()
    assert application.state == Application.SUBMITTED


def test_a_reason_of_five_characters_is_enough(client, operator):
    """policies.REASON_MIN_LENGTH = 5 (four are refused above)."""
    application = _application()
    address = f"/operator/aanvragen/{application.public_id}/afwijzen"
    asked = client.post(address, {"reason": "Fout!"})  # accepted: the page that asks comes next
    assert "De aanvraag van Praktijk Afwijzing afwijzen?" in asked.content.decode()
    response = client.post(address, {"reason": "Fout!", "bevestigd": "ja"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.state, application.rejection_reason) == (Application.REJECTED, "Fout!")


def test_suspending_without_a_reason(client, operator):
    organisation = Organisation.objects.create(
        name="Zorg Schorsing", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000888"
    )
    response = client.post(
        f"/operator/organisaties/{organisation.public_id}/schorsen", {"reason": ""}
    )
    assert summary(response) == (
        "Fout: Organisaties · Operatorconsole · Zorgsleutel",
        "Er is 1 fout in het formulier",
        [(f"#reason-{organisation.pk}", "Vul de reden in.")],
    )
    html = response.content.decode()
    assert f'aria-describedby="reason-{organisation.pk}_error"' in html
    organisation.refresh_from_db()
    assert not organisation.is_suspended


def test_the_order_form_sent_empty(client, login_as, shop):  # noqa: F811
    login_as(client, shop.administrator)
    page = f"/beheer/{shop.own.public_id}/smartcards-bestellen"
    assert summary(client.post(page, {"quantity": "", "delivery_address": ""})) == (
        "Fout: Smartcards bestellen · Zorggroep Oost · Zorgsleutel",
        "Er zijn 2 fouten in het formulier",
        [
            ("#id_quantity", "Vul het aantal kaarten in."),
            ("#id_delivery_address", "Vul het adres in waar de kaarten bezorgd worden."),
        ],
    )
    assert summary(client.post(page, {"quantity": "0", "delivery_address": ""}))[2] == [
        ("#id_quantity", "Bestel 1 tot en met 500 kaarten."),
        ("#id_delivery_address", "Vul het adres in waar de kaarten bezorgd worden."),
    ]


def test_shipping_and_cancelling_an_order_sent_empty(client, login_as, shop):  # noqa: F811
    order = orders.place_card_order(
        actor=shop.administrator, organisation=shop.own, quantity=2, delivery_address=ADDRESS
    )
    login_as(client, shop.operator)
    page = f"/operator/smartcardbestellingen/{order.public_id}"
    title = f"Fout: Bestelling {order.public_id} · Smartcardbestellingen · Zorgsleutel"
    assert summary(client.post(f"{page}/verzenden", {"serials": ""})) == (
        title,
        "Er is 1 fout in het formulier",
        [("#id_serials", "Vul de serienummers van de kaarten in.")],
    )
    assert summary(client.post(f"{page}/annuleren", {"reason": ""})) == (
        title,
        "Er is 1 fout in het formulier",
        [("#id_reason", "Vul de reden in.")],
    )


# --- No browser bubble -----------------------------------------------------------------------


def test_every_form_with_a_field_leaves_validation_to_the_server():
    """A <form> with a control (or web/form.html) carries novalidate: no browser bubble, in the
    browser's language, before the server's message in the page's."""
    without = []
    for path in sorted(TEMPLATES.glob("*/templates/**/*.html")):
        for form in re.findall(r"<form\b[^>]*>.*?</form>", path.read_text(), flags=re.S):
            opening = form[: form.index(">") + 1]
            controls = re.search(r"<(input(?![^>]*type=\"hidden\")|select|textarea)\b", form)
            if (controls or "web/form.html" in form) and "novalidate" not in opening:
                without.append(f"{path.relative_to(TEMPLATES)}: {opening}")
    assert without == []
