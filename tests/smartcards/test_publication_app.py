"""smartcards/status_app.py in front of the portal (as zorgsleutel/wsgi.py serves it), over
real HTTP: what it answers itself, what it leaves to Django, and how it refuses."""

from __future__ import annotations

import http.client
import socket
import urllib.parse

import pytest

from smartcards.publishing import card, request, status_app_server
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards import runtime
from zorgsleutel.smartcards.models import Smartcard

MALFORMED = b"0\x03\n\x01\x01"


@pytest.fixture
def server(transactional_db, portal_ca):
    with status_app_server() as url:
        yield urllib.parse.urlsplit(url).port


@pytest.fixture
def organisation(transactional_db):
    return Organisation.objects.create(
        name="Zorggroep App", kind=Organisation.CARE_PROVIDER, ura="90000555"
    )


def ask(port: int, method: str, path: str, body: bytes | None = None, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = (response.status, dict(response.getheaders()), response.read())
    connection.close()
    return answer


def test_the_status_paths_carry_no_session_locale_or_page_headers(server, organisation, portal_ca):
    _, issued = card(organisation, state=Smartcard.BLOCKED)
    der = request(issued, portal_ca["certificates"]["issuing"], nonce=None)
    status, headers, _ = ask(
        server, "POST", "/smartcards/ocsp", der, **{"Content-Type": "application/ocsp-request"}
    )
    assert status == 200
    assert sorted(headers) == [
        "Cache-Control",
        "Content-Length",
        "Content-Type",
        "Date",
        "ETag",
        "Expires",
        "Last-Modified",
        "Server",
        "X-Content-Type-Options",
    ]


def test_a_conditional_get_and_a_head_of_the_crl(server, organisation):
    card(organisation, state=Smartcard.BLOCKED)
    status, headers, crl = ask(server, "GET", "/smartcards/ca.crl")
    assert (status, headers["ETag"], headers["Content-Type"]) == (
        200,
        '"crl-1"',
        "application/pkix-crl",
    )
    status, headers, body = ask(server, "GET", "/smartcards/ca.crl", **{"If-None-Match": '"crl-1"'})
    assert (status, body, headers["ETag"]) == (304, b"", '"crl-1"')
    assert "Content-Type" not in headers
    status, headers, body = ask(server, "HEAD", "/smartcards/ca.crl")
    assert (status, body, headers["Content-Length"]) == (200, b"", str(len(crl)))


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/smartcards/ocsp", "POST"),
        ("PUT", "/smartcards/ocsp", "POST"),
        ("POST", "/smartcards/ca.crl", "GET, HEAD"),
        ("POST", "/smartcards/ocsp/MA==", "GET, HEAD"),
        ("DELETE", "/smartcards/ca.cer", "GET, HEAD"),
    ],
)
def test_other_methods_are_refused(server, method, path, allowed):
    status, headers, body = ask(server, method, path, b"")
    assert (status, headers["Allow"], body) == (405, allowed, b"Method not allowed.")


def test_a_body_too_large_or_a_bad_length_is_refused(server):
    status, _, body = ask(server, "POST", "/smartcards/ocsp", b"0" * 10_001)
    assert (status, body) == (413, b"Request body too large.")
    with socket.create_connection(("127.0.0.1", server), timeout=10) as raw:
        raw.sendall(b"POST /smartcards/ocsp HTTP/1.0\r\nContent-Length: ten\r\n\r\n")
        answer = b"".join(iter(lambda: raw.recv(4096), b""))  # until the server closes
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.endswith(b"\r\n\r\nInvalid Content-Length.")


def test_an_empty_or_undecodable_request_is_malformed(server):
    assert ask(server, "POST", "/smartcards/ocsp", b"")[2] == MALFORMED
    assert ask(server, "GET", "/smartcards/ocsp/%E2%82%AC")[2] == MALFORMED  # not base64
    assert ask(server, "GET", "/smartcards/ocsp/")[2] == MALFORMED


def test_other_paths_go_to_django(server):
    status, headers, _ = ask(server, "GET", "/smartcards/ocsp.txt")
    assert (status, headers["Content-Type"]) == (404, "text/html; charset=utf-8")
    status, headers, _ = ask(server, "GET", "/healthz")
    assert "Content-Security-Policy" in headers  # Django's middleware answered


def test_without_its_token_the_crl_is_unavailable(server, settings):
    settings.SMARTCARD_CA_PIN = ""
    runtime.reset()
    status, headers, body = ask(server, "GET", "/smartcards/ca.crl")
    assert (status, headers["Retry-After"]) == (503, "60")
    assert body.decode() == (  # the portal's language (LANGUAGE_CODE)
        "Smartcards kunnen nu niet worden aangemaakt of gecontroleerd. Probeer het later opnieuw."
    )
