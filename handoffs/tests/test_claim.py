"""Claiming a hand-off: exactly one winner, idempotent for the winner, 409 with who won."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Role, User
from conftest import make_user
from flowpilot.errors import Conflict, NotFound
from flowpilot.realtime import user_group
from handoffs import services
from handoffs.events import escalations_group
from handoffs.models import HandoffSeen, SessionHandoff
from handoffs.tests.support import claim_url, escalate
from sessions_app.models import AISession
from sessions_app.selectors import sidebar_sessions

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


class TestClaim:
    def test_claim_sets_claimer_session_and_seen(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        response = api_client_for(teammate).post(claim_url(handoff))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["claimed_by"] == {"id": teammate.pk, "name": "Sam Patel"}
        assert body["already_yours"] is False
        handoff.refresh_from_db()
        assert handoff.claimed_by == teammate and handoff.claimed_at is not None
        session = AISession.objects.get(pk=handoff.session_id)
        assert session.escalated_to == teammate
        assert HandoffSeen.objects.filter(handoff=handoff, user=teammate).exists()
        assert session in sidebar_sessions(teammate)
        assert AuditEvent.objects.filter(type="handoff.claimed", actor=teammate).count() == 1

    def test_same_user_again_is_idempotent(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        client = api_client_for(teammate)
        first = client.post(claim_url(handoff)).json()
        again = client.post(claim_url(handoff))
        assert again.status_code == 200
        assert again.json()["claimed_at"] == first["claimed_at"]
        assert again.json()["already_yours"] is True
        assert AuditEvent.objects.filter(type="handoff.claimed").count() == 1

    def test_loser_gets_409_with_the_winner(
        self, engineer: User, teammate: User, admin_user: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        api_client_for(teammate).post(claim_url(handoff))
        lost = api_client_for(admin_user).post(claim_url(handoff))
        assert lost.status_code == 409
        body = lost.json()
        assert body["code"] == "already_claimed"
        assert body["claimed_by"] == {"id": teammate.pk, "name": "Sam Patel"}
        assert body["claimed_at"]
        assert body["detail"].startswith("Already claimed by Sam Patel ")
        assert body["detail"].endswith("seconds ago.") or body["detail"].endswith("second ago.")

    def test_escalator_cannot_claim_their_own(self, engineer: User, api_client_for: ApiFor) -> None:
        handoff = escalate(engineer)
        response = api_client_for(engineer).post(claim_url(handoff))
        assert response.status_code == 403
        assert response.json()["code"] == "own_handoff"
        handoff.refresh_from_db()
        assert handoff.claimed_by is None

    def test_viewer_403_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        denied = api_client_for(viewer).post(claim_url(handoff))
        assert denied.status_code == 403
        assert denied.json()["detail"] == "Engineer or admin access required"
        assert api_client_for(stranger).post(claim_url(handoff)).status_code == 404
        handoff.refresh_from_db()
        assert handoff.claimed_by is None

    def test_wrong_session_or_unknown_id_is_404(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        other = escalate(engineer)
        client = api_client_for(teammate)
        mixed = f"/api/v1/ai-sessions/{other.session_id}/handoffs/{handoff.pk}/claim"
        assert client.post(mixed).status_code == 404
        unknown = f"/api/v1/ai-sessions/{handoff.session_id}/handoffs/{'0' * 32}/claim"
        assert client.post(unknown).status_code == 404
        garbage = f"/api/v1/ai-sessions/{handoff.session_id}/handoffs/not-a-uuid/claim"
        assert client.post(garbage).status_code == 404

    def test_a_parked_handoff_is_not_claimable(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        from handoffs.tests.support import make_session

        session = make_session(engineer)
        parked = services.create_handoff(session=session, actor=engineer, intent="park").handoff
        response = api_client_for(teammate).post(claim_url(parked))
        assert response.status_code == 400
        assert response.json()["code"] == "not_claimable"

    def test_uncontended_claim_query_budget(self, engineer: User, teammate: User) -> None:
        """Winner on PostgreSQL: one statement claims, points the session at the senior, marks
        it seen and appends the audit row; on its own it is its transaction (no BEGIN/COMMIT)."""
        handoff = escalate(engineer)
        teammate = User.objects.select_related("account").get(pk=teammate.pk)
        with CaptureQueriesContext(connection) as captured:
            services.claim_handoff(
                actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk
            )
        statements = [
            query["sql"]
            for query in captured.captured_queries
            if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]
        if connection.vendor == "postgresql":
            assert len(statements) == 1, statements
        else:  # one by one, and the escalator read back for the live push
            assert len(statements) <= 5, statements
        assert HandoffSeen.objects.filter(handoff=handoff, user=teammate).exists()
        assert AISession.objects.get(pk=handoff.session_id).escalated_to_id == teammate.pk

    def test_the_claim_appends_its_audit_event_in_the_same_statement(
        self, engineer: User, teammate: User
    ) -> None:
        handoff = escalate(engineer)
        services.claim_handoff(actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk)
        event = AuditEvent.objects.get(type="handoff.claimed")
        assert (event.account_id, event.actor_id) == (teammate.account_id, teammate.pk)
        assert event.payload == {"session_id": handoff.session_id, "handoff_id": str(handoff.pk)}
        assert event.ip_address is None and event.dedupe_key is None

    def test_a_loss_seen_before_the_winner_committed_is_read_again(
        self, engineer: User, teammate: User, admin_user: User
    ) -> None:
        """A loser whose statement saw the hand-off unclaimed (the winner committed after its
        snapshot) reads it again and is told who won."""
        handoff = escalate(engineer)
        services.claim_handoff(actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk)
        real = services._try_claim
        stale = services._Claim(won=False, from_user_id=engineer.pk)
        calls: list[int] = []

        def attempt(**kwargs: Any) -> Any:
            calls.append(1)
            return stale if len(calls) == 1 else real(**kwargs)

        with (
            mock.patch.object(services, "_try_claim", side_effect=attempt),
            pytest.raises(Conflict) as lost,
        ):
            services.claim_handoff(
                actor=admin_user, session_id=handoff.session_id, handoff_id=handoff.pk
            )
        assert len(calls) == 2
        assert lost.value.code == "already_claimed"
        assert lost.value.extra["claimed_by"] == {"id": teammate.pk, "name": "Sam Patel"}

    def test_a_loser_changes_nothing(
        self, engineer: User, teammate: User, admin_user: User
    ) -> None:
        handoff = escalate(engineer)
        services.claim_handoff(actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk)
        with pytest.raises(Conflict):
            services.claim_handoff(
                actor=admin_user, session_id=handoff.session_id, handoff_id=str(handoff.pk)
            )
        assert AISession.objects.get(pk=handoff.session_id).escalated_to_id == teammate.pk
        assert not HandoffSeen.objects.filter(handoff=handoff, user=admin_user).exists()

    def test_the_junior_session_page_says_who_picked_it_up(
        self, engineer: User, teammate: User, client_for: Callable[[User], Any]
    ) -> None:
        handoff = escalate(engineer)
        page = client_for(engineer)
        before = page.get(f"/sessions/{handoff.session_id}").content.decode()
        assert f'id="session-pickup-{handoff.session_id}"' in before
        assert "Waiting for a colleague to pick it up" in before
        services.claim_handoff(actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk)
        after = page.get(f"/sessions/{handoff.session_id}").content.decode()
        assert "Picked up by <strong>Sam Patel</strong>" in after

    def test_the_claim_tells_the_escalator_on_commit(
        self, engineer: User, teammate: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        handoff = escalate(engineer)
        with (
            mock.patch("handoffs.events.publish", autospec=True) as publish,
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.claim_handoff(
                actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk
            )
        groups = {call.args[0]: call.args[1] for call in publish.call_args_list}
        assert groups[user_group(engineer.pk)] == "handoff_picked_up"
        assert groups[escalations_group(engineer.account_id)] == "handoff_claimed"

    def test_a_malformed_id_is_not_found(self, teammate: User, engineer: User) -> None:
        handoff = escalate(engineer)
        with pytest.raises(NotFound):
            services.claim_handoff(
                actor=teammate, session_id=handoff.session_id, handoff_id="not-a-uuid"
            )

    def test_ago(self) -> None:
        from datetime import timedelta

        from django.utils import timezone

        now = timezone.now()
        assert services.ago(now - timedelta(seconds=3), now) == "3 seconds ago"
        assert services.ago(now - timedelta(seconds=1), now) == "1 second ago"
        assert services.ago(now - timedelta(minutes=2, seconds=5), now) == "2 minutes ago"
        assert services.ago(now - timedelta(hours=1), now) == "1 hour ago"
        assert services.ago(now - timedelta(days=3), now) == "3 days ago"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_claim_race_on_postgresql_has_exactly_one_winner(
    engineer: User, api_client_for: ApiFor
) -> None:
    """12 seniors press Pick Up at the same moment: one 200, eleven 409 naming that winner."""
    assert connection.vendor == "postgresql"
    handoff = escalate(engineer)
    seniors = [
        make_user(engineer.account, f"senior{n}@northwind.example", Role.ENGINEER, f"Senior {n}")
        for n in range(12)
    ]
    clients = [api_client_for(senior) for senior in seniors]
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def press(client: APIClient) -> None:
        try:
            barrier.wait(timeout=30)
            response = client.post(claim_url(handoff))
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 11
    winner = next(body for status, body in results if status == 200)["claimed_by"]
    losers = [body for status, body in results if status == 409]
    assert all(body["claimed_by"] == winner for body in losers)
    assert all(body["code"] == "already_claimed" for body in losers)
    stored = SessionHandoff.objects.get(pk=handoff.pk)
    assert stored.claimed_by_id == winner["id"]
    assert AuditEvent.objects.filter(type="handoff.claimed").count() == 1
