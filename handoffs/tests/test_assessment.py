"""The AI assessment: written off the request by a Celery task, stored, published; 15 s timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from channels.layers import get_channel_layer
from django.test import Client
from redis.exceptions import TimeoutError as RedisTimeout
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.llm import LLMRequest, LLMResult, LLMTimeout, get_llm_client
from flowpilot.testing.worker import celery_worker, output_of
from handoffs import assessment, events, tasks
from handoffs.models import AssessmentStatus, SessionHandoff
from handoffs.tests.support import escalate, make_session
from sessions_app.models import Fact, FixStatus
from sessions_app.services import fixes

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


def failed_fix_session(user: User) -> Any:
    session = make_session(user)
    Fact.objects.create(
        account=user.account, session=session, text="Only Outlook is affected", source="note"
    )
    fix = fixes.propose_fix(
        session=session,
        step=None,
        title="Rebuild the Outlook profile",
        description="A fresh profile clears a corrupt OST.",
        confidence=70,
        script="",
        parameters=[],
    )
    fixes.record_outcome(
        session=session,
        fix=fix,
        actor=user,
        outcome=FixStatus.APPLIED_FAILED,
        failure_reason="Still prompts for the password",
    )
    return session


class TestWriteAssessment:
    def test_offline_provider_writes_a_real_assessment_from_the_snapshot(
        self, engineer: User
    ) -> None:
        session = failed_fix_session(engineer)
        handoff = escalate(engineer, session=session)
        assert assessment.write_assessment(handoff_id=handoff.pk) == AssessmentStatus.READY
        handoff.refresh_from_db()
        data = handoff.ai_assessment
        assert handoff.assessment_status == AssessmentStatus.READY
        assert data["summary"] and data["hypothesis"]
        assert 3 <= len(data["suggested_steps"]) <= 5
        # It is about this session: the failed fix is named.
        assert "Rebuild the Outlook profile" in data["summary"]

    def test_the_request_uses_the_heavy_tier_with_a_15_second_timeout(self, engineer: User) -> None:
        handoff = escalate(engineer)
        seen: list[LLMRequest] = []
        real = get_llm_client()  # taken before the patch: the spy forwards to the real client

        class Spy:
            def complete(self, request: LLMRequest) -> LLMResult:
                seen.append(request)
                return real.complete(request)

        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=Spy()):
            assessment.write_assessment(handoff_id=handoff.pk)
        assert seen[0].tier == "heavy" and seen[0].timeout == 15.0
        assert seen[0].context["problem"] == "Outlook is failing to sync email"

    def test_timeout_stores_unavailable_and_retry_queues_it_again(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        client = mock.Mock(spec=["complete"])
        client.complete.side_effect = LLMTimeout("slow")
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            assert assessment.write_assessment(handoff_id=handoff.pk) == "unavailable"
        handoff.refresh_from_db()
        assert handoff.assessment_status == AssessmentStatus.UNAVAILABLE
        assert "15 seconds" in handoff.assessment_error
        url = f"/api/v1/ai-sessions/{handoff.session_id}/handoffs/{handoff.pk}/assessment/retry"
        with mock.patch.object(tasks.assess_handoff, "delay", autospec=True):
            response = api_client_for(teammate).post(url)
        assert response.status_code == 202
        assert response.json()["assessment_status"] == "pending"

    def test_unreadable_answer_is_unavailable(self, engineer: User) -> None:
        handoff = escalate(engineer)
        client = mock.Mock(spec=["complete"])
        client.complete.return_value = LLMResult(
            text="Sorry, no JSON here", input_tokens=1, output_tokens=1, model="m", provider="p"
        )
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            assessment.write_assessment(handoff_id=handoff.pk)
        handoff.refresh_from_db()
        assert handoff.assessment_status == AssessmentStatus.UNAVAILABLE

    def test_idempotent_a_ready_assessment_is_kept(self, engineer: User) -> None:
        handoff = escalate(engineer)
        assessment.write_assessment(handoff_id=handoff.pk)
        handoff.refresh_from_db()
        first = handoff.ai_assessment
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True) as llm:
            assert assessment.write_assessment(handoff_id=handoff.pk) == "ready"
        assert llm.call_count == 0
        handoff.refresh_from_db()
        assert handoff.ai_assessment == first

    def test_parse_tolerates_a_code_fence(self) -> None:
        text = '```json\n{"summary": "s", "hypothesis": "h", "suggested_steps": ["a", " "]}\n```'
        assert assessment.parse_assessment(text) == {
            "summary": "s",
            "hypothesis": "h",
            "suggested_steps": ["a"],
        }

    def test_retry_viewer_403_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        handoff = escalate(engineer)
        url = f"/api/v1/ai-sessions/{handoff.session_id}/handoffs/{handoff.pk}/assessment/retry"
        assert api_client_for(viewer).post(url).status_code == 403
        assert api_client_for(stranger).post(url).status_code == 404

    def test_ready_event_carries_the_fragment(self, engineer: User) -> None:
        handoff = escalate(engineer)
        assessment.write_assessment(handoff_id=handoff.pk)
        handoff.refresh_from_db()
        payload = events.assessment_payload(handoff)
        assert f'id="assessment-{handoff.pk}"' in payload["html"]
        assert 'hx-swap-oob="outerHTML"' in payload["html"]
        assert payload["ai_assessment"]["suggested_steps"]


@pytest.mark.django_db(transaction=True)
def test_escalate_request_does_not_wait_for_the_model(
    engineer: User, client_for: Callable[[User], Client]
) -> None:
    """With a real broker configured the assessment is queued, never run on the request."""
    session = make_session(engineer)
    with (
        mock.patch.object(tasks.assess_handoff, "delay", autospec=True) as queued,
        mock.patch("flowpilot.llm.client.get_llm_client", autospec=True) as llm,
    ):
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/post/escalation", {"markdown": "pkg"}
        )
    assert response.status_code == 302
    assert queued.call_count == 1 and llm.call_count == 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_assessment_and_publishes_it(engineer: User) -> None:
    """A Celery worker process takes the task from Redis, stores the assessment and publishes
    handoff_assessment_ready on the account's group (received here through the Redis layer)."""
    session = failed_fix_session(engineer)
    layer = get_channel_layer()

    async def scenario() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add(events.escalations_group(engineer.account_id), channel)
        handoff = await asyncio.to_thread(escalate, engineer, session=session)
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError
            try:
                message = await asyncio.wait_for(layer.receive(channel), 3)
            except (TimeoutError, RedisTimeout):
                continue
            if message["event"] == events.ASSESSMENT_READY:
                assert message["payload"]["handoff_id"] == str(handoff.pk)
                return dict(message["payload"])

    with celery_worker() as worker:
        try:
            payload = asyncio.run(scenario())
        except TimeoutError:
            pytest.fail(f"No handoff_assessment_ready in time. Worker output:\n{output_of(worker)}")
        assert payload["assessment_status"] == "ready"
        stored = SessionHandoff.objects.get(session=session)
        assert stored.assessment_status == AssessmentStatus.READY
        assert stored.ai_assessment == payload["ai_assessment"]
