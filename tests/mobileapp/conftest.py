import pytest

from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.organisations.models import Organisation


@pytest.fixture
def organisation(db):
    from django.core.cache import cache

    cache.clear()  # rate-limit counters live in the cache, which outlives each test's data
    return Organisation.objects.create(
        name="Zorggroep App", kind=Organisation.CARE_PROVIDER, ura="90000222"
    )


@pytest.fixture
def person(organisation):
    def make(role="manager", email=None) -> User:
        user = User.objects.create(
            email=email or f"{role}{User.objects.count()}@app.nl",
            name=f"{role} persoon",
            state=User.ACTIVE,
        )
        Membership.objects.create(user=user, organisation=organisation, role=role)
        return user

    return make


@pytest.fixture
def server(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url
