from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    parser_classes,
    permission_classes,
)
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import schema
from accounts.api.serializers import LoginSerializer
from accounts.models import User
from accounts.permissions import IsEngineerOrAdminForWrites
from accounts.services import auth as auth_service
from accounts.services import preferences as preferences_service
from accounts.services.tokens import issue_token_pair
from flowpilot.parsers import BoundedJSONParser


def _login(request: Request) -> Response:
    serializer = LoginSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    ip = auth_service.client_ip(request._request)
    user = auth_service.authenticate_credentials(
        email=serializer.validated_data["email"],
        password=serializer.validated_data["password"],
        ip=ip,
    )
    pair = issue_token_pair(user, ip=ip, user_agent=request.headers.get("User-Agent", ""))
    return Response(pair, status=status.HTTP_200_OK)


@extend_schema(
    request=LoginSerializer,
    responses=schema.TokenPairSerializer,
    summary="Log in with form fields; returns a token pair",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([FormParser, MultiPartParser, BoundedJSONParser])
def login_form(request: Request) -> Response:
    return _login(request)


@extend_schema(
    request=LoginSerializer,
    responses=schema.TokenPairSerializer,
    summary="Log in with a JSON body; returns a token pair",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([BoundedJSONParser])
def login_json(request: Request) -> Response:
    return _login(request)


@extend_schema(
    request=schema.PreferencesSerializer(partial=True),
    responses=schema.PreferencesSerializer,
    summary="The account's preferences; PATCH merges the keys sent (webhooks shown masked)",
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated, IsEngineerOrAdminForWrites])
def preferences(request: Request) -> Response:
    user = cast(User, request.user)
    if request.method == "PATCH":
        data = preferences_service.update_preferences(
            account=user.account, actor=user, changes=request.data
        )
        return Response(data)
    return Response(preferences_service.get_preferences(user.account, viewer=user))
