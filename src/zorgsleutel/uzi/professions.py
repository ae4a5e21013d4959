"""The UZI role field: `<beroep>.<specialisme>`, two and three digits (CPS UZI-register).

The two-digit profession codes are the BIG-register and UZI-register codes, as published in the
UZI-register's role code list (NamingSystem uzi-rolcode; pUZI uses the same codes). Names are the
register's own Dutch terms, shown as they are. Employee passes (N, M) and server certificates (S)
carry role `00.000`.
"""

from __future__ import annotations

NO_ROLE = "00.000"

PROFESSIONS: dict[str, str] = {
    "01": "Arts",
    "02": "Tandarts",
    "03": "Verloskundige",
    "04": "Fysiotherapeut",
    "16": "Psychotherapeut",
    "17": "Apotheker",
    "25": "Gezondheidszorgpsycholoog",
    "30": "Verpleegkundige",
    "31": "Orthopedagoog-generalist",
    "79": "Geregistreerd-mondhygiënist",
    "80": "Bachelor medisch hulpverlener",
    "81": "Physician assistant",
    "82": "Klinisch technoloog",
    "83": "Apothekersassistent",
    "84": "Klinisch fysicus",
    "85": "Tandprotheticus",
    "86": "Verzorgende individuele gezondheidszorg",
    "87": "Optometrist",
    "88": "Huidtherapeut",
    "89": "Diëtist",
    "90": "Ergotherapeut",
    "91": "Logopedist",
    "92": "Mondhygiënist",
    "93": "Oefentherapeut Mensendieck",
    "94": "Oefentherapeut Cesar",
    "95": "Orthoptist",
    "96": "Podotherapeut",
    "97": "Radiodiagnostisch laborant",
    "98": "Radiotherapeutisch laborant",
    "99": "Zorgverlener andere zorg",
}


def profession(role: str) -> str | None:
    """The profession named by a role such as `01.015` (Arts); None for `00.000` or unknown."""
    return PROFESSIONS.get(role[:2])
