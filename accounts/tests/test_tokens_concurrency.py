"""
Refresh-token rotation under a real race on PostgreSQL: one token, ten clients, one winner —
and, since the losers presented a spent token, the family (the winner's new token too) is
revoked, as RFC 9700 §4.14.2 asks.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.models import AuditEvent, RefreshToken, User
from accounts.services.tokens import issue_token_pair

PARALLEL = 10


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_refreshes_of_one_token_exactly_one_succeeds(engineer: User) -> None:
    """Each thread has its own database connection; the conditional UPDATE lets one through."""
    assert connection.vendor == "postgresql"
    raw = issue_token_pair(engineer)["refresh"]
    barrier = threading.Barrier(PARALLEL)

    def attempt(_: int) -> tuple[int, str]:
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            response = client.post("/api/v1/auth/refresh", {"refresh": raw}, format="json")
            return response.status_code, response.json().get("code", "")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(attempt, range(PARALLEL)))

    assert sorted(status for status, _ in results) == [200] + [401] * (PARALLEL - 1)
    assert {code for status, code in results if status == 401} == {"invalid_refresh_token"}
    rows = RefreshToken.objects.filter(user=engineer)
    assert rows.count() == 2
    assert rows.filter(revoked_at__isnull=True).count() == 0
    assert set(rows.values_list("revoked_reason", flat=True)) == {"rotated", "reuse"}
    assert AuditEvent.objects.filter(type="auth.refresh_reuse", actor=engineer).exists()
