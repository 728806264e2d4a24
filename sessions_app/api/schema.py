"""
Response shapes of the sessions API that are not one model: the detail, the chat turn, the
list envelopes, previews and posts. They document the bodies the views build (the turn is
built from plain dicts on the hot path); ``flowpilot/tests/test_api_schema.py`` validates real
responses against them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from flowpilot.schema import ErrorSerializer, page_of
from sessions_app.api.serializers import (
    FactSerializer,
    SessionSerializer,
    StepSerializer,
    TaskItemSerializer,
)

SessionPage = page_of(SessionSerializer, "SessionPage")
FactPage = page_of(FactSerializer, "FactPage")


class SessionDetailSerializer(SessionSerializer):
    steps = StepSerializer(many=True)
    lane = TaskItemSerializer(many=True)
    facts = FactSerializer(many=True)
    active_fix_id = serializers.IntegerField(allow_null=True)
    awaiting_reply = serializers.BooleanField()

    class Meta(SessionSerializer.Meta):
        fields = [
            *SessionSerializer.Meta.fields,
            "steps",
            "lane",
            "facts",
            "active_fix_id",
            "awaiting_reply",
        ]
        read_only_fields = fields


class TurnSerializer(serializers.Serializer[dict[str, Any]]):
    user_step = StepSerializer()
    assistant_step = StepSerializer()
    lane = TaskItemSerializer(many=True)
    facts = FactSerializer(many=True)
    facts_added = serializers.ListField(child=serializers.IntegerField())
    fix_id = serializers.IntegerField(allow_null=True)
    outcome_proposed = serializers.BooleanField()
    marker_errors = serializers.JSONField()
    duplicate = serializers.BooleanField()
    state_version = serializers.IntegerField()


class QueuedTurnSerializer(serializers.Serializer[dict[str, Any]]):
    """202: the message is saved and queued behind earlier replies; it will be answered."""

    user_step = StepSerializer()
    reply = serializers.JSONField(
        allow_null=True,
        help_text="Always null: the reply is not written yet; it joins the session's steps.",
    )
    queued = serializers.BooleanField(help_text="Always true.")
    detail = serializers.CharField()
    code = serializers.CharField(help_text="queued")


class ReplyErrorSerializer(ErrorSerializer):
    user_step_id = serializers.IntegerField()
    retry = serializers.BooleanField()


class SessionCreatedSerializer(SessionDetailSerializer):
    turn = TurnSerializer(allow_null=True, help_text="The first reply, or null when it failed.")
    reply_error = ReplyErrorSerializer(
        allow_null=True, help_text="Why the first reply failed (retry it); null on success."
    )

    class Meta(SessionDetailSerializer.Meta):
        fields = [*SessionDetailSerializer.Meta.fields, "turn", "reply_error"]
        read_only_fields = fields


class PreviewSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=["resolution_note", "escalation_package"])
    markdown = serializers.CharField()
    from_cache = serializers.BooleanField()
    state_version = serializers.IntegerField()


class PostResultSerializer(serializers.Serializer[dict[str, Any]]):
    outcome = serializers.CharField()
    session_id = serializers.IntegerField()
    status = serializers.CharField()
    markdown = serializers.CharField()
    state_version = serializers.IntegerField()
    psa = serializers.JSONField(required=False, help_text="The PSA write-back, when linked.")
    resolved_at = serializers.DateTimeField(required=False)
    escalated_at = serializers.DateTimeField(required=False)
    escalation_reason = serializers.CharField(required=False)
