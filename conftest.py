"""Shared fixtures: an account with a user of every role, a stranger in another account,
authenticated API clients, a live daphne server and a headless Chromium page."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, Role, User
from accounts.services.tokens import issue_token_pair

if TYPE_CHECKING:
    from flowpilot.testing.smtp import Inbox

PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _field_encryption_key(settings: Any) -> None:
    """Secrets are refused without a key outside the demo: tests run with a fixed test key."""
    settings.FIELD_ENCRYPTION_KEY = "fMp3Y4ibwtEbdGNydTubPKeMnuSOmERX86fJkvN0PQ0="


@pytest.fixture(autouse=True)
def _clear_cache(settings: Any) -> Iterator[None]:
    """Forget cached values between tests. On Redis only this run's keys go: FLUSHDB would wipe
    the other xdist workers' keys (and their channel layers) mid-test."""
    from django.core.cache import cache

    yield
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _redis_breaker_closed() -> Iterator[None]:
    """The Redis circuit breaker is process state: a test that opened it must not leak it."""
    from flowpilot.resilience import redis_breaker

    redis_breaker.reset()
    yield
    redis_breaker.reset()


def make_user(account: Account, email: str, role: str, name: str = "", **extra: Any) -> User:
    return User.objects.create_user(
        email,
        PASSWORD,
        account=account,
        role=role,
        name=name or email.split("@")[0].title(),
        **extra,
    )


@pytest.fixture
def account(db: None) -> Account:
    return Account.objects.create(name="Northwind MSP", slug="northwind")


@pytest.fixture
def other_account(db: None) -> Account:
    return Account.objects.create(name="Contoso IT", slug="contoso")


@pytest.fixture
def owner(account: Account) -> User:
    return make_user(account, "olivia@northwind.example", Role.OWNER, "Olivia Grant")


@pytest.fixture
def admin_user(account: Account) -> User:
    return make_user(account, "adam@northwind.example", Role.ADMIN, "Adam Reyes")


@pytest.fixture
def engineer(account: Account) -> User:
    return make_user(account, "jane@northwind.example", Role.ENGINEER, "Jane Cooper")


@pytest.fixture
def teammate(account: Account) -> User:
    return make_user(account, "sam@northwind.example", Role.ENGINEER, "Sam Patel")


@pytest.fixture
def viewer(account: Account) -> User:
    return make_user(account, "victor@northwind.example", Role.VIEWER, "Victor Lane")


@pytest.fixture
def stranger(other_account: Account) -> User:
    """The owner of another account: must never see anything of ours."""
    return make_user(other_account, "carla@contoso.example", Role.OWNER, "Carla Diaz")


@pytest.fixture
def super_admin(db: None) -> User:
    platform = Account.objects.create(name="Platform", slug="platform")
    return make_user(platform, "root@flowpilot.example", Role.OWNER, "Root", is_super_admin=True)


@pytest.fixture
def api_client_for() -> Callable[[User], APIClient]:
    """An API client that authenticates with a real access token for the given user."""

    def build(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token_pair(user)['access']}")
        return client

    return build


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """A page client signed in as the given user through the real login form."""

    def build(user: User) -> Client:
        client = Client()
        response = client.post("/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return client

    return build


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) the steps that only a parent test runs in a child process: a run
    under CI=true must report no skipped test."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("subprocess_only")
        (drop if marker is not None and not os.environ.get(marker.args[0]) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ---- Live server and browser -------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome: Any = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server on a free loopback port, Django's SMTP backend pointed at it; yields
    its ``flowpilot.testing.smtp.Inbox``. Ask for it before ``live_server_url``: the live
    server forks with the mail settings of that moment."""
    from flowpilot.testing.smtp import smtp_server

    with smtp_server(settings) as inbox:
        yield inbox


@pytest.fixture
def live_server_url(transactional_db: None) -> Iterator[str]:
    """A real daphne server (HTTP + websockets) on a free loopback port, sharing the test DB."""
    from flowpilot.testing.live import start_live_server

    server = start_live_server()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in this
    thread while it is open, which breaks async_to_sync in other tests: so it lives only as long
    as the module (``make test`` runs each file on one xdist worker)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """Open pages in fresh browser contexts (one per call); screenshots are saved on failure."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, context in enumerate(contexts):
            for page_index, page in enumerate(context.pages):
                name = f"{request.node.name}-{index}-{page_index}.png".replace("/", "_")
                page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture
def login_as(live_server_url: str) -> Callable[[Any, User], None]:
    """Sign a browser page in through the real login form."""

    def sign_in(page: Any, user: User) -> None:
        page.goto(f"{live_server_url}/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(lambda url: "/login" not in url)

    return sign_in
