"""The shipped nginx config loads, and keeps the header rules the portal's trust depends on."""

from __future__ import annotations

import re

from proxy.nginx import (
    DEPLOY_CONF,
    NGINX,
    UZI_HOST,
    check_shipped_config,
    server_blocks,
    without_comments,
)
from support import require_binary


def tls_servers() -> dict[str, str]:
    text = without_comments(DEPLOY_CONF.read_text())
    blocks = [text[start:end] for start, end in server_blocks(text)]
    return {
        re.search(r"server_name\s+([^;]+);", block).group(1): block
        for block in blocks
        if "ssl_certificate" in block
    }


def test_nginx_accepts_the_shipped_config(nginx_pki, tmp_path):
    nginx = require_binary("nginx", NGINX)
    result = check_shipped_config(nginx, nginx_pki, tmp_path / "check")
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_every_proxying_server_sets_the_certificate_header_itself():
    servers = tls_servers()
    assert set(servers) == {"zorgsleutel.example", UZI_HOST}
    for name, block in servers.items():
        assert "proxy_pass" in block, name
        locations = re.findall(r"location[^{]*\{[^{}]*\}", block)
        # A proxy_set_header inside a location would drop all the server-level ones there.
        assert not [loc for loc in locations if "proxy_set_header" in loc], name
        outside = re.sub(r"location[^{]*\{[^{}]*\}", "", block)
        header = re.findall(r"proxy_set_header\s+X-SSL-Client-Cert\s+(\S+);", outside, re.I)
        expected = "$ssl_client_escaped_cert" if name == UZI_HOST else '""'
        assert header == [expected], name
        assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", outside), name
        # HSTS comes from the portal only (tests/proxy/test_hsts.py): nginx adding one too
        # would make two headers, hiding the portal's would make its setting a lie.
        assert "strict-transport-security" not in block.lower(), name
        assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;", outside), name
        assert re.search(r"ssl_protocols\s+TLSv1\.2 TLSv1\.3;", outside), name


def test_only_the_uzi_host_asks_for_a_certificate_and_proxies_only_the_uzi_path():
    servers = tls_servers()
    assert "ssl_verify_client" not in servers["zorgsleutel.example"]
    uzi = servers[UZI_HOST]
    assert re.search(r"ssl_verify_client\s+optional_no_ca;", uzi)
    proxied = [loc for loc in re.findall(r"location[^{]*\{[^{}]*\}", uzi) if "proxy_pass" in loc]
    assert len(proxied) == 1 and proxied[0].startswith("location ^~ /uzi/tls/ ")
