"""The reverse proxy in front of the portal: fixtures live in proxy/nginx.py so other test
folders can import them too (`from proxy.nginx import nginx_pki, nginx_proxy`)."""

from __future__ import annotations

import pytest

from proxy.nginx import nginx_pki, nginx_proxy, nginx_report_sections

__all__ = ["nginx_pki", "nginx_proxy"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the error log of every nginx it started."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        report.sections.extend(nginx_report_sections(item))
