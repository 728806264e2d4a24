"""
API of institutional memory: similar sessions, search, and reusing a past fix. Reads are open
to every role of the account (viewers search and read); reusing a fix is a write.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsEngineerOrAdmin, IsEngineerOrAdminForWrites
from flowpilot.pagination import page_url
from sessions_app.access import get_session
from sessions_app.api.fix_serializers import SuggestedFixSerializer
from sessions_app.memory import schema, selectors, services
from sessions_app.models import FixStatus

READ = [IsAuthenticated, IsEngineerOrAdminForWrites]
WRITE = [IsAuthenticated, IsEngineerOrAdmin]
PAGE_SIZE = 20
OUTCOMES = [*FixStatus.values, "none"]


def _user(request: Request) -> User:
    return cast(User, request.user)


class SearchQuerySerializer(serializers.Serializer[dict[str, Any]]):
    q = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    outcome = serializers.ChoiceField(choices=OUTCOMES, required=False, allow_blank=True)
    engineer = serializers.IntegerField(required=False, min_value=1)
    ticket = serializers.CharField(required=False, allow_blank=True, max_length=33)
    # "from" is a Python keyword: the serializer field is declared below under that name.
    to = serializers.DateField(required=False)
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=200)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields

    def validate_cursor(self, value: str) -> str:
        try:
            selectors.parse_cursor(value)
        except ValueError as exc:
            raise serializers.ValidationError("Not a cursor this endpoint gave out.") from exc
        return value


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def filters_from(data: dict[str, Any]) -> selectors.SearchFilters:
    """Filters from validated query parameters (``to`` includes that whole day)."""
    return selectors.SearchFilters(
        outcome=data.get("outcome") or "",
        engineer_id=data.get("engineer"),
        ticket=(data.get("ticket") or "").strip().lstrip("#"),
        resolved_from=_day_start(data["from"]) if data.get("from") else None,
        resolved_to=_day_start(data["to"]) + timedelta(days=1) if data.get("to") else None,
    )


@extend_schema(
    responses=schema.SimilarSerializer,
    summary="Resolved sessions of the account most similar to this one (up to 5)",
)
@api_view(["GET"])
@permission_classes(READ)
def similar(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id)
    matches = selectors.similar_for_session(session)
    return Response({"results": [match.as_dict() for match in matches]})


@extend_schema(
    parameters=[
        OpenApiParameter("q", str),
        OpenApiParameter("outcome", str, enum=OUTCOMES),
        OpenApiParameter("engineer", int),
        OpenApiParameter("ticket", str),
        OpenApiParameter("from", str, description="YYYY-MM-DD, resolved on or after"),
        OpenApiParameter("to", str, description="YYYY-MM-DD, resolved on or before"),
        OpenApiParameter("cursor", str),
    ],
    responses=schema.SearchPageSerializer,
    summary="Search resolved sessions (cursor paginated)",
)
@api_view(["GET"])
@permission_classes(READ)
def search(request: Request) -> Response:
    params = SearchQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    page = selectors.search(
        _user(request).account_id,
        data.get("q") or "",
        filters=filters_from(data),
        cursor=selectors.parse_cursor(data.get("cursor") or ""),
        page_size=data.get("page_size") or PAGE_SIZE,
    )
    next_url = page_url(request, page.next_cursor) if page.next_cursor else None
    return Response(
        {
            "results": [match.as_dict() for match in page.matches],
            "next_cursor": page.next_cursor,
            "next": next_url,
            "corrections": page.query.corrections if page.query else {},
        }
    )


@extend_schema(
    request=None,
    responses={201: schema.ReusedFixSerializer},
    summary="Propose a past session's fix that worked as this session's suggested fix",
)
@api_view(["POST"])
@permission_classes(WRITE)
def fix_from_session(request: Request, session_id: int, source_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True)
    fix = services.propose_fix_from_session(
        session=session, source_session_id=source_id, actor=_user(request)
    )
    body = dict(SuggestedFixSerializer(fix).data)
    body["state_version"] = session.state_version
    return Response(body, status=status.HTTP_201_CREATED)
