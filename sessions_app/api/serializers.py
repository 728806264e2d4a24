"""Request and response shapes of the sessions, messages and facts endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.models import AISession, AISessionStep, Fact, TaskItem
from sessions_app.services.chat import TurnResult
from sessions_app.services.facts import FACT_LIMIT
from sessions_app.services.steps import MESSAGE_LIMIT


class SessionSerializer(serializers.ModelSerializer[AISession]):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = AISession
        fields = [
            "id",
            "problem_summary",
            "status",
            "psa_ticket_id",
            "owner",
            "escalated_to",
            "state_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_owner(self, session: AISession) -> dict[str, Any]:
        return {"id": session.user_id, "name": session.user.display_name}


class StepSerializer(serializers.ModelSerializer[AISessionStep]):
    class Meta:
        model = AISessionStep
        fields = [
            "id",
            "role",
            "content",
            "provider",
            "model",
            "input_tokens",
            "output_tokens",
            "marker_errors",
            "reply_to",
            "created_at",
        ]
        read_only_fields = fields


class TaskItemSerializer(serializers.ModelSerializer[TaskItem]):
    class Meta:
        model = TaskItem
        fields = ["uid", "kind", "text", "command", "status", "answer", "position"]
        read_only_fields = fields


class FactSerializer(serializers.ModelSerializer[Fact]):
    editable = serializers.BooleanField(read_only=True)
    task_item_id = serializers.SerializerMethodField()

    class Meta:
        model = Fact
        fields = ["id", "text", "source", "editable", "task_item_id", "created_at", "updated_at"]
        read_only_fields = fields

    def get_task_item_id(self, fact: Fact) -> str | None:
        # The lane item's stable uid (what promote takes), not the row id.
        return str(fact.task_item.uid) if fact.task_item_id and fact.task_item else None


class CreateSessionSerializer(serializers.Serializer[dict[str, Any]]):
    problem = serializers.CharField(max_length=MESSAGE_LIMIT)
    psa_ticket_id = serializers.CharField(
        max_length=33, required=False, allow_blank=True, default=""
    )


class LinkTicketSerializer(serializers.Serializer[dict[str, Any]]):
    psa_ticket_id = serializers.CharField(max_length=33, allow_blank=True)


class MessageSerializer(serializers.Serializer[dict[str, Any]]):
    content = serializers.CharField(
        max_length=MESSAGE_LIMIT,
        help_text=f"The engineer's message, 1 to {MESSAGE_LIMIT:,} characters.",
    )


class FactTextSerializer(serializers.Serializer[dict[str, Any]]):
    text = serializers.CharField(max_length=FACT_LIMIT)


class PromoteSerializer(serializers.Serializer[dict[str, Any]]):
    task_item_id = serializers.UUIDField(help_text="The lane item's uid.")
    text = serializers.CharField(
        max_length=FACT_LIMIT,
        required=False,
        allow_blank=True,
        help_text="The fact as written; omit to have the light model tier synthesise it.",
    )
    answer = serializers.CharField(max_length=4000, required=False, allow_blank=True)


# The chat turn is the hot path: its answer is built from plain dicts (the same shapes as the
# serializers above, which document them) instead of constructing DRF fields on every request.
_datetime = serializers.DateTimeField()


def _step_dict(step: AISessionStep) -> dict[str, Any]:
    return {
        "id": step.pk,
        "role": step.role,
        "content": step.content,
        "provider": step.provider,
        "model": step.model,
        "input_tokens": step.input_tokens,
        "output_tokens": step.output_tokens,
        "marker_errors": step.marker_errors,
        # An assistant step: the id of the engineer's step it answers.
        "reply_to": step.reply_to_id,
        "created_at": _datetime.to_representation(step.created_at),
    }


def _task_dict(item: TaskItem) -> dict[str, Any]:
    return {
        "uid": str(item.uid),
        "kind": item.kind,
        "text": item.text,
        "command": item.command,
        "status": item.status,
        "answer": item.answer,
        "position": item.position,
    }


def _fact_dict(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.pk,
        "text": fact.text,
        "source": fact.source,
        "editable": fact.editable,
        "task_item_id": str(fact.task_item.uid) if fact.task_item_id and fact.task_item else None,
        "created_at": _datetime.to_representation(fact.created_at),
        "updated_at": _datetime.to_representation(fact.updated_at),
    }


def queued_body(step: AISessionStep, detail: str) -> dict[str, Any]:
    """A message saved and queued behind earlier replies: no reply yet (202)."""
    return {
        "user_step": _step_dict(step),
        "reply": None,
        "queued": True,
        "detail": detail,
        "code": "queued",
    }


def turn_body(turn: TurnResult, lane: list[TaskItem], facts: list[Fact]) -> dict[str, Any]:
    return {
        "user_step": _step_dict(turn.user_step),
        "assistant_step": _step_dict(turn.assistant_step),
        "lane": [_task_dict(item) for item in lane],
        "facts": [_fact_dict(fact) for fact in facts],
        "facts_added": [fact.pk for fact in turn.facts],
        "fix_id": turn.fix.pk if turn.fix else None,
        "outcome_proposed": turn.outcome_proposed,
        "marker_errors": turn.assistant_step.marker_errors,
        "duplicate": turn.duplicate,
    }
