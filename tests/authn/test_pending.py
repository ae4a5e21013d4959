"""The one pending-code model (authn/pending.py): what a session keeps between the two steps."""

from __future__ import annotations

from datetime import timedelta

from zorgsleutel.authn.pending import ACTIVATION, LOGIN, PASSWORD_RESET, PendingCode
from zorgsleutel.core import clock


def test_a_session_step_is_only_read_back_for_its_own_purpose():
    login = PendingCode(LOGIN, 7, "ch_1", "06 •• •• •• 01", 1000.0)
    stored = login.as_session()
    assert stored == {
        "purpose": "login",
        "subject": 7,
        "challenge": "ch_1",
        "hint": "06 •• •• •• 01",
        "started_at": 1000.0,
        "enrolment": "",
        "password_hash": "",
        "link": "",
    }
    assert PendingCode.from_session(stored, LOGIN) == login
    assert PendingCode.from_session(stored, ACTIVATION) is None  # a login is no activation
    assert PendingCode.from_session(stored, PASSWORD_RESET) is None
    assert PendingCode.from_session({**stored, "extra": 1}, LOGIN) is None  # unknown shape
    assert PendingCode.from_session(None, LOGIN) is None
    assert PendingCode.from_session("login", LOGIN) is None


def test_a_new_code_keeps_the_age_and_only_a_login_expires():
    started = clock.now().timestamp()
    login = PendingCode(LOGIN, 7, "ch_1", "06 •• •• •• 01", started)
    again = login.resent(challenge="ch_2", hint="06 •• •• •• 01")
    assert (again.challenge, again.started_at, again.subject) == ("ch_2", started, 7)
    reset = PendingCode(PASSWORD_RESET, 3, "ch_3", "06 •• •• •• 02", started, "enr", "argon2$x")
    with clock.frozen(clock.now() + timedelta(minutes=11)):
        assert (login.expired(), again.expired(), reset.expired()) == (True, True, False)
    with clock.frozen(clock.now() + timedelta(minutes=9)):
        assert login.expired() is False
