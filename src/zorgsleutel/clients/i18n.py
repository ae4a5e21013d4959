"""The reference clients speak the user's language (docs/glossary.md, "The reference clients").

Dutch or English: `--language nl|en`, else the environment as gettext reads it (LANGUAGE, LC_ALL,
LC_MESSAGES, LANG: the first one set; `nl_NL.UTF-8` is Dutch), else English. The words are the
portal's own catalogue (locale/nl/LC_MESSAGES/django.mo), read with the standard library's
gettext: a client needs no Django settings. `http_json` (common.py) sends the language as
`Accept-Language`, so the portal's messages come back in it too.

Until `activate` runs (functions called directly, as the tests do) a client speaks English and
sends no `Accept-Language`, so the portal answers in its own default.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import os
from collections.abc import Mapping
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("nl", "en")
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_state: dict = {"language": None, "catalogue": stdlib_gettext.NullTranslations()}


def from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """ "nl" when the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set names Dutch (its
    first choice, for LANGUAGE's list `nl:en`), else "en"."""
    for name in ENVIRONMENT:
        value = environ.get(name, "")
        if value:
            return "nl" if value.split(":")[0].lower().startswith("nl") else "en"
    return "en"


def activate(language: str | None = None) -> str:
    """Speak `language` ("nl" or "en"; None: the environment's) from now on; returns it."""
    chosen = language or from_environment()
    if chosen not in LANGUAGES:
        raise ValueError(f"language {chosen!r}: choose nl or en")
    if chosen == "nl":
        catalogue = stdlib_gettext.translation(
            "django", localedir=LOCALE_DIR, languages=["nl"], fallback=True
        )
    else:
        catalogue = stdlib_gettext.NullTranslations()
    _state.update(language=chosen, catalogue=catalogue)
    return chosen


def deactivate() -> None:
    """Back to the state before `activate`: English, no Accept-Language (for tests)."""
    _state.update(language=None, catalogue=stdlib_gettext.NullTranslations())


def language() -> str | None:
    """The language activated, or None (not yet: English, no Accept-Language)."""
    return _state["language"]


def gettext(message: str) -> str:
    return _state["catalogue"].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _state["catalogue"].ngettext(singular, plural, n)


def gettext_noop(message: str) -> str:
    """Marks `message` for the catalogue; `gettext` translates it where it is shown."""
    return message


def add_language_option(parser) -> None:
    """`--language nl|en` on a client's command line."""
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="nl or en (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG; else en)",
    )
