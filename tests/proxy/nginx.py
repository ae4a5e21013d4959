"""A real nginx, configured from deploy/nginx/zorgsleutel.conf, in front of a test server.

The shipped file is rendered, not copied by hand: ports, certificate paths and the upstream are
replaced and nothing else, so the header handling under test is the one that ships. Use it from
any test folder by importing the fixtures into that folder's conftest.py:

    from proxy.nginx import nginx_pki, nginx_proxy  # noqa: F401

    def test_card(live_server, nginx_proxy, settings):
        settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
        proxy = nginx_proxy(live_server.url)
        response = proxy.request(proxy.uzi_url + "/uzi/tls/abc", client=proxy.pki.card)
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from proxy.pki import ClientIdentity, TestPki, make_pki
from support import free_port, require_binary, wait_for_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY_CONF = REPO / "deploy" / "nginx" / "zorgsleutel.conf"
NGINX = "/usr/sbin/nginx"
PORTAL_HOST = "zorgsleutel.example"
UZI_HOST = "uzi.zorgsleutel.example"
UPSTREAM = "server 127.0.0.1:8000;"
STATUS_UPSTREAM = "server 127.0.0.1:8003;"  # zorgsleutel smartcard-ca serve
OCSP_CACHE = "proxy_cache_path /var/cache/nginx/zorgsleutel-ocsp "
DEBIAN_MAIN_CONF = Path("/etc/nginx/nginx.conf")
# The test's two hosts. Different host names, as in production, so the browser keeps their cookies
# apart (cookies ignore ports): a view on the UZI host cannot rely on the portal's session cookie
# in a test and then miss it in production. Unlike production they are not the same site.
TEST_PORTAL_HOST = "localhost"
TEST_UZI_HOST = "127.0.0.1"  # Playwright's client_certificates origin: exactly this


# --- Rendering the shipped configuration ---------------------------------------------------------


def without_comments(text: str) -> str:
    """The config without `#` comments (the shipped file has no `#` inside values)."""
    lines = (line.split("#", 1)[0].rstrip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def server_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of every top-level `server { … }` block in comment-free config text."""
    blocks, depth, start = [], 0, None
    for match in re.finditer(r"[{}]", text):
        if match.group() == "{":
            if depth == 0 and re.search(r"(^|\s)server\s*$", text[: match.start()]):
                start = text.rfind("server", 0, match.start())
            depth += 1
        else:
            depth -= 1
            if depth == 0 and start is not None:
                blocks.append((start, match.end()))
                start = None
    return blocks


def substitute(text: str, pattern: str, replacement: str, *, expected: int) -> str:
    """re.subn that fails loudly when the shipped file no longer has the expected shape."""
    result, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != expected:
        raise AssertionError(
            f"{DEPLOY_CONF.name}: expected {expected} × {pattern!r}, found {count}; "
            "update tests/proxy/nginx.py together with the deploy config"
        )
    return result


def with_certificates(text: str, pki: TestPki, client_ca_names: Path | None = None) -> str:
    """Point the certificate directives of the shipped config at the test PKI."""
    text = substitute(
        text, r"ssl_certificate\s+\S+;", f"ssl_certificate {pki.server_cert};", expected=2
    )
    text = substitute(
        text, r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {pki.server_key};", expected=2
    )
    names = client_ca_names or pki.client_ca_names
    return substitute(
        text, r"ssl_client_certificate\s+\S+;", f"ssl_client_certificate {names};", expected=1
    )


