"""Every event type the portal can write has words (core/auditwords.py): a name for the filter
and a sentence, in Dutch and in English, that use only what the event carries. A new event type
without words fails here; so does a type the code no longer writes."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import translation
from oauth2_provider.models import Application as OAuthApplication

import zorgsleutel
from zorgsleutel.accounts.models import ApiToken, Membership, User
from zorgsleutel.core import auditevents, auditphrases, auditwords
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.oidc.models import Client
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.people import auditlog
from zorgsleutel.smartcards.models import CardOrder, Smartcard

# Every event type the portal writes (core/auditevents.py, recorded across src/zorgsleutel).
EVERY_EVENT_TYPE = {
    "login.throttled", "login.password_failed", "login.refused", "login.code_sent",
    "login.code_resent", "login.code_failed", "login.succeeded", "logout.succeeded",
    "sms.send_refused",
    "ratelimit.refused",
    "app.enrolment_started", "app.enrolment_refused", "app.enrolled", "app.bad_signature",
    "app.wrong_pin", "app.login_approved", "app.login_refused", "app.revoked",
    "app.revoke_refused", "app.blocked", "app.unblocked", "app.deleted", "app.released",
    "card.accepted", "card.refused", "card.forged_header", "card.other_browser",
    "smartcard.identity_confirmed", "uzi.bound", "smartcard.issued", "smartcard.renewed",
    "smartcard.blocked", "smartcard.unblocked", "smartcard.deleted", "smartcard.reported_lost",
    "smartcard.responder_certified",
    "account.setup_code_sent", "account.setup_code_wrong", "account.activated",
    "account.credentials_reset", "account.reported_not_me", "account.anonymised",
    "account.created", "account.phone_set", "password_reset.requested",
    "password_reset.refused", "password_reset.link_sent", "phone.notice_sent",
    "authenticator.link_notice", "phone.notice_failed", "phone.erase_failed",
    "member.created", "member.imported", "member.activation_resent", "member.accepted",
    "member.role_changed", "member.blocked", "member.unblocked", "member.deleted",
    "permission.denied", "apitoken.created", "apitoken.revoked",
    "organisation.created", "organisation.validated", "organisation.validation_resumed",
    "organisation.validation_refused", "organisation.suspended", "organisation.reinstated",
    "card_order.placed", "card_order.shipped", "card_order.cancelled",
    "application.submitted", "application.approved", "application.link_renewed",
    "application.rejected", "operator.created", "mail.test_queued",
    "sso_client.registered", "sso_client.deleted", "sso.code_issued", "sso.code_exchanged",
    "sso.code_reused", "sso.token_revoked", "sso.authorize_refused", "sso.token_refused",
    "sso.consent_given", "sso.consent_refused", "sso.consent_revoked",
    "sso.token_refreshed", "sso.refresh_reused", "sso.logged_out", "sso.logout_sent",
    "sso.logout_failed", "sso_key.published", "sso_key.activated", "sso_key.retired",
    "sso_key.removed",
    "sso_key.resealed", "sso_secret.created", "sso_secret.resealed",
}  # fmt: skip

SOURCE = Path(zorgsleutel.__file__).parent
WORDS_FILES = {"core/auditevents.py", "core/auditwords.py", "core/auditphrases.py"}


def _portal_modules():
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE).parts
        if parts[0] != "vault" and "migrations" not in parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def test_the_code_writes_exactly_these_event_types():
    """The registry (record() refuses anything else) is this list, and each of them is written
    somewhere outside the registry and the words: as record()'s first argument or a flow's
    table of steps (mobileapp/devices.py, smartcards/lifecycle.py)."""
    assert set(auditevents.EVENT_TYPES) == EVERY_EVENT_TYPE
    in_the_code = {
        node.value
        for path, tree in _portal_modules()
        if str(path.relative_to(SOURCE)) not in WORDS_FILES
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in EVERY_EVENT_TYPE
    }
    assert in_the_code == EVERY_EVENT_TYPE


def test_every_event_type_has_words_and_nothing_else_does():
    assert set(auditwords.WORDS) == EVERY_EVENT_TYPE
    assert {event for event, _field, _value in auditwords.VARIANTS} <= EVERY_EVENT_TYPE


def _placeholders(text) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", str(text)))


def test_a_sentence_uses_only_what_its_event_carries():
    """actor, target and organisation, the type's detail fields (auditevents), and the words
    auditphrases makes from several of them."""
    for name, words in auditwords.WORDS.items():
        allowed = (
            {"actor", "target", "organisation"}
            | auditevents.EVENT_TYPES[name].fields
            | set(auditphrases.DERIVED.get(name, {}))
        )
        assert _placeholders(words.sentence) <= allowed, name
    for (name, field, _value), sentence in auditwords.VARIANTS.items():
        allowed = (
            {"actor", "target", "organisation"}
            | auditevents.EVENT_TYPES[name].fields
            | set(auditphrases.DERIVED.get(name, {}))
        )
        assert field == "@target" or field in auditevents.EVENT_TYPES[name].fields, name
        assert _placeholders(sentence) <= allowed, name


def test_every_name_and_sentence_is_translated():
    texts = [w.label for w in auditwords.WORDS.values()]
    texts += [w.sentence for w in auditwords.WORDS.values()]
    texts += list(auditwords.VARIANTS.values())
    with translation.override("en"):
        english = [str(text) for text in texts]
    with translation.override("nl"):
        dutch = [str(text) for text in texts]
    untranslated = [en for en, nl in zip(english, dutch, strict=True) if en == nl]
    assert untranslated == []
    with translation.override("nl"):
        assert {str(auditwords.WORDS[n].label) for n in ("login.succeeded", "member.blocked")} == {
            "Inloggen gelukt",
            "Persoon geblokkeerd",
        }


# --- Every sentence, as the platform's log shows it --------------------------------------------
AT = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)

# Detail values as the flows write them, by field.
SAMPLE = {
    "wait": 30, "hint": "06••••••12", "result": "wrong", "state": "active",
    "limits": ["per_account", "per_ip"], "limit": "per_ip", "name": "iPhone van Mira",
    "waiting": 0, "left": 2, "acr": "low", "amr": ["pwd", "sms"], "means": "sms",
    "purpose": "smartcard_login", "subject": "", "uzi_number": "900012345", "ura": "90000111",
    "pas_type": "Z", "role": "member", "certificate": "ab" * 32, "error": "expired",
    "peer": "203.0.113.9", "challenge": "ch_1", "method": "in_person", "serial": "0a0b",
    "fingerprint": "cd" * 32, "route": "in_person", "card_serial": "KAART-0042",
    "renews": "0a0a", "not_after": "2027-03-01T09:30:00+00:00", "membership": "blocked",
    "removed": 1, "demo": True, "mailed": True, "managers": 2, "sms": True,
    "enrolment": "enr_1", "application_roles": [], "first_manager": False,
    "validated_with": "", "account": "", "from": "member", "to": "manager",
    "target_role": "member", "application": "a1", "kind": "business", "kvk": "12345678",
    "members": 5, "quantity": 3, "serials": ["KAART-0041", "KAART-0042", "KAART-0043"],
    "by": "organisation", "reason": "forbidden", "action": "members.block",
    "client_id": "zs_declaratie", "redirect_uris": ["https://declaratie.example/cb"],
    "scopes": ["openid", "profile"],
    "minimum_acr": "substantial", "subject_type": "pairwise", "id_token_algorithm": "RS256",
    "revoked": 1, "url": "https://declaratie.example", "logo": True,
    "kid": "k2026-12", "signs_from": "2026-12-09T13:05:00+00:00", "first": False,
    "backchannel_logout_uri": "https://declaratie.example/logout",
    "post_logout_redirect_uris": ["https://declaratie.example/"], "attempts": 6,
    "allowed_scopes": ["openid", "profile", "dezi"],
    "token_endpoint_auth_method": "private_key_jwt", "endpoint": "revocation",
    "jwks": [{"kid": "declaratie-2026", "kty": "RSA", "size": 2048}],
}  # fmt: skip
# Beside SAMPLE: a detail a type words its own way.
OWN_SAMPLE = {
    ("ratelimit.refused", "action"): "password_reset.request",
    ("authenticator.link_notice", "means"): "app",
    ("app.revoked", "reason"): "",
    ("smartcard.reported_lost", "reason"): "",
    ("card_order.cancelled", "reason"): "",
    ("application.rejected", "reason"): "Geen zorgaanbieder",
    ("organisation.suspended", "reason"): "Onbetaalde facturen",
    ("account.reported_not_me", "reason"): "credentials_reset",
    ("account.setup_code_sent", "purpose"): "activation",
    ("login.refused", "reason"): "account_blocked",
    ("app.enrolment_refused", "reason"): "app_held",
    ("app.login_refused", "reason"): "device_blocked",
    ("app.revoke_refused", "reason"): "device_unknown",
    ("apitoken.created", "name"): "Koppeling HR",
    ("sso_client.registered", "name"): "Declaratieportaal",
    ("sso_client.deleted", "name"): "Declaratieportaal",
    ("sso_secret.created", "name"): "pairwise-subject",
    ("sso_secret.resealed", "name"): "pairwise-subject",
}

# (actor, target) of each type as the flows record them: M Mira (a member), G Gijs, O the
# operator, "app", "card", "order", "application", "token", "org" Demozorg; "-" none.
WHO = {
    "login.throttled": ("anonymous", "-"), "login.password_failed": ("M", "-"),
    "login.refused": ("M", "M"), "login.code_sent": ("M", "M"), "login.code_resent": ("M", "M"),
    "login.code_failed": ("M", "M"), "login.succeeded": ("M", "M"),
    "logout.succeeded": ("M", "M"),
    "sms.send_refused": ("anonymous", "M"), "ratelimit.refused": ("anonymous", "-"),
    "app.enrolment_started": ("M", "M"), "app.enrolment_refused": ("M", "M"),
    "app.enrolled": ("M", "app"), "app.bad_signature": ("app", "M"),
    "app.wrong_pin": ("M", "app"), "app.login_approved": ("M", "app"),
    "app.login_refused": ("M", "app"), "app.revoked": ("M", "app"),
    "app.revoke_refused": ("M", "M"), "app.blocked": ("G", "app"),
    "app.unblocked": ("G", "app"), "app.deleted": ("G", "app"), "app.released": ("G", "app"),
    "card.accepted": ("challenge", "challenge"), "card.refused": ("challenge", "challenge"),
    "card.forged_header": ("anonymous", "-"), "card.other_browser": ("anonymous", "-"),
    "smartcard.identity_confirmed": ("G", "M"), "uzi.bound": ("M", "M"),
    "smartcard.issued": ("M", "card"), "smartcard.renewed": ("M", "card"),
    "smartcard.blocked": ("G", "card"), "smartcard.unblocked": ("G", "card"),
    "smartcard.deleted": ("G", "card"), "smartcard.reported_lost": ("M", "card"),
    "smartcard.responder_certified": ("system", "-"),
    "account.setup_code_sent": ("M", "M"), "account.setup_code_wrong": ("M", "M"),
    "account.activated": ("M", "M"), "account.credentials_reset": ("M", "M"),
    "account.reported_not_me": ("M", "M"), "account.anonymised": ("G", "M"),
    "account.created": ("demo", "M"), "account.phone_set": ("demo", "M"),
    "password_reset.requested": ("anonymous", "-"), "password_reset.refused": ("anonymous", "-"),
    "password_reset.link_sent": ("system", "M"), "phone.notice_sent": ("system", "M"),
    "authenticator.link_notice": ("system", "M"), "phone.notice_failed": ("system", "M"),
    "phone.erase_failed": ("system", "M"),
    "member.created": ("G", "M"), "member.imported": ("cli", "M"),
    "member.activation_resent": ("G", "M"), "member.accepted": ("M", "M"),
    "member.role_changed": ("G", "M"), "member.blocked": ("G", "M"),
    "member.unblocked": ("G", "M"), "member.deleted": ("G", "M"),
    "permission.denied": ("M", "-"), "apitoken.created": ("G", "token"),
    "apitoken.revoked": ("cli", "token"),
    "organisation.created": ("O", "org"), "organisation.validated": ("G", "org"),
    "organisation.validation_resumed": ("G", "G"),
    "organisation.validation_refused": ("G", "application"),
    "organisation.suspended": ("O", "org"), "organisation.reinstated": ("O", "org"),
    "card_order.placed": ("G", "order"), "card_order.shipped": ("O", "order"),
    "card_order.cancelled": ("O", "order"),
    "application.submitted": ("application", "application"),
    "application.approved": ("O", "application"), "application.link_renewed": ("O", "application"),
    "application.rejected": ("O", "application"), "operator.created": ("cli", "O"),
    "mail.test_queued": ("cli", "mail:m1"),
    "sso_client.registered": ("O", "client"),
    "sso_client.deleted": ("O", "client"),
    "sso.code_issued": ("M", "client"), "sso.code_exchanged": ("client", "M"),
    "sso.code_reused": ("client", "M"), "sso.token_revoked": ("client", "M"),
    "sso.token_refreshed": ("client", "M"), "sso.refresh_reused": ("client", "M"),
    "sso.logged_out": ("M", "client"), "sso.logout_sent": ("client", "M"),
    "sso.logout_failed": ("client", "M"),
    "sso.authorize_refused": ("M", "client"), "sso.token_refused": ("-", "-"),
    "sso.consent_given": ("M", "client"), "sso.consent_refused": ("M", "client"),
    "sso.consent_revoked": ("M", "client"),
    "sso_key.published": ("system", "sso_key:k2026-12"),
    "sso_key.activated": ("system", "sso_key:k2026-12"),
    "sso_key.retired": ("system", "sso_key:k2026-12"),
    "sso_key.removed": ("system", "sso_key:k2026-12"),
    "sso_key.resealed": ("system", "sso_key:k2026-12"), "sso_secret.created": ("system", "-"),
    "sso_secret.resealed": ("system", "-"),
}  # fmt: skip

DUTCH = {
    "login.throttled": "Inloggen is 30 seconden gepauzeerd na te veel foute pogingen",
    "login.password_failed": "Mira Medewerker heeft een onjuist wachtwoord ingevuld",
    "login.refused": "Mira Medewerker kon niet inloggen: account geblokkeerd",
    "login.code_sent": "Er is een sms-code gestuurd naar Mira Medewerker (06••••••12)",
    "login.code_resent": "Mira Medewerker heeft een nieuwe sms-code gevraagd",
    "login.code_failed":
        "Mira Medewerker heeft een sms-code ingevuld die niet werkte: onjuiste code",
    "login.succeeded": "Mira Medewerker is ingelogd met sms-code",
    "logout.succeeded": "Mira Medewerker is uitgelogd",
    "sms.send_refused":
        "Er is geen sms gestuurd naar Mira Medewerker: te veel berichten per account en per "
        "IP-adres",
    "ratelimit.refused":
        "Iemand heeft de limiet bereikt voor het aanvragen van een nieuw wachtwoord (per "
        "account en per IP-adres)",
    "app.enrolment_started": "Mira Medewerker is begonnen een Zorgsleutel-app te koppelen",
    "app.enrolment_refused":
        "Mira Medewerker kon geen app koppelen: de app is geblokkeerd of verwijderd",
    "app.enrolled": "Mira Medewerker heeft de app “iPhone van Mira” gekoppeld",
    "app.bad_signature": "Een app van Mira Medewerker stuurde een ongeldige handtekening",
    "app.wrong_pin":
        "Mira Medewerker heeft een onjuiste pincode ingevoerd in de app “iPhone van Mira” "
        "(nog 2 pogingen)",
    "app.login_approved":
        "Mira Medewerker heeft met de app “iPhone van Mira” een inlog goedgekeurd",
    "app.login_refused": "Mira Medewerker kon niet inloggen met de app: app geblokkeerd",
    "app.revoked": "Mira Medewerker heeft de eigen app “iPhone van Mira” verwijderd",
    "app.revoke_refused":
        "Mira Medewerker kon een app niet verwijderen: app niet (meer) gekoppeld",
    "app.blocked":
        "Gijs Gebruiker heeft de app “iPhone van Mira” van Mira Medewerker geblokkeerd",
    "app.unblocked":
        "Gijs Gebruiker heeft de app “iPhone van Mira” van Mira Medewerker gedeblokkeerd",
    "app.deleted":
        "Gijs Gebruiker heeft de app “iPhone van Mira” van Mira Medewerker verwijderd",
    "app.released":
        "Gijs Gebruiker heeft een nieuwe app toegestaan in plaats van de app “iPhone van "
        "Mira” van Mira Medewerker",
    "card.accepted":
        "De pas met UZI-nummer 900012345 is geaccepteerd voor het inloggen met een smartcard",
    "card.refused":
        "De pas met UZI-nummer 900012345 is geweigerd voor het inloggen met een smartcard: "
        "verlopen",
    "card.forged_header":
        "Een verzoek van 203.0.113.9 bevatte een pascertificaat dat de proxy niet had gezet; "
        "geweigerd",
    "card.other_browser":
        "Een pas is aangeboden in een andere browser dan die erom vroeg; geweigerd",
    "smartcard.identity_confirmed":
        "Gijs Gebruiker heeft de identiteit van Mira Medewerker persoonlijk gecontroleerd",
    "uzi.bound":
        "Mira Medewerker heeft de UZI-pas met UZI-nummer 900012345 aan het eigen account "
        "gekoppeld",
    "smartcard.issued": "Mira Medewerker heeft de smartcard KAART-0042 gemaakt",
    "smartcard.renewed": "Mira Medewerker heeft de smartcard KAART-0042 vernieuwd",
    "smartcard.blocked":
        "Gijs Gebruiker heeft de smartcard KAART-0042 van Mira Medewerker geblokkeerd",
    "smartcard.unblocked":
        "Gijs Gebruiker heeft de smartcard KAART-0042 van Mira Medewerker gedeblokkeerd",
    "smartcard.deleted":
        "Gijs Gebruiker heeft de smartcard KAART-0042 van Mira Medewerker verwijderd",
    "smartcard.reported_lost": "Mira Medewerker heeft de smartcard KAART-0042 als kwijt gemeld",
    "smartcard.responder_certified":
        "De smartcard-CA heeft een statusresponder gecertificeerd (certificaat 0a0b, geldig "
        "tot 1 maart 2027, 10:30)",
    "account.setup_code_sent":
        "Er is een sms-code om het account te activeren gestuurd naar Mira Medewerker "
        "(06••••••12)",
    "account.setup_code_wrong":
        "Mira Medewerker heeft een sms-code ingevuld die niet werkte: onjuiste code",
    "account.activated": "Mira Medewerker heeft het eigen account geactiveerd",
    "account.credentials_reset":
        "Mira Medewerker heeft een nieuw wachtwoord en mobiel telefoonnummer ingesteld",
    "account.reported_not_me":
        "Mira Medewerker heeft ‘Dit was ik niet’ gemeld: het lidmaatschap is geblokkeerd en "
        "1 gekoppelde app of kaart verwijderd",
    "account.anonymised": "Gijs Gebruiker heeft Mira Medewerker geanonimiseerd",
    "account.created":
        "Zorgsleutel (demogegevens) heeft het account van Mira Medewerker aangemaakt",
    "account.phone_set":
        "Zorgsleutel (demogegevens) heeft het mobiele telefoonnummer van Mira Medewerker ingesteld "
        "(06••••••12)",
    "password_reset.requested":
        "Iemand heeft een nieuw wachtwoord aangevraagd; er is een e-mail gestuurd",
    "password_reset.refused":
        "Iemand heeft te vaak een nieuw wachtwoord aangevraagd (per IP-adres); geweigerd",
    "password_reset.link_sent":
        "Mira Medewerker heeft een e-mail gekregen met een link om een nieuw wachtwoord in te "
        "stellen",
    "phone.notice_sent":
        "Mira Medewerker heeft een sms gekregen over een wijziging van het account",
    "authenticator.link_notice":
        "Mira Medewerker en 2 beheerders zijn ingelicht dat er een Zorgsleutel-app is "
        "gekoppeld",
    "phone.notice_failed":
        "Het sms-bericht aan Mira Medewerker kon niet worden verstuurd (verlopen)",
    "phone.erase_failed":
        "Het mobiele telefoonnummer van Mira Medewerker kon niet uit de kluis worden gewist "
        "(verlopen); probeer het opnieuw",
    "member.created": "Gijs Gebruiker heeft Mira Medewerker uitgenodigd als medewerker",
    "member.imported":
        "Zorgsleutel (opdrachtregel) heeft Mira Medewerker geïmporteerd als medewerker",
    "member.activation_resent": "Gijs Gebruiker heeft Mira Medewerker een nieuwe link gestuurd",
    "member.accepted": "Mira Medewerker heeft de uitnodiging van Demozorg geaccepteerd",
    "member.role_changed":
        "Gijs Gebruiker heeft de rol van Mira Medewerker gewijzigd van medewerker in beheerder",
    "member.blocked": "Gijs Gebruiker heeft Mira Medewerker geblokkeerd",
    "member.unblocked": "Gijs Gebruiker heeft Mira Medewerker gedeblokkeerd",
    "member.deleted": "Gijs Gebruiker heeft Mira Medewerker verwijderd uit Demozorg",
    "permission.denied":
        "Mira Medewerker probeerde iemand te blokkeren; geweigerd: niet toegestaan",
    "apitoken.created": "Gijs Gebruiker heeft het API-token “Koppeling HR” aangemaakt",
    "apitoken.revoked":
        "Zorgsleutel (opdrachtregel) heeft het API-token “Koppeling HR” ingetrokken",
    "organisation.created": "Olga Operator heeft Demozorg aangemaakt",
    "organisation.validated":
        "Gijs Gebruiker heeft Demozorg gevalideerd met een UZI-pas (URA 90000111)",
    "organisation.validation_resumed": "Gijs Gebruiker heeft de validatie van Demozorg hervat",
    "organisation.validation_refused":
        "Gijs Gebruiker kon de aanvraag van Huisartsenpraktijk De Linde niet valideren: "
        "verlopen",
    "organisation.suspended": "Olga Operator heeft Demozorg geschorst: Onbetaalde facturen",
    "organisation.reinstated": "Olga Operator heeft de schorsing van Demozorg opgeheven",
    "card_order.placed": "Gijs Gebruiker heeft 3 lege smartcards besteld",
    "card_order.shipped":
        "Olga Operator heeft de bestelling van 3 lege smartcards verstuurd (KAART-0041, "
        "KAART-0042, KAART-0043)",
    "card_order.cancelled": "Olga Operator heeft de bestelling van 3 lege smartcards geannuleerd",
    "application.submitted": "De aanvraag van Huisartsenpraktijk De Linde is ingediend",
    "application.approved":
        "Olga Operator heeft de aanvraag van Huisartsenpraktijk De Linde goedgekeurd",
    "application.link_renewed":
        "Olga Operator heeft een nieuwe validatielink gestuurd voor de aanvraag van "
        "Huisartsenpraktijk De Linde",
    "application.rejected":
        "Olga Operator heeft de aanvraag van Huisartsenpraktijk De Linde afgewezen: Geen "
        "zorgaanbieder",
    "operator.created": "Zorgsleutel (opdrachtregel) heeft Olga Operator operator gemaakt",
    "mail.test_queued": "Zorgsleutel (opdrachtregel) heeft een testmail klaargezet",
    "sso.authorize_refused":
        "Mira Medewerker mocht niet inloggen bij de applicatie “Declaratieportaal”: niet "
        "toegestaan",
    "sso.consent_given":
        "Mira Medewerker heeft de applicatie “Declaratieportaal” toestemming gegeven",
    "sso.consent_refused":
        "Mira Medewerker heeft de applicatie “Declaratieportaal” toestemming geweigerd",
    "sso.consent_revoked":
        "Mira Medewerker heeft de toestemming voor de applicatie “Declaratieportaal” ingetrokken",
    "sso.code_exchanged":
        "De applicatie “Declaratieportaal” heeft de inlog van Mira Medewerker ontvangen",
    "sso.code_issued": "Mira Medewerker is ingelogd bij de applicatie “Declaratieportaal”",
    "sso.code_reused":
        "De applicatie “Declaratieportaal” heeft de inlogcode van Mira Medewerker een tweede "
        "keer gebruikt; de tokens ervan zijn ingetrokken",
    "sso.refresh_reused":
        "De applicatie “Declaratieportaal” heeft een verbruikt verlengtoken van Mira Medewerker "
        "gebruikt; de tokens van die inlog zijn ingetrokken",
    "sso.token_refreshed":
        "De applicatie “Declaratieportaal” heeft de tokens van de inlog van Mira Medewerker "
        "verlengd",
    "sso.token_refused":
        "Een tokenaanvraag van de applicatie zs_declaratie is geweigerd: niet toegestaan",
    "sso.token_revoked":
        "De applicatie “Declaratieportaal” heeft een token van Mira Medewerker ingetrokken",
    "sso.logged_out":
        "Mira Medewerker is uitgelogd bij Zorgsleutel via de applicatie “Declaratieportaal”",
    "sso.logout_sent":
        "De applicatie “Declaratieportaal” heeft gehoord dat Mira Medewerker is uitgelogd",
    "sso.logout_failed":
        "De applicatie “Declaratieportaal” kon niet laten weten dat Mira Medewerker is "
        "uitgelogd (6 pogingen)",
    "sso_client.deleted":
        "Olga Operator heeft de applicatie Declaratieportaal afgemeld voor single sign-on",
    "sso_client.registered":
        "Olga Operator heeft de applicatie Declaratieportaal aangemeld voor single sign-on",
    "sso_key.activated": "De ondertekeningssleutel k2026-12 voor single sign-on is nu in gebruik",
    "sso_key.published":
        "Er is een nieuwe ondertekeningssleutel voor single sign-on gepubliceerd (k2026-12)",
    "sso_key.removed": "De ondertekeningssleutel k2026-12 voor single sign-on is verwijderd",
    "sso_key.resealed":
        "De ondertekeningssleutel k2026-12 voor single sign-on is opnieuw versleuteld met de "
        "nieuwe geheime sleutel",
    "sso_key.retired":
        "De ondertekeningssleutel k2026-12 voor single sign-on ondertekent niet meer",
    "sso_secret.created": "Het geheim pairwise-subject voor single sign-on is gemaakt",
    "sso_secret.resealed":
        "Het geheim pairwise-subject voor single sign-on is opnieuw versleuteld met de nieuwe "
        "geheime sleutel",
}  # fmt: skip


@pytest.fixture
def references(db):
    demozorg = Organisation.objects.create(
        name="Demozorg", kind=Organisation.CARE_PROVIDER, ura="90000111"
    )
    mira = User.objects.create(email="mira@demozorg.nl", name="Mira Medewerker", state="active")
    gijs = User.objects.create(email="gijs@demozorg.nl", name="Gijs Gebruiker", state="active")
    for person in (mira, gijs):
        Membership.objects.create(user=person, organisation=demozorg, accepted_at=AT)
    operator = User.objects.create(
        email="olga@zorgsleutel.test", name="Olga Operator", state="active", is_operator=True
    )
    app = AppDevice.objects.create(
        public_id="app_mira", user=mira, name="iPhone van Mira", public_key=b"-",
        secret_ciphertext=b"-", enrolled_at=AT,
    )  # fmt: skip
    card = Smartcard.objects.create(
        public_id="sc_mira", user=mira, organisation=demozorg, serial="0a0b",
        card_serial="KAART-0042", certificate=b"", fingerprint="cd" * 32, not_after=AT,
        issued_at=AT, route="in_person", state_changed_at=AT,
    )  # fmt: skip
    order = CardOrder.objects.create(
        public_id="order-1", organisation=demozorg, quantity=3, delivery_address="Utrecht",
        ordered_at=AT, state_changed_at=AT,
    )  # fmt: skip
    application = Application.objects.create(
        organisation_name="Huisartsenpraktijk De Linde", kvk_number="87654321", ura="90000222",
        street="Lindelaan 1", postal_code="1234 AB", city="Utrecht", applicant_name="Hanna",
        applicant_email="hanna@delinde.nl", applicant_uzi_number="900012345", submitted_at=AT,
    )  # fmt: skip
    token = ApiToken.objects.create(
        organisation=demozorg, created_by=gijs, name="Koppeling HR", token_hash="0" * 64,
        created_at=AT,
    )  # fmt: skip
    client = Client.objects.create(
        application=OAuthApplication.objects.create(
            name="Declaratieportaal", client_id="zs_declaratie",
            client_type=OAuthApplication.CLIENT_CONFIDENTIAL,
            authorization_grant_type=OAuthApplication.GRANT_AUTHORIZATION_CODE,
        ),
        minimum_acr="substantial", sector="zs_declaratie",
    )  # fmt: skip
    client.organisations.set([demozorg])
    return {
        "M": mira.audit_ref, "G": gijs.audit_ref, "O": operator.audit_ref, "app": app.audit_ref,
        "card": card.audit_ref, "order": order.audit_ref, "application": application.audit_ref,
        "token": token.audit_ref, "org": demozorg.audit_ref, "client": client.audit_ref,
        "-": "",
    }  # fmt: skip


def _event(seq: int, name: str, references: dict) -> AuditEvent:
    actor, target = WHO[name]
    fields = auditevents.EVENT_TYPES[name].fields
    details = {f: OWN_SAMPLE.get((name, f), SAMPLE[f]) for f in fields}
    return AuditEvent(
        seq=seq,
        occurred_at=AT,
        actor=references.get(actor, actor),
        organisation=references["org"],
        action=name,
        target=references.get(target, target),
        outcome="success",
        details=details,
    )


def test_every_event_type_in_dutch(references):
    """One literal sentence per event type, as an operator reads it (every name known)."""
    assert set(WHO) == set(DUTCH) == EVERY_EVENT_TYPE
    events = [_event(n, name, references) for n, name in enumerate(sorted(EVERY_EVENT_TYPE))]
    with translation.override("nl"):
        rows = auditlog.rows(events)
    assert {row.event.action: row.sentence for row in rows} == DUTCH


def test_details_no_table_knows_still_read():
    """A code no table knows, with spaces; a typed reason as typed; a value of the wrong shape
    (an old row) without an error."""
    with translation.override("nl"):
        assert auditphrases.facts(
            "permission.denied", {"action": "members.rename", "reason": "csr_bad_signature"}
        ) == {"action": "members.rename", "reason": "csr bad signature"}
        assert auditphrases.facts("application.rejected", {"reason": "Geen KvK_nummer."}) == {
            "reason": "Geen KvK_nummer."
        }
        assert auditphrases.facts(
            "card_order.shipped", {"quantity": "drie", "serials": "KAART-1", "left": None}
        ) == {"quantity": "0 lege smartcards", "serials": "KAART-1", "left": "nog 0 pogingen"}
