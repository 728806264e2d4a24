"""Creating a hand-off: the one canonical path behind /handoff, /escalate and the page post."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from flowpilot.errors import UpstreamError
from handoffs import events, notifications, package, services, tasks
from handoffs.models import AppNotification, AssessmentStatus, HandoffIntent, SessionHandoff
from handoffs.tests.support import make_session
from sessions_app.models import AISession, SessionStatus
from sessions_app.services import resolution
from sessions_app.services.previews import get_preview

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


def handoff_url(session: AISession, path: str = "handoff") -> str:
    return f"/api/v1/ai-sessions/{session.pk}/{path}"


class TestCreate:
    def test_escalate_flips_the_session_and_stores_package_and_snapshot(
        self,
        engineer: User,
        teammate: User,
        api_client_for: ApiFor,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        session = make_session(engineer, psa_ticket_id="12345")
        with django_capture_on_commit_callbacks() as callbacks:
            response = api_client_for(engineer).post(
                handoff_url(session),
                {
                    "intent": "escalate",
                    "reason": "Needs Exchange admin",
                    "target_user_id": teammate.pk,
                    "markdown": "## Problem\n\nEdited",
                },
                format="json",
            )
        assert response.status_code == 201, response.content
        body = response.json()
        handoff = SessionHandoff.objects.get(pk=body["id"])
        assert handoff.intent == HandoffIntent.ESCALATE
        assert handoff.from_user == engineer and handoff.target_user == teammate
        assert handoff.snapshot["problem"] == "Outlook is failing to sync email"
        assert handoff.psa_ticket_id == "12345"
        assert handoff.assessment_status == AssessmentStatus.PENDING
        session.refresh_from_db()
        assert session.status == SessionStatus.ESCALATED
        assert session.escalated_to == teammate
        assert session.escalation_reason == "Needs Exchange admin"
        assert session.escalation_package["markdown"] == "## Problem\n\nEdited"
        assert AuditEvent.objects.filter(type="session.escalated", actor=engineer).count() == 1
        # the session's status push + the hand-off publish + fan-out + assessment, after commit
        assert len(callbacks) == 4

    def test_escalate_shim_and_legacy_intent_take_the_same_path(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(engineer)
        first = make_session(engineer)
        assert client.post(handoff_url(first, "escalate"), {}, format="json").status_code == 201
        second = make_session(engineer)
        legacy = client.post(
            handoff_url(second), {"intent": "requesting_escalation"}, format="json"
        )
        assert legacy.status_code == 201
        assert legacy.json()["intent"] == "escalate"
        assert SessionHandoff.objects.filter(intent="escalate").count() == 2

    def test_escalation_package_post_and_the_page_create_a_handoff(
        self, engineer: User, api_client_for: ApiFor, client_for: Callable[[User], Any]
    ) -> None:
        """sessions_app's escalate paths reach the hand-off service through the port."""
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            handoff_url(session, "escalation-package/post"), {"markdown": "pkg"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["handoff_id"] == str(SessionHandoff.objects.get(session=session).pk)
        other = make_session(engineer)
        page = client_for(engineer).post(
            f"/sessions/{other.pk}/post/escalation", {"markdown": "pkg", "reason": "stuck"}
        )
        assert page.status_code == 302
        assert SessionHandoff.objects.get(session=other).reason == "stuck"

    def test_escalating_twice_is_409(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        client = api_client_for(engineer)
        assert client.post(handoff_url(session, "escalate"), {}).status_code == 201
        again = client.post(handoff_url(session, "escalate"), {})
        assert again.status_code == 409
        assert again.json()["code"] == "already_escalated"
        assert SessionHandoff.objects.filter(session=session).count() == 1

    def test_self_target_is_400(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            handoff_url(session),
            {"intent": "escalate", "target_user_id": engineer.pk},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["code"] == "self_target"
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE

    @pytest.mark.parametrize("target", ["viewer", "stranger"])
    def test_target_must_be_an_acting_colleague(
        self, engineer: User, api_client_for: ApiFor, request: pytest.FixtureRequest, target: str
    ) -> None:
        session = make_session(engineer)
        other: User = request.getfixturevalue(target)
        response = api_client_for(engineer).post(
            handoff_url(session), {"intent": "escalate", "target_user_id": other.pk}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "target_invalid"

    def test_bad_intent_is_400(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            handoff_url(session), {"intent": "teleport"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "intent_invalid"

    def test_viewer_403_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        for path in ("handoff", "escalate"):
            denied = api_client_for(viewer).post(
                handoff_url(session, path), {"intent": "escalate"}, format="json"
            )
            assert denied.status_code == 403
            assert denied.json()["detail"] == "Engineer or admin access required"
            hidden = api_client_for(stranger).post(
                handoff_url(session, path), {"intent": "escalate"}, format="json"
            )
            assert hidden.status_code == 404
        assert not SessionHandoff.objects.exists()

    def test_a_colleague_who_does_not_work_on_it_is_403(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        response = api_client_for(teammate).post(handoff_url(session, "escalate"), {})
        assert response.status_code == 403

    def test_without_markdown_the_model_is_not_awaited_and_rewrites_after_commit(
        self, engineer: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        """No edit and no written preview: a factual draft is stored at once, and the
        assistant's package replaces it after commit."""
        session = make_session(engineer)
        with django_capture_on_commit_callbacks() as callbacks:
            result = services.create_handoff(session=session, actor=engineer, intent="escalate")
        assert package.PENDING_HYPOTHESIS in result.markdown
        assert "## Suggested next steps" in result.markdown
        handoff = SessionHandoff.objects.get()
        assert handoff.package_markdown == result.markdown
        with (
            mock.patch.object(tasks.fan_out_handoff, "delay", autospec=True),
            mock.patch.object(tasks.assess_handoff, "delay", autospec=True),
            mock.patch("handoffs.events.publish", autospec=True),
        ):
            for callback in callbacks:
                callback()
        handoff.refresh_from_db()
        session.refresh_from_db()
        assert package.PENDING_HYPOTHESIS not in handoff.package_markdown
        assert handoff.package_markdown.startswith("## Problem")
        assert session.escalation_package["markdown"] == handoff.package_markdown
        assert package.write_package(handoff_id=handoff.pk) is False  # idempotent

    def test_the_written_package_is_pushed_to_the_open_handoff_screen(
        self, engineer: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        session = make_session(engineer)
        handoff = services.create_handoff(
            session=session, actor=engineer, intent="escalate"
        ).handoff
        with (
            mock.patch("handoffs.events.publish", autospec=True) as publish,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert package.write_package(handoff_id=handoff.pk) is True
        group, event, payload = publish.call_args.args
        assert (group, event) == (
            f"account.{engineer.account_id}.escalations",
            "handoff_package_ready",
        )
        assert payload["handoff_id"] == str(handoff.pk)
        assert package.PENDING_HYPOTHESIS not in payload["markdown"]
        assert f'id="handoff-package-{handoff.pk}"' in payload["html"]
        assert 'hx-swap-oob="true"' in payload["html"] and "<h2>Problem</h2>" in payload["html"]

    def test_a_written_preview_is_used_as_it_is(self, engineer: User) -> None:
        session = make_session(engineer)
        preview = get_preview(session=session, kind="escalation_package")
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True) as llm:
            result = services.create_handoff(session=session, actor=engineer, intent="escalate")
        assert llm.call_count == 0
        assert result.markdown == preview.markdown.strip()

    def test_the_draft_stays_when_the_model_fails(self, engineer: User) -> None:
        session = make_session(engineer)
        handoff = services.create_handoff(
            session=session, actor=engineer, intent="escalate"
        ).handoff
        with mock.patch(
            "handoffs.package.generate",
            autospec=True,
            side_effect=UpstreamError("down", code="llm_unavailable"),
        ):
            assert package.write_package(handoff_id=handoff.pk) is False
        handoff.refresh_from_db()
        assert package.PENDING_HYPOTHESIS in handoff.package_markdown
        session.refresh_from_db()
        assert session.status == SessionStatus.ESCALATED


class TestPark:
    def test_park_is_private(
        self,
        engineer: User,
        teammate: User,
        api_client_for: ApiFor,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        """Park: the session is parked, and nobody is told (no bell, no event, no task)."""
        session = make_session(engineer)
        with django_capture_on_commit_callbacks() as callbacks:
            response = api_client_for(engineer).post(
                handoff_url(session), {"intent": "park", "reason": "Waiting on user"}, format="json"
            )
        assert response.status_code == 201
        assert callbacks == []
        assert not AppNotification.objects.exists()
        session.refresh_from_db()
        assert session.status == SessionStatus.PARKED
        handoff = SessionHandoff.objects.get()
        assert handoff.intent == HandoffIntent.PARK

    def test_a_parked_session_can_be_escalated_later_but_not_parked_again(
        self, engineer: User
    ) -> None:
        session = make_session(engineer)
        services.create_handoff(session=session, actor=engineer, intent="park")
        with pytest.raises(Exception) as again:
            services.create_handoff(session=session, actor=engineer, intent="park")
        assert getattr(again.value, "code", "") == "already_parked"
        services.create_handoff(session=session, actor=engineer, intent="escalate", markdown="p")
        session.refresh_from_db()
        assert session.status == SessionStatus.ESCALATED


class TestNotifications:
    def test_recipients_exclude_viewer_escalator_inactive_and_other_accounts(
        self,
        engineer: User,
        teammate: User,
        admin_user: User,
        owner: User,
        viewer: User,
        stranger: User,
    ) -> None:
        teammate.is_active = False
        teammate.save(update_fields=["is_active"])
        session = make_session(engineer)
        result = services.create_handoff(
            session=session, actor=engineer, intent="escalate", markdown="p"
        )
        recipients = set(AppNotification.objects.values_list("user_id", flat=True))
        assert recipients == {admin_user.pk, owner.pk}
        assert result.notified == 2
        notification = AppNotification.objects.filter(user=owner).get()
        assert notification.link == f"/escalations/{result.handoff.pk}"

    @pytest.mark.parametrize(
        ("problem", "ticket", "title"),
        [
            (
                "Outlook is failing to sync email",
                "12345",
                "Escalation from Jane · #12345: Outlook is failing to sync email",
            ),
            ("Printer offline", "", "Escalation from Jane: Printer offline"),
            (
                "Outlook is failing to sync email for every user in the finance department "
                "since Monday",
                "#77",
                "Escalation from Jane · #77: "
                "Outlook is failing to sync email for every user in the finance departm…",
            ),
        ],
        ids=["ticket", "no-ticket", "long"],
    )
    def test_title(self, engineer: User, problem: str, ticket: str, title: str) -> None:
        assert (
            notifications.notification_title(from_user=engineer, problem=problem, ticket=ticket)
            == title
        )
        snippet = title.split(": ", 1)[1]
        assert len(snippet.rstrip("…")) <= notifications.SNIPPET_LIMIT


@pytest.mark.django_db(transaction=True)
class TestAfterCommitOnly:
    def test_rolled_back_handoff_sends_nothing(self, engineer: User, admin_user: User) -> None:
        """A hand-off whose transaction rolls back publishes nothing and queues nothing."""
        session = make_session(engineer)

        class Boom(Exception):
            pass

        with (
            mock.patch("handoffs.events.publish", autospec=True) as publish,
            mock.patch.object(tasks.fan_out_handoff, "delay", autospec=True) as fan_out,
            mock.patch.object(tasks.assess_handoff, "delay", autospec=True) as assess,
        ):
            with pytest.raises(Boom), transaction.atomic():
                services.create_handoff(
                    session=session, actor=engineer, intent="escalate", markdown="p"
                )
                raise Boom
            assert publish.call_count == 0
            assert fan_out.call_count == 0 and assess.call_count == 0
        assert not SessionHandoff.objects.exists()
        assert not AppNotification.objects.exists()
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE

    def test_committed_handoff_publishes_and_queues(self, engineer: User, admin_user: User) -> None:
        session = make_session(engineer)
        with (
            mock.patch("handoffs.events.publish", autospec=True) as publish,
            mock.patch.object(tasks.fan_out_handoff, "delay", autospec=True) as fan_out,
            mock.patch.object(tasks.assess_handoff, "delay", autospec=True) as assess,
        ):
            handoff = services.create_handoff(
                session=session, actor=engineer, intent="escalate", markdown="p"
            ).handoff
        group, event, payload = publish.call_args.args
        assert group == events.escalations_group(engineer.account_id)
        assert event == "handoff_created"
        assert payload["handoff_id"] == str(handoff.pk)
        assert 'id="queue-list"' in payload["html"]
        fan_out.assert_called_once_with(str(handoff.pk))
        assess.assert_called_once_with(str(handoff.pk))

    def test_escalate_port_is_registered(self) -> None:
        assert resolution._escalation_writer is services.escalate_via_handoff
