"""
API of the script library: templates, categories, generation, the safety review, drafts and
builder sessions. Each view parses, fetches through ``scripts.selectors`` (another account's
object is a 404) and calls one service.
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsEngineerOrAdmin, IsEngineerOrAdminForWrites
from flowpilot import pagination
from flowpilot.errors import DomainError
from flowpilot.schema import PAGE_PARAMETERS
from scripts import selectors
from scripts.api import schema
from scripts.api.serializers import (
    AcceptDraftSerializer,
    BuilderSessionCreateSerializer,
    BuilderSessionSerializer,
    CategorySerializer,
    DecisionSerializer,
    DraftSerializer,
    FixDraftSerializer,
    GenerateSerializer,
    ReviewSerializer,
    TemplatePatchSerializer,
    TemplateSerializer,
    TemplateWriteSerializer,
)
from scripts.review import review_script
from scripts.services import builder, decisions, drafts, generation, library
from sessions_app.access import get_session
from sessions_app.api.fix_serializers import SuggestedFixSerializer
from sessions_app.selectors import get_fix

READ_OR_WRITE = [IsAuthenticated, IsEngineerOrAdminForWrites]
WRITE = [IsAuthenticated, IsEngineerOrAdmin]


def _user(request: Request) -> User:
    return cast(User, request.user)


@extend_schema(
    methods=["GET"],
    operation_id="v1_scripts_templates_list",
    parameters=[OpenApiParameter("category", str), OpenApiParameter("q", str), *PAGE_PARAMETERS],
    responses=schema.TemplateListSerializer,
    summary="Library, by category and name, cursor-paginated",
)
@extend_schema(
    methods=["POST"],
    request=TemplateWriteSerializer,
    responses={201: TemplateSerializer},
    summary="Add a template to the library",
)
@api_view(["GET", "POST"])
@permission_classes(READ_OR_WRITE)
def template_list(request: Request) -> Response:
    user = _user(request)
    if request.method == "GET":
        rows = selectors.templates(
            user.account_id,
            category=request.query_params.get("category", ""),
            query=request.query_params.get("q", ""),
        )
        return Response(
            pagination.ordered_page(
                request,
                rows,
                selectors.TEMPLATE_ORDER,
                lambda shown: TemplateSerializer(shown, many=True).data,
            )
        )
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


@extend_schema(methods=["GET"], responses=TemplateSerializer, summary="Template")
@extend_schema(
    methods=["PATCH"],
    request=TemplatePatchSerializer,
    responses=TemplateSerializer,
    summary="Change a template",
)
@extend_schema(methods=["DELETE"], responses={204: None}, summary="Delete a template")
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


@extend_schema(
    parameters=PAGE_PARAMETERS,
    responses=schema.CategoryListSerializer,
    summary="Script categories, in library order, cursor-paginated",
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def category_list(request: Request) -> Response:
    return Response(
        pagination.ordered_page(
            request,
            selectors.category_rows(_user(request).account),
            selectors.CATEGORY_ORDER,
            lambda shown: CategorySerializer(shown, many=True).data,
        )
    )


@extend_schema(
    request=GenerateSerializer,
    responses=schema.GeneratedSerializer,
    summary="Render a template with parameters",
)
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


@extend_schema(
    request=ReviewSerializer,
    responses=schema.ReviewResultSerializer,
    summary="Parse a script and list its safety findings",
)
@api_view(["POST"])
@permission_classes(WRITE)
def review(request: Request) -> Response:
    serializer = ReviewSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(review_script(serializer.validated_data["script"]).as_dict())


# --- fix decisions and the inline builder's submit (routes under /ai-sessions) -------------


@extend_schema(
    request=DecisionSerializer,
    responses=schema.DecisionResultSerializer,
    summary="Decide what to do with the fix",
)
@api_view(["POST"])
@permission_classes(WRITE)
def fix_decision(request: Request, session_id: int, fix_id: int) -> Response:
    user = _user(request)
    # The fix services answer a resolved session with their own 409.
    session = get_session(user, session_id, for_write=True, allow_closed=True)
    fix = get_fix(session, fix_id)
    serializer = DecisionSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    result = decisions.decide_fix(
        session=session,
        fix=fix,
        decision=data["decision"],
        actor=user,
        script=data.get("script"),
        values=data.get("parameters"),
    )
    return Response({**result.as_dict(), "fix": SuggestedFixSerializer(result.fix).data})


@extend_schema(
    request=FixDraftSerializer, responses=SuggestedFixSerializer, summary="Builder submit"
)
@api_view(["POST"])
@permission_classes(WRITE)
def fix_draft(request: Request, session_id: int, fix_id: int) -> Response:
    user = _user(request)
    # The fix services answer a resolved session with their own 409.
    session = get_session(user, session_id, for_write=True, allow_closed=True)
    fix = get_fix(session, fix_id)
    serializer = FixDraftSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    fix = decisions.submit_fix_draft(
        session=session,
        fix=fix,
        script=serializer.validated_data["script"],
        parameters=serializer.validated_data["parameters"],
        actor=user,
    )
    return Response(SuggestedFixSerializer(fix).data)


# --- drafts --------------------------------------------------------------------------------


@extend_schema(
    operation_id="v1_draft_templates_list",
    parameters=[OpenApiParameter("pending_only", bool, default=True), *PAGE_PARAMETERS],
    responses=schema.DraftListSerializer,
    summary="Draft templates (pending by default), newest first, cursor-paginated",
)
@api_view(["GET"])
@permission_classes(WRITE)
def draft_list(request: Request) -> Response:
    pending_only = request.query_params.get("pending_only", "true").lower() not in (
        "false",
        "0",
        "no",
    )
    rows = selectors.drafts(_user(request).account, pending_only=pending_only)
    return Response(
        pagination.ordered_page(
            request,
            rows,
            selectors.DRAFT_ORDER,
            lambda shown: DraftSerializer(shown, many=True).data,
        )
    )


@extend_schema(responses=DraftSerializer, summary="One draft template")
@api_view(["GET"])
@permission_classes(WRITE)
def draft_detail(request: Request, draft_id: int) -> Response:
    return Response(DraftSerializer(selectors.get_draft(_user(request).account, draft_id)).data)


@extend_schema(
    request=AcceptDraftSerializer,
    responses={201: TemplateSerializer},
    summary="Accept a draft: it becomes a library template",
)
@api_view(["POST"])
@permission_classes(WRITE)
def draft_accept(request: Request, draft_id: int) -> Response:
    user = _user(request)
    draft = selectors.get_draft(user.account, draft_id)
    serializer = AcceptDraftSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    template = drafts.accept_draft(draft=draft, actor=user, changes=dict(serializer.validated_data))
    return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


@extend_schema(request=None, responses=DraftSerializer, summary="Reject a draft template")
@api_view(["POST"])
@permission_classes(WRITE)
def draft_reject(request: Request, draft_id: int) -> Response:
    user = _user(request)
    draft = drafts.reject_draft(draft=selectors.get_draft(user.account, draft_id), actor=user)
    return Response(DraftSerializer(draft).data)


# --- builder -------------------------------------------------------------------------------


@extend_schema(
    request=BuilderSessionCreateSerializer,
    responses={
        201: BuilderSessionSerializer,
        200: BuilderSessionSerializer,  # an inline builder already open for that fix
    },
    summary="Start a builder session (standalone, or inline for an AI session)",
)
@api_view(["POST"])
@permission_classes(WRITE)
def builder_sessions(request: Request) -> Response:
    user = _user(request)
    serializer = BuilderSessionCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    if data["origin"] == "standalone":
        built = builder.create_standalone_session(user=user, name=data["name"], body=data["body"])
        return Response(BuilderSessionSerializer(built).data, status=status.HTTP_201_CREATED)
    if data["ai_session_id"] is None:
        raise DomainError("An inline builder needs ai_session_id.", code="ai_session_required")
    session = get_session(user, data["ai_session_id"], for_write=True)
    fix = get_fix(session, data["fix_id"]) if data["fix_id"] is not None else None
    built, created = builder.get_or_create_inline_session(
        user=user, session=session, fix=fix, body=data["body"]
    )
    return Response(
        BuilderSessionSerializer(built).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )
