"""
The PSA API (SPEC §9 ``/integrations/psa``). Settings are the owner's; any member reads tickets;
engineers and up change them. Optional lists answer ``[]`` (with a warning log) when the PSA
refuses them; write failures answer 502 with the PSA's message.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsEngineerOrAdmin, IsEngineerOrAdminForWrites, IsOwner
from psa import selectors
from psa.api import schema
from psa.api.serializers import (
    IntegrationSerializer,
    MemberSerializer,
    NewTicketSerializer,
    TicketQuerySerializer,
)
from psa.providers.base import NewTicket, Ticket
from psa.services import integration as integration_service
from psa.services import tickets as ticket_service

OWNER = [IsAuthenticated, IsOwner]
READ_OR_WRITE = [IsAuthenticated, IsEngineerOrAdminForWrites]
WRITE = [IsAuthenticated, IsEngineerOrAdmin]


def _user(request: Request) -> User:
    return cast(User, request.user)


def ticket_body(ticket: Ticket) -> dict[str, Any]:
    body = asdict(ticket)
    body["resources"] = list(ticket.resources)
    return body


@extend_schema(
    request=IntegrationSerializer,
    responses=schema.IntegrationSummarySerializer,
    summary="The account's PSA connection (owner); PUT saves it",
)
@api_view(["GET", "PUT"])
@permission_classes(OWNER)
def integration(request: Request) -> Response:
    user = _user(request)
    if request.method == "PUT":
        serializer = IntegrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        integration_service.save_integration(
            account=user.account,
            actor=user,
            data=integration_service.IntegrationInput(**serializer.validated_data),
        )
    return Response(selectors.integration_summary(user.account))


@extend_schema(
    request=None,
    responses=schema.ConnectionResultSerializer,
    summary="Test the PSA connection (owner)",
)
@api_view(["POST"])
@permission_classes(OWNER)
def integration_test(request: Request) -> Response:
    user = _user(request)
    result = integration_service.test_connection(account=user.account, actor=user)
    return Response(asdict(result))


@extend_schema(
    methods=["GET"],
    operation_id="v1_integrations_psa_tickets_list",
    parameters=[TicketQuerySerializer],
    responses=schema.TicketPageSerializer,
    summary="Search tickets (page by page, as the PSA pages them)",
)
@extend_schema(
    methods=["POST"],
    request=NewTicketSerializer,
    responses={201: schema.TicketSerializer},
    summary="Create a ticket",
)
@api_view(["GET", "POST"])
@permission_classes(READ_OR_WRITE)
def tickets(request: Request) -> Response:
    user = _user(request)
    ws = selectors.workspace_for(user.account)
    if request.method == "POST":
        serializer = NewTicketSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = ticket_service.create_ticket(
            ws=ws, actor=user, ticket=NewTicket(**serializer.validated_data)
        )
        return Response(ticket_body(created), status=status.HTTP_201_CREATED)
    params = TicketQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    page = selectors.search_tickets(ws, user, selectors.query_from(params.validated_data))
    return Response(
        {
            "results": [ticket_body(t) for t in page.tickets],
            "page": page.page,
            "page_size": page.page_size,
            "has_next": page.has_next,
            "last_page": page.last_page,
            "warnings": ws.problems,
        }
    )


@extend_schema(responses=schema.TicketDetailSerializer, summary="A ticket with its notes")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def ticket_detail(request: Request, ticket_id: int) -> Response:
    ws = selectors.workspace_for(_user(request).account)
    ticket = selectors.get_ticket(ws, ticket_id)
    notes = selectors.ticket_notes(ws, ticket_id)
    body = ticket_body(ticket)
    body["notes"] = [asdict(n) for n in notes.items]
    body["warnings"] = [notes.problem] if notes.problem else []
    return Response(body)


def _lookup_response(found: selectors.Lookup[Any]) -> Response:
    return Response([asdict(item) for item in found.items])


@extend_schema(responses=schema.BoardSerializer(many=True), summary="The PSA's boards")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def boards(request: Request) -> Response:
    return _lookup_response(selectors.boards(selectors.workspace_for(_user(request).account)))


@extend_schema(responses=schema.StatusSerializer(many=True), summary="A board's statuses")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def board_statuses(request: Request, board_id: int) -> Response:
    ws = selectors.workspace_for(_user(request).account)
    return _lookup_response(selectors.board_statuses(ws, board_id))


@extend_schema(responses=schema.PSAMemberSerializer(many=True), summary="The PSA's members")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def members(request: Request) -> Response:
    return _lookup_response(selectors.members(selectors.workspace_for(_user(request).account)))


@extend_schema(
    methods=["GET"],
    responses=schema.ResourcesSerializer,
    summary="A ticket's assigned members",
)
@extend_schema(
    methods=["POST"],
    request=MemberSerializer,
    responses=schema.ResourcesSerializer,
    summary="Assign a member to the ticket",
)
@extend_schema(
    methods=["DELETE"],
    parameters=[OpenApiParameter("member", str, description="Or in the body.")],
    request=MemberSerializer,
    responses={200: schema.ResourcesSerializer},
    summary="Unassign a member from the ticket",
)
@api_view(["GET", "POST", "DELETE"])
@permission_classes(READ_OR_WRITE)
def ticket_resources(request: Request, ticket_id: int) -> Response:
    user = _user(request)
    ws = selectors.workspace_for(user.account)
    if request.method == "GET":
        return Response({"resources": list(selectors.get_ticket(ws, ticket_id).resources)})
    data = request.data if request.data else request.query_params
    serializer = MemberSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    member = serializer.validated_data["member"]
    selectors.get_ticket(ws, ticket_id)  # a ticket this PSA does not have is a 404
    if request.method == "POST":
        resources = ticket_service.assign_member(
            ws=ws, actor=user, ticket_id=ticket_id, identifier=member
        )
    else:
        resources = ticket_service.unassign_member(
            ws=ws, actor=user, ticket_id=ticket_id, identifier=member
        )
    return Response({"resources": resources})
