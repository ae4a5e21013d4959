"""The demo data the README lists (pure data; `zorgsleutel demo` loads it)."""

from __future__ import annotations

from dataclasses import dataclass

from zorgsleutel.envconfig import env_int

PASSWORD = "Zorgsleutel-demo-2026"  # noqa: S105 (public demo password, DEBUG only)
APP_PIN = "123456"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str  # administrator | manager | member | operator
    phone: str


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: str
    ura: str
    kvk_number: str
    state: str
    people: tuple[DemoPerson, ...]
    application_roles: tuple[str, ...] = ()


def _phone(n: int) -> str:
    return f"+3161{n:07d}"


OPERATOR = DemoPerson("operator@zorgsleutel.test", "Olga Operator", "operator", _phone(1))

ORGANISATIONS = (
    DemoOrganisation(
        name="Demozorg",
        kind="care_provider",
        ura="90000001",
        kvk_number="90000001",
        state="validated",
        application_roles=("inzage", "declaraties"),
        people=(
            DemoPerson("admin@demozorg.nl", "Anna Administrator", "administrator", _phone(2)),
            DemoPerson("beheerder@demozorg.nl", "Bram Beheerder", "manager", _phone(3)),
            DemoPerson("medewerker1@demozorg.nl", "Mila Medewerker", "member", _phone(4)),
            DemoPerson("medewerker2@demozorg.nl", "Mats Medewerker", "member", _phone(5)),
            DemoPerson("medewerker3@demozorg.nl", "Mira Medewerker", "member", _phone(6)),
        ),
    ),
    DemoOrganisation(
        name="Demobedrijf BV",
        kind="business",
        ura="",
        kvk_number="90000002",
        state="active",
        application_roles=("declaraties",),
        people=(
            DemoPerson("beheerder@demobedrijf.nl", "Bea Beheerder", "manager", _phone(7)),
            DemoPerson("gebruiker1@demobedrijf.nl", "Gijs Gebruiker", "member", _phone(8)),
            DemoPerson("gebruiker2@demobedrijf.nl", "Gwen Gebruiker", "member", _phone(9)),
            DemoPerson("gebruiker3@demobedrijf.nl", "Guus Gebruiker", "member", _phone(10)),
        ),
    ),
)


@dataclass(frozen=True)
class DemoApplication:
    """Seed 003, steps 2-3 done: an approved application waiting for validation (step 5) with
    the development UZI card that `zorgsleutel uzi make-test-card` puts on a SoftHSM2 token."""

    organisation_name: str = "Huisartsenpraktijk Demo"
    kvk_number: str = "90000003"
    ura: str = "90000003"
    street: str = "Demolaan 3"
    postal_code: str = "3511 AA"
    city: str = "Utrecht"
    applicant_name: str = "Jan Demo"
    applicant_email: str = "aanvrager@demopraktijk.nl"
    uzi_number: str = "900000003"
    card_label: str = "Demo UZI-pas"
    card_pin: str = "123456"


APPLICATION = DemoApplication()


# The demo relying party (demo/relyingparty.py): an application `make run` registers for both
# organisations (any login reaches it; Demozorg's beheerder is stepped up to the app by role).
RELYING_PARTY_NAME = "Demo-applicatie"
RELYING_PARTY_ORGANISATIONS = ("Demozorg", "Demobedrijf BV")
RELYING_PARTY_CONFIG = "relyingparty.json"  # under var/demo/, mode 0600: its client secret


def relying_party_url() -> str:
    """Where the demo relying party listens: 127.0.0.1 and DEMO_RP_PORT (8002), so that two
    `make run`s with other PORT, VAULT_PORT and DEMO_RP_PORT can run side by side."""
    return f"http://127.0.0.1:{env_int('DEMO_RP_PORT', 8002)}"


def everyone() -> list[tuple[DemoOrganisation | None, DemoPerson]]:
    people: list[tuple[DemoOrganisation | None, DemoPerson]] = [(None, OPERATOR)]
    for organisation in ORGANISATIONS:
        people += [(organisation, person) for person in organisation.people]
    return people


def banner(server: str = "http://127.0.0.1:8000") -> list[str]:
    """The demo's logins and what to run, the card client told which portal (`server`): it
    would otherwise ask port 8000, whatever PORT the portal runs on."""
    lines = [
        f"Single sign-on: open {relying_party_url()}/ (the demo application), click Inloggen met",
        "Zorgsleutel and log in as gebruiker1@demobedrijf.nl with the password below and the SMS",
        "code from the dev mailbox; it shows the claims it received. beheerder@demozorg.nl logs",
        "in there with the app (below), with var/demo/beheerder@demozorg.nl.json.",
        "",
        f"Demo logins (password {PASSWORD}; SMS codes appear in the dev mailbox):",
    ]
    for organisation, person in everyone():
        where = organisation.name if organisation else "Zorgsleutel"
        lines.append(f"  {person.email:<28} {person.role:<14} {where:<15} {person.phone}")
    lines += [
        "The operator and Demozorg's administrator and manager log in with the app: open",
        "/inloggen/app, save the QR code as a screenshot (or copy its text) and run",
        "  .venv/bin/zorgsleutel app login QR --state var/demo/admin@demozorg.nl.json "
        f"--pin {APP_PIN}",
        f"{APPLICATION.organisation_name} (URA {APPLICATION.ura}) has applied and been approved: "
        "the validation link is",
        f"in the mail to {APPLICATION.applicant_email} (dev mailbox). Open it; the page shows a "
        "code; present the",
        f"demo UZI card (SoftHSM2 token {APPLICATION.card_label!r}, PIN {APPLICATION.card_pin}):",
        "  export SOFTHSM2_CONF=var/softhsm/softhsm2.conf",
        f'  .venv/bin/zorgsleutel card present --token "{APPLICATION.card_label}" '
        f"--pin {APPLICATION.card_pin} --server {server} --code CODE",
        "then link an app: save the page's QR code as a screenshot (or copy its text) and run",
        f"  .venv/bin/zorgsleutel app enrol QR --state var/demo/jan.json --pin {APP_PIN}",
        "and log in with it at /inloggen/app:",
        f"  .venv/bin/zorgsleutel app login QR --state var/demo/jan.json --pin {APP_PIN}",
        "Smartcards: log in as medewerker1@demozorg.nl, Mijn Zorgsleutel > Uw smartcards >",
        "Smartcard aanmaken shows a code; make the demo's blank card (transport code 12345678):",
        "  export SOFTHSM2_CONF=var/softhsm/softhsm2.conf",
        '  .venv/bin/zorgsleutel card init --token "Demo smartcard" --transport-pin 12345678 '
        f"--pin 24682468 --server {server} --code CODE",
        "then log in at /inloggen/smartcard with",
        '  .venv/bin/zorgsleutel card present --token "Demo smartcard" --pin 24682468 '
        f"--server {server} --code CODE",
        "The reference clients speak Dutch with --language nl (or LANG=nl_NL.UTF-8).",
    ]
    return lines
