"""Every text the vault sends. Fixed here: a client chooses a notice by kind, never its words,
so the vault can never be made to text a number something else (phishing from our sender)."""

from __future__ import annotations

from zorgsleutel.vault import policies

NOTICES = {
    "credentials_changed": {
        "nl": (
            "Zorgsleutel: uw wachtwoord en mobiele telefoonnummer zijn gewijzigd. Was u dit niet? "
            "Gebruik de link 'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact "
            "op met uw beheerder."
        ),
        "en": (
            "Zorgsleutel: your password and mobile number have been changed. Was this not you? "
            "Use the link 'This was not me' in the e-mail we sent you, or contact your manager."
        ),
    },
    "authenticator_linked": {
        "nl": (
            "Zorgsleutel: er is een app aan uw account gekoppeld. Was u dit niet? Gebruik de link "
            "'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact op met uw "
            "beheerder."
        ),
        "en": (
            "Zorgsleutel: an app was linked to your account. Was this not you? Use the link "
            "'This was not me' in the e-mail we sent you, or contact your manager."
        ),
    },
}


def code_message(code: str, locale: str) -> str:
    """The SMS with a code: an *sms-code* / *SMS code* (docs/glossary.md), its minutes counted."""
    minutes = int(policies.CODE_TTL.total_seconds() // 60)
    if locale == "en":
        unit = "minute" if minutes == 1 else "minutes"
        return (
            f"Your SMS code for Zorgsleutel is {code}. It is valid for {minutes} {unit}. "
            "Never share it."
        )
    unit = "minuut" if minutes == 1 else "minuten"
    return (
        f"Uw sms-code voor Zorgsleutel is {code}. De code is {minutes} {unit} geldig. "
        "Deel hem met niemand."
    )


def notice_message(kind: str, locale: str) -> str:
    """The text of an allowed notice kind (KeyError otherwise: callers check the kind first)."""
    texts = NOTICES[kind]
    return texts.get(locale, texts["nl"])
