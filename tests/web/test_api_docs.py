"""API docs: Swagger UI only with DEBUG, from django-ninja's own files (the CSP blocks a CDN);
the OpenAPI schemas stay where clients fetch them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from support import CHROMIUM, require_binary

DOCS = ["/api/v1/docs", "/api/app/v1/docs", "/api/card/v1/docs"]
SCHEMAS = {
    "/api/v1/openapi.json": "Zorgsleutel API",
    "/api/app/v1/openapi.json": "Zorgsleutel app protocol",
    "/api/card/v1/openapi.json": "Zorgsleutel card protocol",
}


@pytest.mark.parametrize("path", DOCS)
def test_with_debug_the_docs_load_only_our_own_files(path):
    response = Client().get(path)
    assert response.status_code == 200
    page = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts == [
        '<script type="application/json" id="swagger-settings">',
        '<script src="/static/ninja/swagger-ui-bundle.js">',
        '<script src="/static/ninja/swagger-ui-init.js">',
    ]
    assert '<link type="text/css" rel="stylesheet" href="/static/ninja/swagger-ui.css">' in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert response["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    for asset in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        assert Client().get(f"/static/ninja/{asset}").status_code == 200, asset


def test_the_docs_work_in_a_browser_under_the_csp(live_server):
    require_binary("chromium", CHROMIUM)
    from playwright.sync_api import sync_playwright

    def browse() -> tuple[str, list[str]]:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page()
                refused = []
                page.on("console", lambda message: refused.append(message.text))
                page.goto(live_server.url + "/api/v1/docs")
                title = page.locator(".swagger-ui .info .title").first
                title.wait_for(timeout=20_000)
                page.locator(".opblock-summary-path").first.wait_for(timeout=20_000)
                return title.inner_text(), refused
            finally:
                browser.close()

    # Playwright's sync API in a thread of its own (tests/e2e may hold one open in this one).
    with ThreadPoolExecutor(max_workers=1) as pool:
        title, console = pool.submit(browse).result(timeout=120)
    assert title.startswith("Zorgsleutel API")
    assert [line for line in console if "Content Security Policy" in line] == []


PROBE = """
import json, os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.settings'
django.setup()
from django.test import Client
client = Client()
out = {}
for path in %r:
    response = client.get(path, secure=True, headers={'host': 'portal.example.nl'})
    out[path] = [response.status_code, response.json().get('info', {}).get('title')
                 if response.headers.get('Content-Type', '').startswith('application/json')
                 else None]
print(json.dumps(out))
"""


def test_without_debug_there_are_no_docs_but_the_schemas_stay(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "ZS_VAR_DIR": str(tmp_path),
        "ZS_BASE_DIR": str(tmp_path),
        "SECRET_KEY": "q7Vf2kLx9RmT4wZp8NcB3hJd6GsY1aEu5XoW0iKv-lM_nQrPtC",
        "ALLOWED_HOSTS": "portal.example.nl",
        "SITE_URL": "https://portal.example.nl",
        "VAULT_CLIENT_KEY": "Zk3uR8pQ1wXy6TnB4mLc9VsD2hGf7JaE",
    }  # no DEBUG at all: production
    result = subprocess.run(
        [sys.executable, "-c", PROBE % ([*DOCS, *SCHEMAS],)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "/api/v1/docs": [404, None],
        "/api/app/v1/docs": [404, None],
        "/api/card/v1/docs": [404, None],
        "/api/v1/openapi.json": [200, "Zorgsleutel API"],
        "/api/app/v1/openapi.json": [200, "Zorgsleutel app protocol"],
        "/api/card/v1/openapi.json": [200, "Zorgsleutel card protocol"],
    }
