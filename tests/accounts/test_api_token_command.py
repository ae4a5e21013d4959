"""`zorgsleutel api-token create|revoke`: a token that acts as an active member, shown once."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from zorgsleutel.accounts.models import ApiToken, Membership
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _create(**options) -> str:
    out = io.StringIO()
    call_command("api_token", "create", stdout=out, **options)
    return out.getvalue()


def test_create_shows_the_token_once_and_it_works_then_revoke_ends_it(organisation, person):
    person(organisation, "manager", email="hr@zorggroep.nl")
    printed = _create(organisation=organisation.ura, user="HR@zorggroep.nl", name="HR-koppeling")
    raw = re.search(r"\b(zs_[A-Za-z0-9_-]{43})\b", printed).group(1)
    token = ApiToken.objects.get()
    assert (token.name, token.revoked_at) == ("HR-koppeling", None)
    assert raw not in token.token_hash  # only the hash is stored
    url = f"/api/v1/organisations/{organisation.public_id}/members"
    assert Client(headers={"X-Zorgsleutel-Token": raw}).get(url).status_code == 200
    assert AuditEvent.objects.filter(action="apitoken.created").count() == 1
    call_command("api_token", "revoke", str(token.pk), stdout=io.StringIO())
    assert Client(headers={"X-Zorgsleutel-Token": raw}).get(url).status_code == 401


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"organisation": "99999999", "user": "hr@zorggroep.nl"}, "no such organisation"),
        ({"user": "niemand@zorggroep.nl"}, "must be an active member"),
        ({"user": "uitgenodigd@zorggroep.nl"}, "must be an active member"),
    ],
)
def test_create_refuses_with_a_clear_line(organisation, person, options, message):
    invited = person(organisation, "manager", email="uitgenodigd@zorggroep.nl")
    Membership.objects.filter(user=invited).update(state="invited", accepted_at=None)
    with pytest.raises(CommandError, match=message):
        _create(**{"organisation": organisation.ura, **options})
    assert not ApiToken.objects.exists()


def test_revoke_of_an_unknown_token_says_so():
    with pytest.raises(CommandError, match="No such open token"):
        call_command("api_token", "revoke", "424242", stdout=io.StringIO())
