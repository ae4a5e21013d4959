"""The client address of audit events and rate limits: X-Forwarded-For only from our proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from zorgsleutel.core.requestcontext import client_ip


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),  # in the trusted network
        ("10.0.0.5", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the nearest hop
        ("10.0.0.5", "nonsense", "10.0.0.5"),
        ("192.0.2.7", "203.0.113.9", "192.0.2.7"),  # a stranger cannot claim an address
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_forwarded_for_counts_only_from_a_trusted_peer(settings, peer, forwarded, expected):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/24"]
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the same subscriber
        ("::ffff:203.0.113.9", "203.0.113.9"),
        (None, "-"),
    ],
)
def test_limits_count_an_ipv6_client_by_its_64(ip, expected):
    from zorgsleutel.core.requestcontext import limit_key

    assert limit_key(ip) == expected
