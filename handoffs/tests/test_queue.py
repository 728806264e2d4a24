"""The escalation queue (API and page) and the hand-off screen."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from handoffs import selectors, services
from handoffs.models import HandoffSeen
from handoffs.tests.support import escalate, make_session
from sessions_app.models import AISessionStep

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]
ClientFor = Callable[[User], Client]
QUEUE = "/api/v1/ai-sessions/escalations"


class TestQueueApi:
    def test_newest_first_excluding_own_claimed_and_other_accounts(
        self, engineer: User, teammate: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        older = escalate(engineer, reason="first")
        newer = escalate(engineer, reason="second")
        mine = escalate(teammate, reason="teammate's own")
        claimed = escalate(engineer, reason="taken")
        services.claim_handoff(actor=teammate, session_id=claimed.session_id, handoff_id=claimed.pk)
        escalate(stranger, session=make_session(stranger))
        body = api_client_for(teammate).get(QUEUE).json()
        ids = [item["id"] for item in body["results"]]
        assert ids == [str(newer.pk), str(older.pk)]
        assert str(mine.pk) not in ids
        first = body["results"][0]
        assert first["from_user"] == {"id": engineer.pk, "name": "Jane Cooper"}
        assert first["unread"] is True
        assert first["problem_summary"] == "Outlook is failing to sync email"
        # The escalator's own queue shows the teammate's escalation only.
        own = api_client_for(engineer).get(QUEUE).json()["results"]
        assert [item["id"] for item in own] == [str(mine.pk)]

    def test_unread_clears_on_open(
        self, engineer: User, teammate: User, api_client_for: ApiFor, client_for: ClientFor
    ) -> None:
        handoff = escalate(engineer)
        client_for(teammate).get(f"/escalations/{handoff.pk}")
        assert HandoffSeen.objects.filter(handoff=handoff, user=teammate).exists()
        item = api_client_for(teammate).get(QUEUE).json()["results"][0]
        assert item["unread"] is False

    def test_cursor_pagination(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        made = [escalate(engineer, reason=str(n)) for n in range(30)]
        client = api_client_for(teammate)
        first = client.get(QUEUE).json()
        assert len(first["results"]) == 25 and first["next_cursor"]
        assert first["next"] == f"http://testserver{QUEUE}?cursor={first['next_cursor']}"
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 5 and second["next_cursor"] is None
        assert second["next"] is None
        seen = [item["id"] for item in first["results"] + second["results"]]
        assert seen == [str(h.pk) for h in reversed(made)]
        bad = client.get(QUEUE, {"cursor": "!!nope"})
        assert bad.status_code == 400 and bad.json()["code"] == "cursor_invalid"

    def test_viewer_403(self, viewer: User, api_client_for: ApiFor) -> None:
        response = api_client_for(viewer).get(QUEUE)
        assert response.status_code == 403
        assert response.json()["detail"] == "Engineer or admin access required"

    def test_query_count_is_flat(
        self,
        engineer: User,
        teammate: User,
        api_client_for: ApiFor,
        django_assert_num_queries: Any,
    ) -> None:
        client = api_client_for(teammate)
        escalate(engineer)
        with django_assert_num_queries(2):
            client.get(QUEUE)
        for _ in range(12):
            escalate(engineer)
        with django_assert_num_queries(2):
            client.get(QUEUE)


class TestQueuePage:
    def test_cards_count_and_empty_state(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        client = client_for(teammate)
        empty = client.get("/escalations").content.decode()
        assert 'id="queue-empty"' in empty
        assert 'ws-connect="/ws/escalations/?format=html"' in empty
        handoff = escalate(engineer)
        page = client.get("/escalations").content.decode()
        assert f'id="handoff-card-{handoff.pk}"' in page
        assert 'data-testid="unread-dot"' in page
        assert 'data-testid="queue-count">1<' in page

    def test_page_query_count_is_flat(
        self,
        engineer: User,
        teammate: User,
        client_for: ClientFor,
        django_assert_max_num_queries: Any,
    ) -> None:
        client = client_for(teammate)
        escalate(engineer)
        with django_assert_max_num_queries(10) as few:
            client.get("/escalations")
        for _ in range(10):
            escalate(engineer)
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get("/escalations")

    def test_a_page_of_cards_then_older_escalations(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        """A screenful of cards, newest first; "Older escalations" swaps in the next ones (and
        works as a plain link), until the last page has no such link."""
        per_page = selectors.QUEUE_PAGE_CARDS
        made = [escalate(engineer, reason=f"reason {n}") for n in range(per_page * 2 + 3)]
        newest_first = [str(handoff.pk) for handoff in reversed(made)]
        client = client_for(teammate)
        shown: list[str] = []
        page = client.get("/escalations").content.decode()
        assert page.count('data-testid="handoff-card"') == per_page
        for _ in range(3):
            ids = re.findall(r'data-handoff-id="([0-9a-f-]+)"', page)
            shown += ids
            more = re.search(r'href="\?cursor=([^"]+)"', page)
            if more is None:
                break
            plain = client.get("/escalations", {"cursor": more[1]}).content.decode()
            page = client.get(
                "/escalations", {"cursor": more[1]}, HTTP_HX_REQUEST="true"
            ).content.decode()
            assert "<html" not in page and re.findall(r'data-handoff-id="([0-9a-f-]+)"', plain)
        assert shown == newest_first
        assert 'data-testid="queue-more"' not in page

    def test_viewer_403(self, viewer: User, client_for: ClientFor) -> None:
        assert client_for(viewer).get("/escalations").status_code == 403

    def test_the_heading_count_stops_at_the_cap(
        self,
        engineer: User,
        teammate: User,
        client_for: ClientFor,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The heading counts the whole queue, not the page, up to a cap ("99+" in production)
        so that counting stays one bounded index walk at any queue size."""
        for _ in range(4):
            escalate(engineer)
        assert selectors.waiting_count(teammate) == 4
        assert selectors.waiting_count(teammate, cap=2) == 3
        assert selectors.waiting_count(teammate, cap=9) == 4
        client = client_for(teammate)
        assert 'data-testid="queue-count">4<' in client.get("/escalations").content.decode()
        monkeypatch.setattr(selectors, "COUNT_CAP", 2)
        assert 'data-testid="queue-count">2+<' in client.get("/escalations").content.decode()


