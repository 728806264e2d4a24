"""
Demo wiring: the second demo account (Contoso IT Services) is connected to the local ConnectWise
simulator that ``make demo`` starts beside daphne, with the write-back statuses chosen, so a
newcomer sees the Tickets workspace and a real write-back with no configuration. Northwind stays
without a PSA (sessions resolve locally) to show both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from flowpilot import crypto
from psa.models import Provider, PSAIntegration
from psa.simulator.seed import seed_base
from psa.simulator.store import Credentials, SimulatorState

DEMO_ACCOUNT = "contoso"


def _status_ids() -> dict[str, int]:
    """The simulator's Service Desk status ids by name (its seed is deterministic)."""
    state = SimulatorState()
    seed_base(state)
    return {s["name"]: s["id"] for s in state.statuses.values() if s["board"]["id"] == 1}


@transaction.atomic
def seed() -> None:
    account = Account.objects.filter(slug=DEMO_ACCOUNT).first()
    if account is None:
        return
    creds = Credentials()
    PSAIntegration.objects.update_or_create(
        account=account,
        defaults={
            "provider": Provider.CONNECTWISE,
            "site": settings.CW_SIMULATOR_SITE,
            "company_id": creds.company,
            "client_id": creds.client_id,
            "public_key_encrypted": crypto.encrypt(creds.public_key),
            "private_key_encrypted": crypto.encrypt(creds.private_key),
            "updated_at": timezone.now(),
        },
    )
    statuses = _status_ids()
    locked = Account.objects.select_for_update().get(pk=account.pk)
    locked.preferences = {
        **locked.preferences,
        "cw_resolved_status_id": statuses["Resolved"],
        "cw_escalated_status_id": statuses["Escalated"],
    }
    locked.save(update_fields=["preferences"])
