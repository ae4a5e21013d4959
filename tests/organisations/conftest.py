import pytest

from zorgsleutel.organisations.models import Organisation


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(
        name="Zorggroep Test", kind=Organisation.CARE_PROVIDER, ura="90000111"
    )
