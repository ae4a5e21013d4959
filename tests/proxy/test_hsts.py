"""One Strict-Transport-Security header, from the portal, through the shipped nginx.

The portal runs as in production (gunicorn, DEBUG off) behind a real nginx with the shipped
config. nginx sends no HSTS header of its own (deploy/nginx/zorgsleutel.conf); the portal sends
it for requests its proxy says came over TLS, and never for a direct request that only claims so.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys

import pytest

from support import free_port, wait_for_port

HSTS = "max-age=63072000; includeSubDomains"
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "q7Vf2kLx9RmT4wZp8NcB3hJd6GsY1aEu5XoW0iKv-lM_nQrPtC",
    "VAULT_CLIENT_KEY": "Zk3uR8pQ1wXy6TnB4mLc9VsD2hGf7JaE",
    "ALLOWED_HOSTS": "localhost,127.0.0.1",
    "TRUSTED_PROXIES": "127.0.0.1",
    "SITE_URL": "https://localhost",
}


@pytest.fixture
def production_portal(tmp_path):
    """gunicorn with the portal's production settings on a free loopback port."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ZS_VAR_DIR": str(tmp_path),
        "ZS_BASE_DIR": str(tmp_path),
        **PRODUCTION,
    }
    if "PYTHONPATH" in os.environ:  # a worktree's checkout, not the editable install's
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "zorgsleutel.wsgi", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_for_port(port, process, seconds=30)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{(tmp_path / 'gunicorn.log').read_text()}") from None
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def test_exactly_one_hsts_header_through_nginx(production_portal, nginx_proxy):
    proxy = nginx_proxy(production_portal)
    page = proxy.request(proxy.portal_url + "/")
    assert page.status == 200
    assert page.all("Strict-Transport-Security") == [HSTS]
    missing = proxy.request(proxy.portal_url + "/no-such-page")
    assert missing.status == 404
    assert missing.all("Strict-Transport-Security") == [HSTS]
    uzi = proxy.request(proxy.uzi_url + "/uzi/tls/", client=proxy.pki.card)
    assert uzi.status == 404
    assert uzi.all("Strict-Transport-Security") == [HSTS]


def test_nginx_adds_none_of_its_own(production_portal, nginx_proxy):
    """nginx's own redirects carry none: one source of the header, so never two."""
    proxy = nginx_proxy(production_portal)
    redirect = proxy.request(proxy.portal_url + "/uzi/tls/ch-1")
    assert redirect.status == 307
    assert redirect.all("Strict-Transport-Security") == []


def test_a_direct_request_claiming_https_is_redirected_without_hsts(production_portal):
    """The peer is not a trusted proxy: X-Forwarded-Proto is ignored, so no HSTS and the
    redirect to https that every plain-HTTP request gets."""
    connection = http.client.HTTPConnection("127.0.0.1", production_portal, timeout=10)
    try:
        # Trust is by socket peer: from 127.0.0.2 (not in TRUSTED_PROXIES) to the same portal.
        connection.source_address = ("127.0.0.2", 0)
        connection.request("GET", "/", headers={"Host": "localhost", "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 301
    assert response.getheader("Location") == "https://localhost/"
    assert response.getheader("Strict-Transport-Security") is None
