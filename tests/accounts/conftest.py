"""Accounts fixtures: two organisations (people fixtures are in tests/people.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from zorgsleutel.organisations.models import Organisation


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(
        name="Zorggroep Test",
        kind=Organisation.CARE_PROVIDER,
        ura="90000111",
        application_roles=["declaraties", "inzage"],
    )


@pytest.fixture
def other_organisation(db):
    return Organisation.objects.create(
        name="Ander Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="12345678"
    )


@pytest.fixture
def clear_throttles():
    """Login throttle counters live in the cache: none from another test, none left behind."""
    cache.clear()
    yield
    cache.clear()
