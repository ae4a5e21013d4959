"""One vocabulary (docs/glossary.md): no Dutch text a person reads uses a word the glossary rules
out. Read here: every msgstr of the catalogue (pages, mails, the API's messages, the reference
clients), the SMS texts of the vault, and the English msgids for the plurals they must not
fake. The lists are the glossary's, literally."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from zorgsleutel import policies
from zorgsleutel.vault import texts as sms_texts

SRC = Path(__file__).resolve().parents[2] / "src" / "zorgsleutel"
CATALOGUE = SRC / "locale" / "nl" / "LC_MESSAGES" / "django.po"

# A Dutch text must not contain any of these (case as written).
FORBIDDEN = [
    "Zorgsleutel app",  # Zorgsleutel-app
    "Zorgsleutel App",
    "SMS-code",  # sms-code (Sms-code at the start of a sentence)
    "SMS-verificatie",
    "smscode",
    "poging(en)",  # ngettext: poging / pogingen
    "(en)",
    "Verifieer",  # the button says Controleren
    "portaal administrator",  # portaaladministrator
    "Portaal administrator",
    "portaal beheerder",  # beheerder
    "Portaal beheerder",
    "kaartlezer",  # paslezer; the program is the kaartclient
    "kaartlezersoftware",
    "de software",
    "app ID",  # app-ID
    "App ID",
    "Uw Zorgsleutel-apps",  # the page is Uw app-ID's
    "de auditlog",  # het auditlog
    "u heeft",  # u hebt
    "U heeft",
    "Heeft u",
    "heeft u",
    "ZORG-ID",  # the seed's product, not ours
    "Stuur een",  # buttons: Nieuwe code sturen
    "Toon een",
    "Toon de",
    "Vraag een nieuwe aan.",  # say who can send a new link
]
# Patterns: "administrator" only as portaaladministrator; a link's lifetime only in hours.
FORBIDDEN_PATTERNS = {
    "administrator without portaal": re.compile(r"(?<![Pp]ortaal)(?<!-)[Aa]dministrator"),
    "a link lifetime in days or minutes": re.compile(
        r"link[^.]*\b(dag|dagen|minuut|minuten)\b[^.]*(geldig|verloopt)"
        r"|link[^.]*(geldig|verloopt)[^.]*\b(dag|dagen|minuut|minuten)\b",
        re.IGNORECASE,
    ),
}


def catalogue() -> list[dict]:
    """The catalogue's entries (obsolete `#~` ones left out): msgid, msgid_plural, msgstrs."""
    entries, entry, field = [], None, None
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        keyword = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line)
        if keyword:
            field = keyword.group(1)
            if field in ("msgid", "msgctxt") and entry and entry.get("msgstr"):
                entries.append(entry)
                entry = None
            entry = entry or {"msgstr": []}
            value = ast.literal_eval(keyword.group(2))
            if field.startswith("msgstr"):
                entry["msgstr"].append(value)
            else:
                entry[field] = value
        elif line.startswith('"') and entry is not None:
            value = ast.literal_eval(line)
            if field.startswith("msgstr"):
                entry["msgstr"][-1] += value
            else:
                entry[field] += value
    if entry:
        entries.append(entry)
    return [e for e in entries if e.get("msgid")]


def dutch_texts() -> list[tuple[str, str]]:
    """(where, text) of every Dutch text: the catalogue's msgstrs and the vault's SMS."""
    found = [(entry["msgid"], text) for entry in catalogue() for text in entry["msgstr"]]
    found += [(f"vault SMS {kind}", words["nl"]) for kind, words in sms_texts.NOTICES.items()]
    found.append(("vault SMS code", sms_texts.code_message("123456", "nl")))
    return found


def test_the_catalogue_is_read():
    entries = catalogue()
    assert len(entries) > 900
    by_id = {entry["msgid"]: entry["msgstr"] for entry in entries}
    assert by_id["Verify"] == ["Controleren"]
    assert by_id["This code is not correct. You have %(left)s attempt left."] == [
        "Deze code klopt niet. U hebt nog %(left)s poging.",
        "Deze code klopt niet. U hebt nog %(left)s pogingen.",
    ]


@pytest.mark.parametrize("word", FORBIDDEN)
def test_no_dutch_text_uses_a_word_the_glossary_rules_out(word):
    assert [(where, text) for where, text in dutch_texts() if word in text] == []


@pytest.mark.parametrize("name", sorted(FORBIDDEN_PATTERNS))
def test_no_dutch_text_matches_a_pattern_the_glossary_rules_out(name):
    pattern = FORBIDDEN_PATTERNS[name]
    assert [(where, text) for where, text in dutch_texts() if pattern.search(text)] == []


def test_no_english_text_fakes_a_plural():
    faked = re.compile(r"\w\(s\)")
    assert [entry["msgid"] for entry in catalogue() if faked.search(entry["msgid"])] == []


def test_the_role_names_are_the_glossarys():
    by_id = {entry["msgid"]: entry["msgstr"] for entry in catalogue()}
    roles = {role: by_id[role] for role in ("administrator", "manager", "member")}
    assert roles == {
        "administrator": ["portaaladministrator"],
        "manager": ["beheerder"],
        "member": ["medewerker"],
    }


def test_the_sms_texts_say_sms_code_and_minutes():
    assert sms_texts.code_message("123456", "nl") == (
        "Uw sms-code voor Zorgsleutel is 123456. De code is 5 minuten geldig. Deel hem met niemand."
    )
    assert sms_texts.code_message("123456", "en") == (
        "Your SMS code for Zorgsleutel is 123456. It is valid for 5 minutes. Never share it."
    )


def test_every_mailed_link_lives_a_whole_number_of_hours():
    """The mails say a link's lifetime in hours (docs/glossary.md): each is a whole number."""
    lifetimes = {
        "activation": policies.ACTIVATION_LINK_TTL,
        "invitation": policies.INVITATION_LINK_TTL,
        "reset": policies.PASSWORD_RESET_LINK_TTL,
        "not me": policies.NOT_ME_LINK_TTL,
        "validation": policies.VALIDATION_LINK_TTL,
    }
    hours = {name: ttl.total_seconds() / 3600 for name, ttl in lifetimes.items()}
    assert hours == {
        "activation": 72,
        "invitation": 72,
        "reset": 1,
        "not me": 336,
        "validation": 336,
    }
