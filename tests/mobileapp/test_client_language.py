"""The reference clients speak the user's language (clients/i18n.py, docs/glossary.md): Dutch
with --language nl or a Dutch locale in the environment, English otherwise, and they ask the
portal for its messages in the same language. (tests/conftest.py pins LANGUAGE=en for every
test; these set their own.)"""

from __future__ import annotations

import io

import pytest

from zorgsleutel.clients import app, card, i18n
from zorgsleutel.mobileapp import enrolment

PIN = "123456"


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "nl_NL.UTF-8"}, "nl"),
        ({"LANG": "nl_BE.UTF-8"}, "nl"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LC_ALL": "nl_NL.UTF-8", "LANG": "en_GB.UTF-8"}, "nl"),
        ({"LC_MESSAGES": "nl_NL.UTF-8", "LANG": "en_GB.UTF-8"}, "nl"),
        ({"LANGUAGE": "en:nl", "LANG": "nl_NL.UTF-8"}, "en"),
        ({"LANGUAGE": "nl:en", "LANG": "C.UTF-8"}, "nl"),
        ({"LANGUAGE": "", "LANG": "nl_NL.UTF-8"}, "nl"),
    ],
)
def test_the_environment_chooses_the_language(environ, language):
    assert i18n.from_environment(environ) == language


def test_the_app_client_answers_in_dutch_when_asked(tmp_path, capsys):
    state = str(tmp_path / "state.json")
    assert app.main(["login", "geen-qr", "--state", state, "--language", "nl"]) == 2
    assert capsys.readouterr().err == (
        "fout: 'geen-qr' is geen zorgsleutel://-URL van een QR-code en ook geen afbeelding\n"
    )
    url = "zorgsleutel://login?server=ftp://x"
    assert app.main(["login", url, "--state", state, "--language", "nl"]) == 2
    assert capsys.readouterr().err == "fout: de QR-code noemt geen geldige server\n"


def test_the_app_client_answers_in_english_otherwise(tmp_path, capsys):
    state = str(tmp_path / "state.json")
    assert app.main(["login", "geen-qr", "--state", state]) == 2
    assert capsys.readouterr().err == (
        "error: 'geen-qr' is neither a QR code's zorgsleutel:// URL nor an image file\n"
    )


def test_a_dutch_locale_makes_the_card_client_dutch(monkeypatch, capsys):
    monkeypatch.delenv("LANGUAGE")
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    assert card.main(["present", "--code", "K7QM"]) == 2
    assert capsys.readouterr().err == "fout: 'K7QM' is geen kaartcode (zoals K7QM-2XDA)\n"
    assert card.main(["present", "--code", "K7QM", "--language", "en"]) == 2
    assert capsys.readouterr().err == "error: 'K7QM' is not a card code (like K7QM-2XDA)\n"


def test_the_app_clients_verdicts_in_dutch():
    i18n.activate("nl")
    verdicts = [
        {"result": "ok", "attempts_left": 3},
        {"result": "wrong_pin", "attempts_left": 2},
        {"result": "wrong_pin", "attempts_left": 1},
        {"result": "blocked", "attempts_left": 0},
    ]
    assert [app._result(verdict) for verdict in verdicts] == [
        "Goedgekeurd: de browser gaat ingelogd verder.",
        "Onjuiste pincode: nog 2 pogingen.",
        "Onjuiste pincode: nog 1 poging.",
        "Onjuiste pincode: deze app is nu geblokkeerd. Vraag een beheerder of "
        "portaaladministrator van uw organisatie om hem te deblokkeren.",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_portal_answers_in_the_clients_language(server, person, tmp_path):
    """The client sends Accept-Language: the portal's own refusal comes back in its language."""
    user = person()
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    out = io.StringIO()
    app.enrol(
        started.url, state=app.State(tmp_path / "a.json"), pin=PIN, yes=True, name="a", out=out
    )
    answers = {}
    for language in ("nl", "en"):  # the code is used up now
        i18n.activate(language)
        with pytest.raises(app.ClientError) as refused:
            state = app.State(tmp_path / "b.json")
            app.enrol(started.url, state=state, pin=PIN, yes=True, name="b", out=out)
        answers[language] = str(refused.value)
    assert answers == {
        "nl": "Deze koppelcode is niet (meer) geldig.",
        "en": "This enrolment code is not valid (any more).",
    }


def test_the_app_client_asks_in_dutch(monkeypatch):
    i18n.activate("nl")
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")
    with pytest.raises(app.ClientError, match=r"^niet goedgekeurd$"):
        app._confirm("Deze app koppelen?", False, io.StringIO())
    assert asked == ["Goedkeuren? [j/N] "]
