"""API of the account's people: list and invite, change one (name, role, active), resend."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors
from accounts.api import schema
from accounts.models import User
from accounts.services import people
from flowpilot import pagination
from flowpilot.errors import Unprocessable
from flowpilot.schema import PAGE_PARAMETERS


def person_body(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "invitation_pending": user.invitation_pending,
        "invited_at": user.invited_at,
        "last_login_at": user.last_login,
    }


def _body(request: Request) -> dict[str, Any]:
    data = request.data
    if hasattr(data, "dict"):  # a form body: one value per key
        return dict(data.dict())
    if not isinstance(data, dict):
        raise Unprocessable("Send a JSON object.", code="invalid")
    return dict(data)


@extend_schema(
    methods=["GET"],
    parameters=PAGE_PARAMETERS,
    responses=schema.PersonPage,
    summary="People of the account (owners and admins), active first by name, cursor-paginated",
)
@extend_schema(
    methods=["POST"],
    request=schema.InviteSerializer,
    responses={201: schema.PersonSerializer},
    summary="Invite someone to the account (owners and admins)",
)
@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
def users(request: Request) -> Response:
    actor = cast(User, request.user)
    people.require_manager(actor)
    if request.method == "POST":
        data = _body(request)
        invited = people.invite_user(
            actor=actor,
            email=data.get("email"),
            name=data.get("name", ""),
            role=data.get("role", "engineer"),
            base_url=request.build_absolute_uri("/"),
        )
        return Response(person_body(invited), status=status.HTTP_201_CREATED)
    return Response(
        pagination.ordered_page(
            request,
            selectors.people_rows(actor),
            selectors.PEOPLE_ORDER,
            lambda shown: [person_body(person) for person in shown],
        )
    )


@extend_schema(
    request=schema.PersonChangeSerializer,
    responses=schema.PersonSerializer,
    summary="Change a person's name, role or active state (owners and admins)",
)
@api_view(["PATCH"])
@permission_classes([IsAuthenticated])
def user_detail(request: Request, user_id: int) -> Response:
    actor = cast(User, request.user)
    updated = people.update_user(actor=actor, user_id=user_id, changes=_body(request))
    return Response(person_body(updated))


@extend_schema(
    request=None,
    responses=schema.PersonSerializer,
    summary="Send a pending invitation again (the old link stops)",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def resend_invitation(request: Request, user_id: int) -> Response:
    actor = cast(User, request.user)
    user = people.resend_invitation(
        actor=actor, user_id=user_id, base_url=request.build_absolute_uri("/")
    )
    return Response(person_body(user))
