"""New passwords an attacker guesses first are refused, and the refusal says why (NIST SP
800-63B 5.1.1.2; core/passwords.py, policies.PASSWORD_*). Each rule's limit is pinned here by a
password just inside and one just outside it."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from zorgsleutel.core import passwords

PATTERN = (
    "This password is easy to guess: it is made of repeated characters or a sequence, such as "
    "aaaa, abcd, 1234 or qwerty."
)
LISTED = "This password is on a list of common and leaked passwords, so it is easy to guess."
WORD = (
    "This password is a common word or password with only digits or symbols added, so it is "
    "easy to guess."
)
SHORT = "This password is too short. It must contain at least 12 characters."


def refusals(password: str) -> list[str]:
    with translation.override("en"):
        try:
            validate_password(password)
        except ValidationError as refused:
            return refused.messages
    return []


@pytest.mark.parametrize(
    "password, expected",
    [
        # The two, and what the blocklist holds
        ("wachtwoord123", [WORD]),
        ("aaaaaaaaaaaa", [PATTERN]),
        ("password1234", [LISTED]),
        ("Wachtwoord2026!", [WORD]),
        ("w@chtw00rd123", [WORD]),  # stand-ins for letters
        ("Welkom 2026!!", [WORD]),
        ("Den Haag 2026!", [WORD]),  # our Dutch list (blocklist/dutch.txt)
        ("Zorgsleutel2026", [WORD]),  # the service's own name
        ("Ziekenhuis2026!", [WORD]),  # a Dutch dictionary word (zxcvbn-dutch)
        # Repeats and sequences
        ("welkomwelkom", [PATTERN]),  # one piece repeated
        ("abcdef123456", [PATTERN]),  # two runs
        ("qwertyuiop12", [PATTERN]),  # a keyboard row
        ("azertyuiop12", [PATTERN]),  # the Belgian and French keyboard's
        ("acegacgeaegc", [PATTERN]),  # 4 different characters
        # A too-short password says only that
        ("wachtwoord1", [SHORT]),
        # Long enough and not guessable: accepted
        ("Nieuw-wachtwoord-2026", []),
        ("paarse olifant fietst", []),
        ("Kwartel-73xy", []),
    ],
)
def test_guessable_passwords_are_refused_with_their_reason(password, expected):
    assert refusals(password) == expected


def test_words_shorter_than_four_letters_are_not_looked_for():
    """policies.PASSWORD_BLOCKLIST_MIN_WORD = 4: "jan" is listed (dutch.txt), but a 3-letter word
    with digits around it is not refused for it; "lisa", 4 letters, is."""
    assert "jan" in passwords.blocklist() and "lisa" in passwords.blocklist()
    assert refusals("jan-2026-0101") == []
    assert refusals("lisa-2026-0101") == [WORD]


def test_five_different_characters_are_enough():
    """policies.PASSWORD_MIN_DISTINCT_CHARACTERS = 5 (neither password repeats a piece or runs)."""
    assert refusals("acegacgeaegc") == [PATTERN]  # a, c, e, g
    assert refusals("acegiacgieag") == []  # a, c, e, g, i


def test_three_runs_are_not_a_pattern():
    """policies.PASSWORD_MAX_PATTERN_RUNS = 2."""
    assert refusals("abcdef123456") == [PATTERN]  # abcdef, 123456
    assert refusals("abcdef1234zz") == []  # abcdef, 1234, zz


def test_the_blocklist_holds_breached_passwords_dutch_words_and_ours():
    words = passwords.blocklist()
    assert len(words) > 105_000
    assert {"123456", "qwerty123", "wachtwoord", "welkom", "geheim", "zorgsleutel"} <= words
    assert all(word == word.lower() for word in words)
