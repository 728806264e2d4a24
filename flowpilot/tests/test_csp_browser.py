"""
Every page of the URL conf, loaded in Chromium under the real Content-Security-Policy, reports no
violation (neither a ``securitypolicyviolation`` event nor a "Refused to …" console message). A
page added later is loaded too: the list comes from the URL conf, not from this file.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from accounts.models import User
from flowpilot.testing.routes import all_routes
from flowpilot.tests.hostile_world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Injected by Playwright before any page script (not subject to the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


REDOC_CDN_LOGO = "cdn.redoc.ly/redoc/logo-mini.svg"


def page_urls(base: str, world: dict[str, Any]) -> list[str]:
    urls = []
    for route in all_routes():
        if route.template.startswith("api/") and route.name != "api-docs":
            continue
        urls.append(base + route.fill(world))
    return sorted(set(urls))


def html_pages(urls: list[str], cookies: dict[str, str]) -> list[str]:
    """The URLs that answer GET with an HTML document (not POST-only, not a stream)."""
    pages = []
    for url in urls:
        with requests.get(url, cookies=cookies, stream=True, timeout=30) as response:
            kind = response.headers.get("Content-Type", "")
            if response.status_code != 405 and kind.startswith("text/html"):
                pages.append(url)
    return pages


def test_no_page_violates_the_content_security_policy(
    live_server_url: str, new_page: Any, owner: User, login_as: Any
) -> None:
    world = build_world(owner)
    page = new_page()
    page.context.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    # The login page, signed out.
    page.goto(f"{live_server_url}/login")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__cspViolations") == [], "login"
    login_as(page, owner)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    urls = html_pages(page_urls(live_server_url, world), cookies)
    assert f"{live_server_url}/sessions/{world['session_id']}" in urls
    assert f"{live_server_url}/api/docs/" in urls
    assert len(urls) >= 15, urls
    violations: dict[str, list[str]] = {}
    docs = f"{live_server_url}/api/docs/"
    for url in urls:
        console.clear()
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)  # let deferred scripts and first htmx requests run
        if url == docs:
            # Redoc renders after load and then asks its CDN for its footer logo: wait for it
            # here, so that a late report is not counted against the next page.
            page.get_by_text("API docs by Redocly").wait_for(timeout=15_000)
            page.wait_for_timeout(500)
        found = list(page.evaluate("window.__cspViolations || []")) + list(console)
        if url == docs:
            # The one request the vendored Redoc bundle makes to a CDN (its footer logo) is
            # refused by the policy, so nothing leaves the browser; Redoc hides the image.
            found = [f for f in found if REDOC_CDN_LOGO not in f]
        if found:
            violations[url] = found
        if "/login" in page.url and "/login" not in url:
            login_as(page, owner)  # a page that signed the owner out (none should)
    assert violations == {}
    # The detector itself works: an injected inline script is refused and reported.
    page.goto(f"{live_server_url}/", wait_until="load")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert "script-src" in page.evaluate("window.__cspViolations")[0]
