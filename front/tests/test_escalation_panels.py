"""Dashboard panels of the hand-off flow: seniors see what waits, juniors who picked theirs up."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from handoffs import services
from handoffs.tests.support import escalate


class TestEscalationPanels:
    def test_senior_sees_waiting_for_pick_up(
        self, engineer: User, teammate: User, client_for: Any
    ) -> None:
        escalate(engineer)
        html = client_for(teammate).get("/").content.decode()
        assert 'data-testid="waiting-escalations"' in html
        assert "Outlook is failing to sync email" in html

    def test_junior_sees_who_picked_it_up(
        self, engineer: User, teammate: User, client_for: Any
    ) -> None:
        handoff = escalate(engineer)
        client = client_for(engineer)
        assert "Waiting for a senior to pick it up" in client.get("/").content.decode()
        services.claim_handoff(actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk)
        html = client.get("/").content.decode()
        assert 'data-testid="my-escalations"' in html
        assert "Picked up by Sam Patel" in html

    def test_viewer_gets_no_queue_panel(
        self, engineer: User, viewer: User, client_for: Any
    ) -> None:
        escalate(engineer)
        assert (
            'data-testid="waiting-escalations"' not in client_for(viewer).get("/").content.decode()
        )