def render_site(
    text: str,
    *,
    pki: TestPki,
    portal_port: int,
    uzi_port: int,
    upstream_port: int,
    cache_dir: Path,
    bind_address: str | None = None,
    client_ca_names: Path | None = None,
    status_port: int | None = None,
) -> str:
    """The shipped site config on loopback ports: the port-80 server is left out, the TLS
    servers listen on 127.0.0.1, and redirects between the two hosts point at the test hosts.
    The status upstream is `status_port` (default: the portal's, whose views answer the status
    addresses too); the OCSP cache lives in `cache_dir`."""
    text = with_certificates(without_comments(text), pki, client_ca_names)
    text = substitute(text, re.escape(UPSTREAM), f"server 127.0.0.1:{upstream_port};", expected=1)
    status = f"server 127.0.0.1:{status_port or upstream_port};"
    text = substitute(text, re.escape(STATUS_UPSTREAM), status, expected=1)
    text = substitute(text, re.escape(OCSP_CACHE), f"proxy_cache_path {cache_dir} ", expected=1)
    text = substitute(
        text, re.escape(f"https://{UZI_HOST}"), f"https://{TEST_UZI_HOST}:{uzi_port}", expected=1
    )
    text = substitute(
        text,
        re.escape(f"https://{PORTAL_HOST}"),
        f"https://{TEST_PORTAL_HOST}:{portal_port}",
        expected=1,
    )
    rendered, last = [], 0
    for start, end in server_blocks(text):
        rendered.append(text[last:start])
        last = end
        block = text[start:end]
        if re.search(r"^\s*listen\s+80;", block, re.MULTILINE):
            continue  # plain HTTP: port 80 needs root; its status locations are the TLS ones
        port = (
            uzi_port if re.search(rf"server_name\s+{re.escape(UZI_HOST)};", block) else portal_port
        )
        block = substitute(block, r"^\s*listen\s+\[::\].*\n", "", expected=1)
        block = substitute(
            block, r"^(\s*)listen\s+443\b([^;]*);", rf"\1listen 127.0.0.1:{port}\2;", expected=1
        )
        if bind_address:  # the address nginx connects upstream from (test-only)
            block = block.replace("server_name", f"proxy_bind {bind_address};\n    server_name", 1)
        rendered.append(block)
    rendered.append(text[last:])
    return "".join(rendered)


def main_config(prefix: Path, site: str) -> str:
    """A foreground nginx whose every file lives under `prefix`."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
master_process off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix / "access.log"};
    default_type application/octet-stream;
{temp}
{site}
}}
"""


