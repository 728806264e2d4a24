"""
API of the hand-off flow: create (``/handoff`` and the ``/escalate`` shim), claim, the queue,
the bell and the escalation analytics. Each view parses, authorizes and calls one service or
selector; the page views call the same ones.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsEngineerOrAdmin
from flowpilot.pagination import page_url
from handoffs import selectors, services
from handoffs.api import schema
from handoffs.api.serializers import EscalateRequestSerializer, HandoffRequestSerializer
from handoffs.models import HandoffIntent, SessionHandoff
from sessions_app.access import get_session

WRITE = [IsAuthenticated, IsEngineerOrAdmin]


def _user(request: Request) -> User:
    return cast(User, request.user)


def _create(request: Request, session_id: int, data: dict[str, Any], intent: str) -> Response:
    user = _user(request)
    session = get_session(user, session_id, for_write=True)
    result = services.create_handoff(
        session=session,
        actor=user,
        intent=intent,
        reason=data["reason"],
        target_user_id=data.get("target_user_id"),
        markdown=data.get("markdown") or None,
    )
    return Response(result.as_dict(), status=status.HTTP_201_CREATED)


@extend_schema(
    request=HandoffRequestSerializer,
    responses={201: schema.HandoffCreatedSerializer},
    summary="Escalate or park the session",
)
@api_view(["POST"])
@permission_classes(WRITE)
def handoff(request: Request, session_id: int) -> Response:
    serializer = HandoffRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return _create(request, session_id, data, services.clean_intent(data["intent"]))


@extend_schema(
    request=EscalateRequestSerializer,
    responses={201: schema.HandoffCreatedSerializer},
    summary="Escalate the session (shim)",
)
@api_view(["POST"])
@permission_classes(WRITE)
def escalate(request: Request, session_id: int) -> Response:
    serializer = EscalateRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return _create(request, session_id, serializer.validated_data, HandoffIntent.ESCALATE)


@extend_schema(
    request=None,
    responses=schema.ClaimSerializer,
    summary="Pick up an escalation (exactly one claimer wins)",
)
@api_view(["POST"])
@permission_classes(WRITE)
def claim(request: Request, session_id: int, handoff_id: Any) -> Response:
    result = services.claim_handoff(
        actor=_user(request), session_id=session_id, handoff_id=handoff_id
    )
    return Response(result.as_dict())


@extend_schema(
    request=None,
    responses={202: schema.HandoffSerializer},
    summary="Queue the AI assessment again after it was unavailable",
)
@api_view(["POST"])
@permission_classes(WRITE)
def retry_assessment(request: Request, session_id: int, handoff_id: Any) -> Response:
    handoff = selectors.get_handoff(_user(request), handoff_id, session_id=session_id)
    handoff = services.retry_assessment(actor=_user(request), handoff=handoff)
    return Response(services.handoff_dict(handoff), status=status.HTTP_202_ACCEPTED)


def _queue_item(handoff: SessionHandoff) -> dict[str, Any]:
    session = handoff.session
    return {
        **services.handoff_dict(handoff),
        "problem_summary": session.problem_summary,
        "from_user": {"id": handoff.from_user_id, "name": handoff.from_user.display_name},
        "target_user": (
            {"id": handoff.target_user_id, "name": handoff.target_user.display_name}
            if handoff.target_user is not None
            else None
        ),
        "unread": not getattr(handoff, "seen_by_me", False),
    }


@extend_schema(
    parameters=[OpenApiParameter("cursor", str, required=False)],
    responses=schema.QueuePageSerializer,
    summary="Escalations waiting for pick-up (not your own), newest first",
)
@api_view(["GET"])
@permission_classes(WRITE)
def queue(request: Request) -> Response:
    page = selectors.escalation_queue(_user(request), cursor=request.query_params.get("cursor"))
    next_url = page_url(request, page.next_cursor) if page.next_cursor else None
    return Response(
        {
            "results": [_queue_item(item) for item in page.items],
            "next": next_url,
            "next_cursor": page.next_cursor,
        }
    )


@extend_schema(
    responses=schema.NotificationsSerializer, summary="Your notifications (the bell), newest first"
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def notifications(request: Request) -> Response:
    user = _user(request)
    items = selectors.recent_notifications(user)
    return Response(
        {
            "unread": selectors.unread_count(user),
            "results": [item.as_dict() for item in items],
        }
    )


@extend_schema(
    request=None, responses=schema.NotificationSerializer, summary="Mark one notification read"
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def notification_read(request: Request, notification_id: int) -> Response:
    notification = services.mark_notification_read(
        user=_user(request), notification_id=notification_id
    )
    return Response(notification.as_dict())


@extend_schema(
    request=None, responses=schema.ReadAllSerializer, summary="Mark every notification read"
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def notifications_read_all(request: Request) -> Response:
    count = services.mark_all_notifications_read(user=_user(request))
    return Response({"marked": count, "unread": 0})


@extend_schema(
    parameters=[OpenApiParameter("period", str, enum=list(selectors.PERIODS), required=False)],
    responses=schema.EscalationMetricsSerializer,
    summary="Time from pick-up to first action of escalations",
)
@api_view(["GET"])
@permission_classes(WRITE)
def escalation_analytics(request: Request) -> Response:
    period = selectors.clean_period(request.query_params.get("period", "7d"))
    metrics = selectors.escalation_metrics(_user(request), period=period)
    return Response(metrics.as_dict())
