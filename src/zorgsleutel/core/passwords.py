"""Rules for new passwords beyond Django's own (settings.AUTH_PASSWORD_VALIDATORS), in words our
catalogue translates. NIST SP 800-63B (5.1.1.2) asks a verifier to refuse passwords found in
breach corpuses, dictionary words, repetitive or sequential characters and context-specific
words, and to say why; not to ask for mixtures of character kinds.

- MinimumLengthValidator: policies.PASSWORD_MIN_LENGTH. Django 5.2 words the refusal "... at least
  %d characters.", which its own nl catalogue (still keyed by the older "%(min_length)d" wording)
  leaves in English on a Dutch page; this one says it in Dutch.
- GuessablePasswordValidator: repeats and sequences ("aaaaaaaaaaaa", "abcdef123456"), then the
  blocklist (blocklist/common.txt.gz: the 100,000 passwords most seen in breaches, Django's list
  of 20,000 and 8,700 frequent Dutch words; blocklist/dutch.txt: our own Dutch and Zorgsleutel
  words), also as a listed word with only digits and symbols around it ("wachtwoord123"). One
  reason per password, the first that holds.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import re
from pathlib import Path

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext

from zorgsleutel import policies

BLOCKLIST = Path(__file__).resolve().parent / "blocklist"

# Characters that stand in for letters ("p@ssw0rd"); "1" is an i or an l.
_LEET = str.maketrans(
    {"@": "a", "4": "a", "8": "b", "3": "e", "€": "e", "9": "g", "!": "i", "0": "o"}
    | {"$": "s", "5": "s", "7": "t", "+": "t", "|": "l"}
)
_SEPARATORS = re.compile(r"[\s._-]+")
# Neighbours: the alphabet, the digits and the rows of QWERTY and AZERTY keyboards.
_ROWS = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short. It must contain at least %(n)d character.",
            "This password is too short. It must contain at least %(n)d characters.",
            self.min_length,
        ) % {"n": self.min_length}


@functools.cache
def blocklist() -> frozenset[str]:
    """Every blocked password and word, lower case (read once per process)."""
    with gzip.open(BLOCKLIST / "common.txt.gz", "rt", encoding="utf-8") as common:
        words = set(common.read().splitlines())
    for line in (BLOCKLIST / "dutch.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words.add(line.strip().lower())
    return frozenset(words)


def _neighbours(a: str, b: str) -> bool:
    return a == b or any(
        abs(row.index(a) - row.index(b)) == 1 for row in _ROWS if a in row and b in row
    )


def is_pattern(password: str) -> bool:
    """Repeated characters or a sequence: fewer different characters than
    policies.PASSWORD_MIN_DISTINCT_CHARACTERS, one piece repeated ("welkomwelkom"), or at most
    policies.PASSWORD_MAX_PATTERN_RUNS stretches of neighbours ("abcdef123456", "qwertyuiop12")."""
    text = password.lower()
    if len(set(text)) < policies.PASSWORD_MIN_DISTINCT_CHARACTERS:
        return True
    if any(text == text[:n] * (len(text) // n) for n in range(1, len(text) // 2 + 1)):
        return True
    runs = 1 + sum(not _neighbours(a, b) for a, b in itertools.pairwise(text))
    return runs <= policies.PASSWORD_MAX_PATTERN_RUNS


def _without_surroundings(text: str) -> str:
    """The text from its first letter to its last: digits and symbols around it dropped."""
    start, end = 0, len(text)
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not text[end - 1].isalpha():
        end -= 1
    return text[start:end]


def listed_word(password: str) -> str | None:
    """The blocklist's word the password is made of, with only digits, symbols and separators
    around or inside it ("Wachtwoord123!", "w@chtw00rd", "welkom 2026"); None if there is none.
    Words shorter than policies.PASSWORD_BLOCKLIST_MIN_WORD are not looked for."""
    core = _without_surroundings(password.lower())
    candidates = {core, _SEPARATORS.sub("", core)}
    for text in list(candidates):
        plain = text.translate(_LEET)
        candidates |= {plain.replace("1", "i"), plain.replace("1", "l")}
    words = blocklist()
    for candidate in sorted(candidates):
        if len(candidate) >= policies.PASSWORD_BLOCKLIST_MIN_WORD and candidate in words:
            return candidate
    return None


class GuessablePasswordValidator:
    """Refuses a password an attacker tries first, and says why."""

    def validate(self, password: str, user=None) -> None:
        if len(password) < policies.PASSWORD_MIN_LENGTH:
            return  # refused for that alone (MinimumLengthValidator): one reason is clearer
        if is_pattern(password):
            raise ValidationError(
                gettext(
                    "This password is easy to guess: it is made of repeated characters or a "
                    "sequence, such as aaaa, abcd, 1234 or qwerty."
                ),
                code="password_pattern",
            )
        if password.lower() in blocklist():
            raise ValidationError(
                gettext(
                    "This password is on a list of common and leaked passwords, so it is easy "
                    "to guess."
                ),
                code="password_too_common",
            )
        if listed_word(password) is not None:
            raise ValidationError(
                gettext(
                    "This password is a common word or password with only digits or symbols "
                    "added, so it is easy to guess."
                ),
                code="password_common_word",
            )

    def get_help_text(self) -> str:
        return gettext("Your password can't be a common or leaked password, or a common word.")
