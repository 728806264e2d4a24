"""
API for sessions, chat turns and What we know. Each view parses, fetches the session through
``sessions_app.access`` (foreign → 404, not allowed to change it → 403) and calls one service.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsEngineerOrAdmin, IsEngineerOrAdminForWrites
from flowpilot import pagination
from sessions_app import selectors
from sessions_app.access import get_session
from sessions_app.api import schema
from sessions_app.api.serializers import (
    CreateSessionSerializer,
    FactSerializer,
    FactTextSerializer,
    LinkTicketSerializer,
    MessageSerializer,
    PromoteSerializer,
    SessionSerializer,
    StepSerializer,
    TaskItemSerializer,
    queued_body,
    turn_body,
)
from sessions_app.models import AISession
from sessions_app.services import chat, facts, sessions

READ_OR_WRITE = [IsAuthenticated, IsEngineerOrAdminForWrites]
WRITE = [IsAuthenticated, IsEngineerOrAdmin]


def _user(request: Request) -> User:
    return cast(User, request.user)


def _detail(session: AISession) -> dict[str, Any]:
    page = selectors.session_page(session)
    return {
        **SessionSerializer(session).data,
        "steps": StepSerializer(page.steps, many=True).data,
        "lane": TaskItemSerializer(page.lane_items, many=True).data,
        "facts": FactSerializer(page.facts, many=True).data,
        "active_fix_id": page.fix.pk if page.fix else None,
        "awaiting_reply": page.pending_step is not None,
    }


def _turn(session: AISession, turn: chat.TurnResult) -> dict[str, Any]:
    if turn.state_version is None:
        # An answered step returned without storing anything: read the current version.
        session.refresh_from_db(fields=["state_version", "updated_at"])
    lane_items = selectors.lane_items(session)
    return {
        **turn_body(turn, lane_items, selectors.facts_with_items(session, lane_items)),
        "state_version": session.state_version,
    }


@extend_schema(
    methods=["GET"],
    operation_id="v1_ai_sessions_list",
    responses=schema.SessionPage,
    summary="List my sessions (and those I picked up), newest first, cursor-paginated",
)
@extend_schema(
    methods=["POST"],
    request=CreateSessionSerializer,
    responses={201: schema.SessionCreatedSerializer},
    summary="Start a session with its first turn",
)
@api_view(["GET", "POST"])
@permission_classes(READ_OR_WRITE)
def session_list(request: Request) -> Response:
    user = _user(request)
    if request.method == "GET":
        page = pagination.page_request(request)
        rows = selectors.my_sessions_page(
            user,
            limit=page.limit + 1,
            after=page.cursor.after("updated_at") if page.cursor else None,
        )
        return Response(
            pagination.paginated_body(
                request, rows, page, lambda shown: SessionSerializer(shown, many=True).data
            )
        )
    serializer = CreateSessionSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    started = sessions.start_session(
        user=user,
        problem=serializer.validated_data["problem"],
        psa_ticket_id=serializer.validated_data["psa_ticket_id"],
        answer=True,
    )
    session = started.session
    body = {
        "turn": _turn(session, started.turn) if started.turn else None,
        "reply_error": started.reply_error.as_dict() if started.reply_error else None,
    }
    return Response({**_detail(session), **body}, status=status.HTTP_201_CREATED)


@extend_schema(
    request=LinkTicketSerializer,
    responses=schema.SessionDetailSerializer,
    summary="Session detail · link a PSA ticket",
)
@api_view(["GET", "PATCH"])
@permission_classes(READ_OR_WRITE)
def session_detail(request: Request, session_id: int) -> Response:
    if request.method == "GET":
        return Response(_detail(get_session(_user(request), session_id)))
    session = get_session(_user(request), session_id, for_write=True)
    serializer = LinkTicketSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    sessions.link_ticket(session=session, psa_ticket_id=serializer.validated_data["psa_ticket_id"])
    return Response(_detail(session))


def _queued(exc: chat.ReplyQueued) -> Response:
    return Response(queued_body(exc.user_step, exc.detail), status=status.HTTP_202_ACCEPTED)


@extend_schema(
    request=MessageSerializer,
    responses={201: schema.TurnSerializer, 202: schema.QueuedTurnSerializer},
    summary=(
        "One chat turn (content: 1–8,000 characters): the message queues behind replies being "
        "written and gets its own reply (201); 202 when the queue outlasted the wait; 502 keeps "
        "the message for retry"
    ),
)
@api_view(["POST"])
@permission_classes(WRITE)
def messages(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True)
    serializer = MessageSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        turn = chat.send_message(
            session=session, user=_user(request), content=serializer.validated_data["content"]
        )
    except chat.ReplyQueued as exc:
        return _queued(exc)
    return Response(_turn(session, turn), status=status.HTTP_201_CREATED)


@extend_schema(
    request=None,
    responses={201: schema.TurnSerializer, 202: schema.QueuedTurnSerializer},
    summary="Answer the oldest message without a reply (a failed or abandoned turn)",
)
@api_view(["POST"])
@permission_classes(WRITE)
def retry(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True)
    try:
        turn = chat.retry_reply(session=session)
    except chat.ReplyQueued as exc:
        return _queued(exc)
    return Response(_turn(session, turn), status=201)


@extend_schema(methods=["GET"], responses=schema.FactPage, summary="What we know")
@extend_schema(
    methods=["POST"],
    request=FactTextSerializer,
    responses={201: FactSerializer},
    summary="Add a note to What we know",
)
@api_view(["GET", "POST"])
@permission_classes(READ_OR_WRITE)
def fact_list(request: Request, session_id: int) -> Response:
    if request.method == "GET":
        session = get_session(_user(request), session_id)
        # One page: a session's facts are few. The envelope is the same as every list's.
        rows = selectors.facts_with_items(session)
        return Response({"results": FactSerializer(rows, many=True).data, "next": None})
    session = get_session(_user(request), session_id, for_write=True)
    serializer = FactTextSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    fact = facts.add_note(
        session=session, user=_user(request), text=serializer.validated_data["text"]
    )
    return Response(FactSerializer(fact).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=FactTextSerializer,
    responses={200: FactSerializer, 204: None},
    summary="Edit · delete a fact",
)
@api_view(["PATCH", "DELETE"])
@permission_classes(WRITE)
def fact_detail(request: Request, session_id: int, fact_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True)
    fact = selectors.get_fact(session, fact_id)
    if request.method == "DELETE":
        facts.delete_fact(session=session, fact=fact)
        return Response(status=status.HTTP_204_NO_CONTENT)
    serializer = FactTextSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    fact = facts.update_fact(session=session, fact=fact, text=serializer.validated_data["text"])
    return Response(FactSerializer(fact).data)


@extend_schema(
    request=PromoteSerializer,
    responses={201: FactSerializer},
    summary="Promote a question or check (text given, or synthesised; nothing synthesised → 422)",
)
@api_view(["POST"])
@permission_classes(WRITE)
def promote(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True)
    serializer = PromoteSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    item = selectors.get_lane_item(session, str(data["task_item_id"]))
    fact = facts.promote_item(
        session=session,
        user=_user(request),
        item=item,
        text=data.get("text"),
        answer=data.get("answer"),
    )
    return Response(FactSerializer(fact).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=None,
    responses=schema.SessionDetailSerializer,
    summary="Reopen a resolved session (reason required)",
)
@api_view(["POST"])
@permission_classes(WRITE)
def reopen(request: Request, session_id: int) -> Response:
    session = get_session(_user(request), session_id, for_write=True, allow_closed=True)
    data = request.data if isinstance(request.data, dict) else {}
    reason = data.get("reason")
    session = sessions.reopen_session(
        session=session, actor=_user(request), reason=reason if isinstance(reason, str) else ""
    )
    return Response(_detail(session))
