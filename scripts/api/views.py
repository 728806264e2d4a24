"""
API of the script library: templates, categories, generation, the safety review, drafts and
builder sessions. Each view parses, fetches through ``scripts.selectors`` (another account's
object is a 404) and calls one service.
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
from scripts import selectors
from scripts.api.serializers import (
    CategorySerializer,
    GenerateSerializer,
    ReviewSerializer,
    TemplatePatchSerializer,
    TemplateSerializer,
    TemplateWriteSerializer,
)
from scripts.review import review_script
from scripts.services import generation, library
from sessions_app.access import get_session

READ_OR_WRITE = [IsAuthenticated, IsEngineerOrAdminForWrites]
WRITE = [IsAuthenticated, IsEngineerOrAdmin]
LIST_LIMIT = 500


def _user(request: Request) -> User:
    return cast(User, request.user)


@extend_schema(request=TemplateWriteSerializer, responses=TemplateSerializer, summary="Library")
@api_view(["GET", "POST"])
@permission_classes(READ_OR_WRITE)
def template_list(request: Request) -> Response:
    user = _user(request)
    if request.method == "GET":
        rows = selectors.templates(
            user.account_id,
            category=request.query_params.get("category", ""),
            query=request.query_params.get("q", ""),
        )[:LIST_LIMIT]
        return Response({"results": TemplateSerializer(rows, many=True).data})
    serializer = TemplateWriteSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    template = library.create_template(
        account=user.account,
        actor=user,
        name=data["name"],
        body=data["body"],
        parameters=data.get("parameters"),
        description=data["description"],
        category_id=data["category_id"],
    )
    return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


@extend_schema(request=TemplatePatchSerializer, responses=TemplateSerializer, summary="Template")
@api_view(["GET", "PATCH", "DELETE"])
@permission_classes(READ_OR_WRITE)
def template_detail(request: Request, template_id: int) -> Response:
    user = _user(request)
    template = selectors.get_template(user.account, template_id)
    if request.method == "GET":
        return Response(TemplateSerializer(template).data)
    if request.method == "DELETE":
        library.delete_template(template=template, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)
    serializer = TemplatePatchSerializer(data=request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    template = library.update_template(
        template=template, actor=user, changes=dict(serializer.validated_data)
    )
    return Response(TemplateSerializer(template).data)


@extend_schema(responses=CategorySerializer(many=True), summary="Script categories")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def category_list(request: Request) -> Response:
    rows = selectors.categories(_user(request).account)
    return Response({"results": CategorySerializer(rows, many=True).data})


@extend_schema(request=GenerateSerializer, summary="Render a template with parameters")
@api_view(["POST"])
@permission_classes(WRITE)
def generate(request: Request) -> Response:
    user = _user(request)
    serializer = GenerateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    template = selectors.get_template(user.account, data["template_id"])
    session = None
    if data["ai_session_id"] is not None:
        session = get_session(user, data["ai_session_id"], for_write=True)
    result = generation.generate_script(
        user=user, template=template, values=data["parameters"], session=session
    )
    return Response(result.as_dict())


@extend_schema(request=ReviewSerializer, summary="Parse a script and list its safety findings")
@api_view(["POST"])
@permission_classes(WRITE)
def review(request: Request) -> Response:
    serializer = ReviewSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(review_script(serializer.validated_data["script"]).as_dict())
