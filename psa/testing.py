"""
Test fixtures for PSA work, imported by the conftest of each test package that needs them: a
real simulator on a free loopback port, clients for it, and an account connected to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from accounts.models import Account, User
from psa.models import Provider, PSAIntegration
from psa.providers.connectwise import (
    ConnectWiseClient,
    ConnectWiseProvider,
    Credentials,
    build_session,
)
from psa.simulator.seed import seed_base, seed_tickets
from psa.simulator.server import Simulator
from psa.simulator.store import SimulatorState

TEST_FERNET_KEY = "fMp3Y4ibwtEbdGNydTubPKeMnuSOmERX86fJkvN0PQ0="


@pytest.fixture
def sim_state() -> SimulatorState:
    state = SimulatorState()
    seed_base(state)
    seed_tickets(state, 40)
    return state


@pytest.fixture
def simulator(sim_state: SimulatorState) -> Iterator[Simulator]:
    server = Simulator(sim_state).start()
    yield server
    server.stop()


def sim_credentials(simulator: Simulator, **overrides: Any) -> Credentials:
    creds = simulator.state.credentials
    values = {
        "site": simulator.site,
        "company": creds.company,
        "public_key": creds.public_key,
        "private_key": creds.private_key,
        "client_id": creds.client_id,
        **overrides,
    }
    return Credentials(**values)


@pytest.fixture
def cw_client(simulator: Simulator) -> Callable[..., ConnectWiseClient]:
    def build(**overrides: Any) -> ConnectWiseClient:
        # Short backoff keeps the retry tests fast; the policy is the production one.
        return ConnectWiseClient(
            sim_credentials(simulator, **overrides), session=build_session(backoff=0.01)
        )

    return build


@pytest.fixture
def cw(cw_client: Callable[..., ConnectWiseClient]) -> ConnectWiseProvider:
    return ConnectWiseProvider(cw_client())


@pytest.fixture
def encryption_key(settings: Any) -> str:
    settings.FIELD_ENCRYPTION_KEY = TEST_FERNET_KEY
    return TEST_FERNET_KEY


@pytest.fixture
def connect_account(encryption_key: str) -> Callable[..., PSAIntegration]:
    """Store the simulator's credentials as the account's ConnectWise connection."""
    from flowpilot import crypto

    def connect(account: Account, simulator: Simulator, by: User | None = None) -> PSAIntegration:
        creds = simulator.state.credentials
        integration, _ = PSAIntegration.objects.update_or_create(
            account=account,
            defaults={
                "provider": Provider.CONNECTWISE,
                "site": simulator.site,
                "company_id": creds.company,
                "client_id": creds.client_id,
                "public_key_encrypted": crypto.encrypt(creds.public_key),
                "private_key_encrypted": crypto.encrypt(creds.private_key),
                "updated_by": by,
            },
        )
        return integration

    return connect
