"""With DEBUG on (`make run`), a page that does not exist is the portal's own 404 page, as
without DEBUG, not Django's technical page listing the URL patterns (web/notfound.py)."""

from __future__ import annotations

import uuid

import pytest

from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db
# What Django's technical 404 page shows, none of which the product's page may.
TECHNICAL = ("URLconf", "urlpatterns", "DEBUG = True", "technical_404", "Raised by", "Request URL")


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def _product_404(response) -> str:
    assert response.status_code == 404
    page = response.content.decode()
    assert [word for word in TECHNICAL if word in page] == []
    return page


def test_a_missing_page_is_the_product_404_page(client, debug):
    page = _product_404(client.get("/bestaat-niet"))
    assert "<h1>Pagina niet gevonden</h1>" in page
    assert "<p>Deze pagina bestaat niet (meer).</p>" in page
    assert "<title>404 · Zorgsleutel</title>" in page
    assert 'class="zorgsleutel-theme utrecht-document zs-body"' in page  # the portal's layout


def test_in_english_too(client, debug):
    client.cookies["django_language"] = "en"
    page = _product_404(client.get("/does-not-exist"))
    assert "<h1>Page not found</h1>" in page and "This page does not exist (any more)." in page


def test_a_view_that_finds_nothing_shows_the_same_page(client, debug, person, login_as):
    organisation = Organisation.objects.create(
        name="Zorggroep Test", kind=Organisation.CARE_PROVIDER, ura="90000111"
    )
    login_as(client, person(organisation, "manager"))
    page = _product_404(client.get(f"/beheer/{uuid.uuid4()}/leden/1/apps"))  # Http404 in the view
    assert "<h1>Pagina niet gevonden</h1>" in page


def test_the_api_still_answers_json(client, debug):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_missing_slash_still_redirects(client, debug):
    """CommonMiddleware's APPEND_SLASH sees the 404 and redirects where a pattern with the
    slash exists (the operator console's is `operator/`)."""
    response = client.get("/operator")
    assert (response.status_code, response["Location"]) == (301, "/operator/")


def test_without_debug_nothing_changes(client, settings):
    settings.DEBUG = False
    page = _product_404(client.get("/bestaat-niet"))
    assert "<h1>Pagina niet gevonden</h1>" in page