class TestHandoffScreen:
    def test_pick_up_lands_on_the_handoff_screen_with_chips(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        handoff = escalate(engineer)
        from handoffs.assessment import write_assessment

        write_assessment(handoff_id=handoff.pk)
        client = client_for(teammate)
        before = client.get(f"/escalations/{handoff.pk}").content.decode()
        assert 'data-testid="pick-up"' in before
        response = client.post(f"/escalations/{handoff.pk}/claim")
        assert response.status_code == 302
        assert response["Location"] == f"/escalations/{handoff.pk}"
        page = client.get(f"/escalations/{handoff.pk}").content.decode()
        assert "Picked up by Sam Patel" in page
        assert 'data-testid="chip"' in page
        assert 'data-testid="handoff-package"' in page

    def test_loser_is_back_on_the_queue_with_who_won(
        self, engineer: User, teammate: User, admin_user: User, client_for: ClientFor
    ) -> None:
        handoff = escalate(engineer)
        services.claim_handoff(actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk)
        client = client_for(admin_user)
        response = client.post(f"/escalations/{handoff.pk}/claim", follow=True)
        assert response.redirect_chain[-1][0] == "/escalations"
        assert "Already claimed by Sam Patel" in response.content.decode()
        htmx = client.post(f"/escalations/{handoff.pk}/claim", HTTP_HX_REQUEST="true")
        assert htmx["HX-Reswap"] == "delete"
        assert "Already claimed by Sam Patel" in htmx["HX-Trigger"]

    def test_first_send_continues_the_chat_and_hides_the_chips(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        handoff = escalate(engineer)
        client = client_for(teammate)
        client.post(f"/escalations/{handoff.pk}/claim")
        response = client.post(
            f"/escalations/{handoff.pk}/send", {"content": "Check the mailbox quota"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/sessions/{handoff.session_id}"
        step = AISessionStep.objects.get(session_id=handoff.session_id)
        assert step.author == teammate and step.content == "Check the mailbox quota"
        assert HandoffSeen.objects.get(handoff=handoff, user=teammate).chips_hidden_at
        assert (
            'data-testid="chips"' not in client.get(f"/escalations/{handoff.pk}").content.decode()
        )

    def test_chips_close_button(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        handoff = escalate(engineer)
        client = client_for(teammate)
        client.post(f"/escalations/{handoff.pk}/claim")
        assert client.post(f"/escalations/{handoff.pk}/chips/hide").status_code == 302
        assert (
            'data-testid="chips"' not in client.get(f"/escalations/{handoff.pk}").content.decode()
        )

    def test_stranger_404_viewer_reads_but_cannot_claim(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        handoff = escalate(engineer)
        assert client_for(stranger).get(f"/escalations/{handoff.pk}").status_code == 404
        reader = client_for(viewer)
        page = reader.get(f"/escalations/{handoff.pk}").content.decode()
        assert 'data-testid="pick-up"' not in page
        assert reader.post(f"/escalations/{handoff.pk}/claim").status_code == 403
        assert reader.post(f"/escalations/{handoff.pk}/send", {"content": "x"}).status_code == 403
