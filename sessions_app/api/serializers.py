"""Request and response shapes of the sessions, messages and facts endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.models import AISession, AISessionStep, Fact, TaskItem
from sessions_app.services.chat import MESSAGE_LIMIT, TurnResult
from sessions_app.services.facts import FACT_LIMIT


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


def turn_body(turn: TurnResult, lane: list[TaskItem], facts: list[Fact]) -> dict[str, Any]:
    return {
        "user_step": StepSerializer(turn.user_step).data,
        "assistant_step": StepSerializer(turn.assistant_step).data,
        "lane": TaskItemSerializer(lane, many=True).data,
        "facts": FactSerializer(facts, many=True).data,
        "facts_added": [fact.pk for fact in turn.facts],
        "fix_id": turn.fix.pk if turn.fix else None,
        "outcome_proposed": turn.outcome_proposed,
        "marker_errors": turn.assistant_step.marker_errors,
        "duplicate": turn.duplicate,
    }
