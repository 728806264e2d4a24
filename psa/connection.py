"""
The provider an account talks to. One ``requests.Session`` per site is kept for the process so
page views reuse their keep-alive connection; the codebase lookup is cached in the shared cache.
"""

from __future__ import annotations

import threading

import requests
from django.conf import settings
from django.core.cache import cache

from accounts.models import Account
from psa.models import Provider, PSAIntegration
from psa.providers.base import PSAProvider
from psa.providers.connectwise import (
    LOOPBACK_RE,
    ConnectWiseClient,
    ConnectWiseProvider,
    Credentials,
    build_session,
    normalise_site,
)
from psa.providers.none import NoneProvider

_sessions: dict[str, requests.Session] = {}
_lock = threading.Lock()


def _session_for(site: str) -> requests.Session:
    with _lock:
        session = _sessions.get(site)
        if session is None:
            session = _sessions[site] = build_session()
        return session


def credentials_of(integration: PSAIntegration) -> Credentials:
    return Credentials(
        site=integration.site,
        company=integration.company_id,
        public_key=integration.public_key(),
        private_key=integration.private_key(),
        client_id=integration.client_id,
    )


def build_provider(
    integration: PSAIntegration | None, *, timeout: tuple[float, float] | None = None
) -> PSAProvider:
    if integration is None or integration.provider != Provider.CONNECTWISE:
        return NoneProvider()
    site = normalise_site(integration.site)
    client = ConnectWiseClient(
        credentials_of(integration),
        session=_session_for(site),
        cache=cache,
        timeout=timeout or (settings.PSA_CONNECT_TIMEOUT, settings.PSA_READ_TIMEOUT),
    )
    return ConnectWiseProvider(client)


def is_simulator(integration: PSAIntegration | None) -> bool:
    """A ConnectWise site on loopback is the bundled simulator: the UI labels it as such."""
    return bool(
        integration
        and integration.provider == Provider.CONNECTWISE
        and LOOPBACK_RE.match(normalise_site(integration.site))
    )


def integration_of(account: Account) -> PSAIntegration | None:
    return PSAIntegration.objects.filter(account=account).first()
