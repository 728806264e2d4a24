"""API of the session-expiration policy: token refresh/logout and the owner's security settings."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors
from accounts.api import schema
from accounts.api.serializers import RefreshSerializer
from accounts.models import User
from accounts.permissions import IsOwner
from accounts.services import revocation, session_policy, tokens
from accounts.services.auth import client_ip
from flowpilot.errors import Unprocessable


@extend_schema(
    request=RefreshSerializer,
    responses=schema.TokenPairSerializer,
    summary="Rotate a refresh token; returns a new pair",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def refresh(request: Request) -> Response:
    serializer = RefreshSerializer(data=request.data)
    if not serializer.is_valid():
        raise tokens.RefreshRefused(tokens.INVALID)
    return Response(tokens.rotate_refresh_token(raw=serializer.validated_data["refresh"]))


@extend_schema(
    request=RefreshSerializer,
    responses={204: None},
    summary="Revoke the caller's refresh token",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def logout(request: Request) -> Response:
    serializer = RefreshSerializer(data=request.data)
    if not serializer.is_valid():
        raise tokens.RefreshRefused(tokens.INVALID)
    tokens.revoke_refresh_token(
        raw=serializer.validated_data["refresh"], ip=client_ip(request._request)
    )
    return Response(status=status.HTTP_204_NO_CONTENT)


def _security_body(request: Request, user: User) -> dict[str, Any]:
    devices = selectors.active_devices(
        user.account, current_id=selectors.current_device_id(request)
    )
    return {
        **session_policy.policy_state(user.account),
        "active_users": selectors.active_users(user.account),
        "active_sessions": devices,
    }


@extend_schema(
    request=schema.SecurityChangeSerializer,
    responses=schema.SecuritySerializer,
    summary="Session policy of the account (owner only)",
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated, IsOwner])
def security(request: Request) -> Response:
    user = cast(User, request.user)
    if request.method == "PATCH":
        if not isinstance(request.data, dict):
            raise Unprocessable("Send a JSON object.", code="invalid")
        session_policy.update_session_policy(
            account=user.account, actor=user, changes=dict(request.data)
        )
    return Response(_security_body(request, user))


@extend_schema(
    request=schema.RevokeScopeSerializer,
    responses=schema.RevokedSessionsSerializer,
    summary="Sign out the account's users (owner only)",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated, IsOwner])
def revoke_sessions(request: Request) -> Response:
    user = cast(User, request.user)
    scope = request.data.get("scope", "all") if isinstance(request.data, dict) else None
    count = revocation.revoke_account_sessions(
        account=user.account, actor=user, scope=scope, ip=client_ip(request._request)
    )
    return Response({"scope": scope, "revoked_count": count})


@extend_schema(
    request=None,
    responses=schema.RevokedDeviceSerializer,
    summary="Sign out one device (owner: any of the account; else own)",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def revoke_device(request: Request, device_id: str) -> Response:
    user = cast(User, request.user)
    device = revocation.revoke_device(
        actor=user, device_id=device_id, ip=client_ip(request._request)
    )
    return Response({"id": device.pk, "revoked": True})
