"""The session backend (authn/backends.py): the person of a session comes with their
memberships in one query, stops being logged in once blocked or deleted, and a password alone
never authenticates anybody."""

from __future__ import annotations

import pytest
from django.contrib import auth
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import PASSWORD
from zorgsleutel import policies
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.authn.backends import PersonBackend


@pytest.fixture
def member(organisation, other_organisation, person):
    user = person(organisation, "administrator")
    Membership.objects.create(user=user, organisation=other_organisation, role="member")
    return user


def test_a_sessions_person_comes_with_memberships_and_organisations_in_three_queries(member):
    with CaptureQueriesContext(connection) as queries:
        user = PersonBackend().get_user(member.pk)
        names = sorted(m.organisation.name for m in policies.memberships(user))
        required = policies.required_acr(user)
    assert len(queries) == 3  # the person, their memberships, their organisations
    assert names == ["Ander Bedrijf BV", "Zorggroep Test"]
    assert required == "substantial"  # administrator of a care provider
    assert user.memberships.filter(role="member").count() == 1  # still a real related manager


def test_a_person_without_memberships_is_found_too(db):
    operator = User.objects.create(email="op@zorgsleutel.nl", name="Op", state=User.ACTIVE)
    assert PersonBackend().get_user(operator.pk) == operator


@pytest.mark.parametrize("state", [User.BLOCKED, User.DELETED, User.INVITED])
def test_a_person_who_is_not_active_has_no_session(member, state):
    User.objects.filter(pk=member.pk).update(state=state)
    assert PersonBackend().get_user(member.pk) is None


@pytest.mark.parametrize("user_id", ["", "abc", None, "1; DROP TABLE accounts_user"])
def test_a_bad_id_in_a_session_is_nobody(db, user_id):
    assert PersonBackend().get_user(user_id) is None


def test_a_blocked_persons_session_ends_on_the_next_request(client, member, login_as):
    login_as(client, member)
    assert client.get("/mijn").status_code == 200
    User.objects.filter(pk=member.pk).update(state=User.BLOCKED)
    assert client.get("/mijn")["Location"] == "/inloggen"


def test_a_password_alone_authenticates_nobody(member, rf):
    """Logging in takes the login flow's second factor: django.contrib.auth.authenticate(), which
    admin sites and third-party views call, never accepts a password."""
    request = rf.post("/")
    assert auth.authenticate(request, username=member.email, password=PASSWORD) is None
    assert auth.authenticate(request, email=member.email, password=PASSWORD) is None
