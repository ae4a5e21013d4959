"""People fixtures for every test folder: a person in an organisation, logging in as them, and
reading codes and links like a person does (from the vault's dev outbox and the mail outbox)."""

from __future__ import annotations

import re

import pytest

from support import register_secret

# Models are imported inside the fixtures: the vault's test session (its own settings, without
# the portal's apps) loads this module too, through tests/conftest.py.

PASSWORD = "Sterk-wachtwoord-2026"


@pytest.fixture
def person(db):
    """`person(org, role, email=...)`: an active person (no phone) with a membership."""

    from zorgsleutel.accounts.models import User

    def make(organisation, role="member", email=None, name="Test Persoon"):
        email = email or f"{role}{User.objects.count()}@{organisation.name.split()[0].lower()}.nl"
        return someone(organisation, role, email=email, name=name)

    return make


def someone(organisation, role: str = "member", *, email: str, name: str = ""):
    """An active person with the password PASSWORD and a membership of `organisation` (not yet
    accepted); named after their address unless `name` is given."""
    from zorgsleutel.accounts.models import Membership, User

    user = User.objects.create(email=email, name=name or email.split("@")[0], state=User.ACTIVE)
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def sms_code(vault_service):
    """`sms_code(hint)`: the newest code the vault texted to this masked number."""

    def read(hint: str) -> str:
        body = next(m["body"] for m in vault_service.dev_sms() if m["to"] == hint)
        return register_secret(re.search(r"\b(\d{6})\b", body).group(1))

    return read


@pytest.fixture
def fresh_number():
    """`fresh_number(last_two="01")`: a Dutch mobile number no other test used (the live vault
    keeps per-number caps across tests)."""
    import itertools
    import os

    counter = itertools.count()

    def make(last_two: str = "01") -> str:
        middle = (os.getpid() * 1000 + next(counter) + int.from_bytes(os.urandom(2))) % 100_000
        return register_secret(f"06 4{middle:05d}{last_two}")

    return make


@pytest.fixture
def mailed_link():
    """`mailed_link(email)`: the path of the newest link mailed to this address."""

    from zorgsleutel.messaging.models import OutboxMail

    def read(email: str) -> str:
        mail = OutboxMail.objects.filter(to=email).order_by("-pk").first()
        url = re.search(r"https?://\S+", mail.body_text).group(0)
        return "/" + url.split("/", 3)[3]

    return read


@pytest.fixture
def login_as():
    """`login_as(client, user)`: a logged-in session as the login flow leaves it."""
    from zorgsleutel.authn import sessions
    from zorgsleutel.core import clock

    def log_in(client, user, acr: str = "substantial") -> None:
        client.force_login(user)
        session = client.session
        now = clock.now().timestamp()
        session.update({sessions.AUTH_AT: now, sessions.SEEN_AT: now, sessions.ACR: acr})
        session.save()

    return log_in
