"""
API for the suggested-fix lifecycle, the previews and the resolve / escalate posts. Each view
parses, fetches the session through ``sessions_app.access`` (foreign → 404, not allowed → 403)
and calls one service. A resolved session is let through (``allow_closed``): the fix services
refuse it themselves with their own 409 ``session_closed`` message.
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsEngineerOrAdmin, IsEngineerOrAdminForWrites
from flowpilot.errors import NotFound
from sessions_app import selectors
from sessions_app.access import get_session
from sessions_app.api import schema
from sessions_app.api.fix_serializers import (
    OutcomeSerializer,
    PostSerializer,
    PreviewRequestSerializer,
    SuggestedFixSerializer,
)
from sessions_app.models import SuggestedFix
from sessions_app.services import fixes, previews, resolution

WRITE = [IsAuthenticated, IsEngineerOrAdmin]


def _user(request: Request) -> User:
    return cast(User, request.user)


def _fix_body(fix: SuggestedFix) -> dict[str, object]:
    return dict(SuggestedFixSerializer(fix).data)


@extend_schema(responses=SuggestedFixSerializer, summary="The active suggested fix, or 404")
@api_view(["GET"])
@permission_classes([IsAuthenticated, IsEngineerOrAdminForWrites])
def active_fix(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id)
    fix = selectors.active_fix(session)
    if fix is None:
        raise NotFound("This session has no active suggested fix.", code="no_active_fix")
    return Response(_fix_body(fix))


@extend_schema(request=None, responses=SuggestedFixSerializer, summary="Mark the fix applied")
@api_view(["POST"])
@permission_classes(WRITE)
def apply(request: Request, session_id: int, fix_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True, allow_closed=True)
    fix = fixes.apply_fix(
        session=session, fix=selectors.get_fix(session, fix_id), actor=_user(request)
    )
    return Response(_fix_body(fix))


@extend_schema(request=OutcomeSerializer, responses=SuggestedFixSerializer, summary="Outcome")
@api_view(["PATCH"])
@permission_classes(WRITE)
def outcome(request: Request, session_id: int, fix_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True, allow_closed=True)
    fix = selectors.get_fix(session, fix_id)
    serializer = OutcomeSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    fix = fixes.record_outcome(
        session=session,
        fix=fix,
        outcome=data["outcome"],
        actor=_user(request),
        failure_reason=data["failure_reason"],
        notes=data["notes"],
        reason=data["reason"],
    )
    return Response(_fix_body(fix))


@extend_schema(
    request=None, responses={200: SuggestedFixSerializer}, summary='"Not yet": drop proposal'
)
@api_view(["DELETE"])
@permission_classes(WRITE)
def ai_outcome_proposal(request: Request, session_id: int, fix_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True, allow_closed=True)
    fix = fixes.clear_ai_outcome_proposal(session=session, fix=selectors.get_fix(session, fix_id))
    return Response(_fix_body(fix))


def _preview(request: Request, session_id: int, kind: previews.PreviewKind) -> Response:
    serializer = PreviewRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    preview = previews.preview_for(
        user=_user(request),
        session_id=session_id,
        kind=kind,
        refresh=serializer.validated_data["refresh"],
    )
    return Response(preview.as_dict())


@extend_schema(
    request=PreviewRequestSerializer,
    responses=schema.PreviewSerializer,
    summary="Preview the resolution note",
)
@api_view(["POST"])
@permission_classes(WRITE)
def resolution_preview(request: Request, session_id: int) -> Response:
    return _preview(request, session_id, "resolution_note")


@extend_schema(
    request=PreviewRequestSerializer,
    responses=schema.PreviewSerializer,
    summary="Preview the escalation package",
)
@api_view(["POST"])
@permission_classes(WRITE)
def escalation_preview(request: Request, session_id: int) -> Response:
    return _preview(request, session_id, "escalation_package")


@extend_schema(
    request=PostSerializer,
    responses=schema.PostResultSerializer,
    summary="Resolve the session with the note",
)
@api_view(["POST"])
@permission_classes(WRITE)
def resolution_post(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True, allow_closed=True)
    serializer = PostSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    result = resolution.post_resolution_note(
        session=session, actor=_user(request), markdown=serializer.validated_data["markdown"]
    )
    return Response(result.as_dict(), status=status.HTTP_200_OK)


@extend_schema(
    request=PostSerializer,
    responses=schema.PostResultSerializer,
    summary="Escalate the session with the package",
)
@api_view(["POST"])
@permission_classes(WRITE)
def escalation_post(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True, allow_closed=True)
    serializer = PostSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    result = resolution.escalate_session(
        session=session, actor=_user(request), markdown=data["markdown"], reason=data["reason"]
    )
    return Response(result.as_dict(), status=status.HTTP_200_OK)
