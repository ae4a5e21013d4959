"""The portal shell: Dutch by default, English on request, error pages, health, request limits."""

from __future__ import annotations

import pytest
from django.urls import path

from zorgsleutel import urls as portal_urls


def boom(request):
    raise RuntimeError("unexpected")


urlpatterns = [*portal_urls.urlpatterns, path("boom", boom)]
handler500 = portal_urls.handler500
handler404 = portal_urls.handler404


@pytest.mark.django_db
def test_home_page_is_dutch_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "Welkom bij Zorgsleutel" in html


@pytest.mark.django_db
def test_english_on_request(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and "Welcome to Zorgsleutel" in html


@pytest.mark.django_db
def test_404_in_both_languages(client):
    response = client.get("/does-not-exist")
    assert response.status_code == 404 and "Pagina niet gevonden" in response.content.decode()
    response = client.get("/does-not-exist", headers={"accept-language": "en"})
    client.cookies["django_language"] = "en"
    response = client.get("/does-not-exist")
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_500_page_without_a_stack_trace(client):
    client.raise_request_exception = False
    response = client.get("/boom")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Er ging iets mis" in html and "Traceback" not in html and "RuntimeError" not in html


@pytest.mark.django_db
def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.django_db
def test_huge_bodies_are_refused_before_anything_reads_them(client, settings):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.generic("POST", "/api/v1/health", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    response = client.generic(
        "POST", "/", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


@pytest.mark.django_db
def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_health_is_green_with_database_and_vault(client, vault_service):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "vault": "ok"}


@pytest.mark.django_db
def test_health_is_red_when_the_vault_is_down(client, settings):
    from zorgsleutel.vaultclient import client as vault_client

    settings.VAULT_URL = "http://127.0.0.1:1"
    vault_client.get.cache_clear()
    try:
        response = client.get("/healthz")
    finally:
        vault_client.get.cache_clear()
    assert response.status_code == 503
    assert response.json()["vault"] == "unreachable"


@pytest.mark.django_db
def test_health_is_red_when_the_vault_refuses_our_key(client, vault_service, settings):
    from zorgsleutel.vaultclient import client as vault_client

    settings.VAULT_CLIENT_KEY = "not-the-key"
    vault_client.get.cache_clear()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["vault"] == "unreachable"
