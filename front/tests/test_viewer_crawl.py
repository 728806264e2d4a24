"""
A viewer crawls the demo account: every link, htmx read and GET form on every page reachable
from the dashboard answers without a 403 or a 5xx; no page offers them a write control beyond
their own person (sign out, their notifications, their password, their own devices); and every
write an engineer is offered on the same pages is refused to the viewer.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from io import StringIO
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "flowpilot-demo"  # noqa: S105 - the demo's published password
MAX_PAGES = 250
# Never followed: signing out, the admin (its own app), static files and downloads.
SKIP = re.compile(r"^/(logout|admin/|static/|api/schema|ws/)")
# The writes a viewer may see: their own person only.
PERSONAL_WRITES = re.compile(
    r"^/(logout"
    r"|notifications/(\d+/read|read-all)"
    r"|account/password"
    r"|account/devices/[^/]+/revoke"
    r"|account/session-status/(extend|dismiss))$"
)
# Posts that change nothing (a preview re-rendered with typed values): a viewer may send them.
READ_ONLY_POSTS = re.compile(r"^/sessions/\d+/fix/\d+/script$")
WRITE_ATTRS = ("hx-post", "hx-put", "hx-patch", "hx-delete")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.reads: set[str] = set()
        self.writes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href"):
            self.reads.add(values["href"])
        if values.get("hx-get"):
            self.reads.add(values["hx-get"])
        if tag == "form":
            method = values.get("method", "get").lower()
            (self.writes if method == "post" else self.reads).add(values.get("action", ""))
        for name in WRITE_ATTRS:
            if values.get(name):
                self.writes.add(values[name])


def _local(base: str, href: str) -> str | None:
    href = urldefrag(urljoin(base, href.replace("&amp;", "&")))[0]
    parts = urlsplit(href)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path or "/"
    if SKIP.match(path):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Client) -> tuple[dict[str, int], dict[str, set[str]]]:
    """GET every page reachable from the dashboard; answers by URL, write targets by page."""
    seen: dict[str, int] = {}
    writes: dict[str, set[str]] = {}
    queue = deque(["/"])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code in (301, 302):
            target = _local(url, response["Location"])
            if target and not target.startswith("/login"):
                queue.append(target)
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.reads:
            target = _local(url, href) if href else url
            if target and target not in seen:
                queue.append(target)
        for action in parser.writes:
            target = _local(url, action) if action else urlsplit(url).path
            if target:
                writes.setdefault(target.split("?")[0], set()).add(url)
    return seen, writes


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", stdout=StringIO())


def _signed_in(email: str) -> Client:
    client = Client()
    response = client.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def test_a_viewer_can_open_everything_they_are_shown_and_write_nothing(demo: Any) -> None:
    viewer = _signed_in("victor@northwind.example")
    answers, viewer_writes = crawl(viewer)
    assert len(answers) > 20, answers  # the crawl reached the product, not just the dashboard
    refused = {url: code for url, code in answers.items() if code == 403 or code >= 500}
    assert not refused, f"links a viewer is shown that refuse them or fail: {refused}"
    missing = {url: code for url, code in answers.items() if code == 404}
    assert not missing, f"links a viewer is shown that lead nowhere: {missing}"
    offered = {
        action: pages
        for action, pages in viewer_writes.items()
        if not PERSONAL_WRITES.match(action)
    }
    assert not offered, f"write controls shown to a viewer: {offered}"

    # Every write an engineer is offered on the same product is refused to the viewer.
    _, engineer_writes = crawl(_signed_in("jane@northwind.example"))
    tried = 0
    for action in sorted(engineer_writes):
        if PERSONAL_WRITES.match(action) or READ_ONLY_POSTS.match(action):
            continue
        response = viewer.post(action, {"text": "x", "reason": "x", "message": "x"})
        tried += 1
        assert response.status_code in (403, 404, 405), (action, response.status_code)
    assert tried > 5, engineer_writes
