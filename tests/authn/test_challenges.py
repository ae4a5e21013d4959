"""authn/challenges.py's `pending`: the open challenge of one kind, found by its public id or
code, in one statement; never another kind's, an answered or an expired one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from zorgsleutel.authn import challenges
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.core.errors import NotFound

pytestmark = pytest.mark.django_db

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def open_challenge(kind: str = "card") -> Challenge:
    return challenges.start(
        kind=kind,
        session_key="session-1",
        host="portal.example",
        ttl=timedelta(minutes=5),
        prefix="card_",
        purpose="smartcard_login",
        code_alphabet=ALPHABET,
    )


def test_the_open_challenge_by_public_id_or_code_with_every_field():
    made = open_challenge()
    for found in (
        challenges.pending("card", public_id=made.public_id),
        challenges.pending("card", code=made.code),
        challenges.pending("card", pk=made.pk),
    ):
        assert found.pk == made.pk
        assert (found.kind, found.purpose, found.host, found.status) == (
            "card",
            "smartcard_login",
            "portal.example",
            "pending",
        )
        assert bytes(found.challenge) == bytes(made.challenge)
        assert len(bytes(found.challenge)) == 32
        assert found.expires_at == made.expires_at
        assert (found.result, found.held, found.person_id) == ({}, {}, None)


def test_one_statement():
    made = open_challenge()
    with CaptureQueriesContext(connection) as statements:
        challenges.pending("card", public_id=made.public_id)
    assert len(statements.captured_queries) == 1


def test_another_kind_an_answered_or_an_expired_challenge_is_invalid():
    made = open_challenge(kind="app_login")
    with pytest.raises(NotFound) as refused:
        challenges.pending("card", public_id=made.public_id)
    assert refused.value.code == "challenge_invalid"
    made.status = Challenge.ACCEPTED
    made.save(update_fields=["status"])
    with pytest.raises(NotFound):
        challenges.pending("app_login", public_id=made.public_id)
    later = open_challenge()
    with clock.frozen(later.expires_at), pytest.raises(NotFound):
        challenges.pending("card", code=later.code)
    with clock.frozen(later.expires_at - timedelta(seconds=1)):
        assert challenges.pending("card", code=later.code).pk == later.pk
    with pytest.raises(NotFound):
        challenges.pending("card", public_id="card_nothing")


def test_only_public_id_code_or_pk_find_one():
    made = open_challenge()
    with pytest.raises(TypeError):
        challenges.pending("card", session_hash=made.session_hash)


def test_a_lock_is_for_update_where_the_database_has_it():
    made = open_challenge()
    with transaction.atomic(), CaptureQueriesContext(connection) as statements:
        challenges.pending("card", lock=True, public_id=made.public_id)
    [statement] = [q["sql"] for q in statements.captured_queries if "SELECT" in q["sql"]]
    expected = "FOR UPDATE" if connection.vendor == "postgresql" else ""
    assert statement.endswith(expected)
    assert ("FOR UPDATE" in statement) is (connection.vendor == "postgresql")


@pytest.mark.django_db(transaction=True)
def test_a_lock_only_inside_a_transaction():
    made = open_challenge()
    with pytest.raises(TransactionManagementError):
        challenges.pending("card", lock=True, public_id=made.public_id)