def check_shipped_config(nginx: str, pki: TestPki, directory: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on the shipped site inside Debian's own nginx.conf (only certificates swapped)."""
    directory.mkdir(parents=True, exist_ok=True)
    site = directory / "zorgsleutel.conf"
    site.write_text(
        substitute(
            with_certificates(DEPLOY_CONF.read_text(), pki),
            re.escape(OCSP_CACHE),
            f"proxy_cache_path {directory / 'ocsp-cache'} ",
            expected=1,
        )
    )
    if DEBIAN_MAIN_CONF.exists():
        main = DEBIAN_MAIN_CONF.read_text()
        main = substitute(
            main, r"include\s+/etc/nginx/sites-enabled/\*;", f"include {site};", expected=1
        )
        main = re.sub(r"include\s+/etc/nginx/conf\.d/\*\.conf;", "", main)
        main = re.sub(
            r"(?m)^(\s*)(error|access)_log\s+\S+;", rf"\1\2_log {directory}/\2.log;", main
        )
    else:
        main = "events {}\nhttp {\n" + f"include {site};\n" + "}\n"
    conf = directory / "nginx.conf"
    conf.write_text(main)
    return subprocess.run(
        [nginx, "-t", "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )


# --- A running nginx and a small HTTPS client ----------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # the last value of each header (lower-case names)
    body: bytes
    header_lines: list[tuple[str, str]] = field(default_factory=list)  # every header as sent

    def json(self):
        return json.loads(self.body)

    def all(self, name: str) -> list[str]:
        """Every value of header `name`, in order: a repeated header shows up more than once."""
        return [value for key, value in self.header_lines if key.lower() == name.lower()]


@dataclass
class NginxProxy:
    """A started nginx: `portal_url` is the portal's host, `uzi_url` the host asking for a card."""

    prefix: Path
    portal_port: int
    uzi_port: int
    pki: TestPki
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def portal_url(self) -> str:
        return f"https://{TEST_PORTAL_HOST}:{self.portal_port}"

    @property
    def uzi_url(self) -> str:
        return f"https://{TEST_UZI_HOST}:{self.uzi_port}"

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def request(
        self,
        url: str,
        *,
        client: ClientIdentity | None = None,
        headers: dict[str, str] | None = None,
        method: str = "GET",
        body: bytes | None = None,
    ) -> Response:
        """One HTTPS request (no redirects followed), presenting `client`'s certificate if given."""
        parts = urllib.parse.urlsplit(url)
        context = ssl.create_default_context(cafile=str(self.pki.server_ca))
        if client is not None:
            context.load_cert_chain(client.cert_path, client.key_path)
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=context, timeout=10
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(method, target, body=body, headers=headers or {})
            answer = connection.getresponse()
            lines = answer.getheaders()
            return Response(
                answer.status, {k.lower(): v for k, v in lines}, answer.read(), list(lines)
            )
        finally:
            connection.close()

    def playwright_client_certificates(self, client: ClientIdentity | None = None) -> list[dict]:
        """`client_certificates=` for Playwright's new_context(): the card, on the UZI host only."""
        client = client or self.pki.card
        return [
            {
                "origin": self.uzi_url,
                "certPath": str(client.cert_path),
                "keyPath": str(client.key_path),
            }
        ]

    def start(self, nginx: str, site: str) -> None:
        self.prefix.mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(main_config(self.prefix, site))
        with open(self.prefix / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                [
                    nginx,
                    "-p",
                    str(self.prefix),
                    "-c",
                    str(conf),
                    "-e",
                    str(self.prefix / "error.log"),
                ],
                stdout=stderr,
                stderr=stderr,
            )
        try:
            for port in (self.portal_port, self.uzi_port):
                wait_for_port(port, self.process, seconds=10)
        except RuntimeError as error:
            self.stop()
            stderr_text = (self.prefix / "stderr.log").read_text(errors="replace")
            raise RuntimeError(
                f"nginx did not start: {error}\n{stderr_text}{self.error_log()}"
            ) from None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def trust_test_origins(proxy: NginxProxy, settings, monkeypatch) -> None:
    """Let forms POST through the test's nginx. nginx passes the host without its port ($host,
    as production on 443 needs), while a browser's Origin on the test's ports carries it: such
    an Origin matches only as one of CSRF_TRUSTED_ORIGINS. Django's CSRF middleware caches that
    setting per instance, and the live server keeps its instance for the whole session, so it
    is read on every request here instead."""
    from django.conf import settings as django_settings
    from django.middleware.csrf import CsrfViewMiddleware

    settings.CSRF_TRUSTED_ORIGINS = [proxy.portal_url, proxy.uzi_url]
    monkeypatch.setattr(
        CsrfViewMiddleware,
        "allowed_origins_exact",
        property(lambda self: set(django_settings.CSRF_TRUSTED_ORIGINS)),
    )
    monkeypatch.setattr(
        CsrfViewMiddleware,
        "csrf_trusted_origins_hosts",
        property(
            lambda self: [
                urllib.parse.urlsplit(o).netloc for o in django_settings.CSRF_TRUSTED_ORIGINS
            ]
        ),
    )


# --- Fixtures -------------------------------------------------------------------------------------

STARTED = pytest.StashKey[list[NginxProxy]]()


def upstream_port(upstream: int | str) -> int:
    """A port, or the port of a URL such as live_server.url."""
    if isinstance(upstream, int):
        return upstream
    port = urllib.parse.urlsplit(upstream).port
    if port is None:
        raise ValueError(f"no port in {upstream!r}")
    return port


@pytest.fixture(scope="session")
def nginx_pki(tmp_path_factory) -> TestPki:
    """Server and client certificates for the test nginx (generated once per session)."""
    return make_pki(tmp_path_factory.mktemp("nginx-pki"))


@pytest.fixture
def nginx_proxy(nginx_pki, tmp_path, request):
    """`nginx_proxy(upstream)`: start nginx (shipped config) in front of a port or URL on 127.0.0.1.

    Keyword arguments: `bind_address` (connect upstream from e.g. 127.0.0.2) and
    `client_ca_names` (a PEM file of the CAs to name as acceptable issuers).
    """
    nginx = require_binary("nginx", NGINX)
    started = request.node.stash.setdefault(STARTED, [])

    def start(
        upstream: int | str,
        *,
        bind_address: str | None = None,
        client_ca_names: Path | None = None,
        status: int | str | None = None,
    ) -> NginxProxy:
        proxy = NginxProxy(
            prefix=tmp_path / f"nginx-{len(started)}",
            portal_port=free_port(),
            uzi_port=free_port(),
            pki=nginx_pki,
        )
        site = render_site(
            DEPLOY_CONF.read_text(),
            pki=nginx_pki,
            portal_port=proxy.portal_port,
            uzi_port=proxy.uzi_port,
            upstream_port=upstream_port(upstream),
            cache_dir=tmp_path / f"nginx-{len(started)}" / "ocsp-cache",
            bind_address=bind_address,
            client_ca_names=client_ca_names,
            status_port=upstream_port(status) if status is not None else None,
        )
        started.append(proxy)
        proxy.start(nginx, site)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def nginx_report_sections(item: pytest.Item) -> list[tuple[str, str]]:
    """The error logs of the nginx processes a test started, as pytest report sections."""
    return [
        (f"nginx error log ({proxy.prefix.name})", proxy.error_log() or "(empty)")
        for proxy in item.stash.get(STARTED, [])
    ]
