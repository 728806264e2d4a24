"""
Response shapes of the hand-off API: a hand-off, its creation and claim, the queue, the bell
and the escalation metric. They document the plain dicts the services build;
``flowpilot/tests/test_api_schema.py`` validates real responses against them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from handoffs.models import AssessmentStatus, HandoffIntent, NotificationKind
from handoffs.selectors import PERIODS

Body = serializers.Serializer[dict[str, Any]]


class HandoffSerializer(Body):
    id = serializers.UUIDField()
    session_id = serializers.IntegerField()
    intent = serializers.ChoiceField(choices=HandoffIntent.choices)
    from_user_id = serializers.IntegerField()
    target_user_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    psa_ticket_id = serializers.CharField(allow_null=True)
    claimed_by_id = serializers.IntegerField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    assessment_status = serializers.ChoiceField(choices=AssessmentStatus.choices)
    ai_assessment = serializers.JSONField(
        allow_null=True, help_text="The AI assessment once ready (summary, suggested steps)."
    )
    created_at = serializers.DateTimeField()
    url = serializers.CharField()


class HandoffCreatedSerializer(HandoffSerializer):
    status = serializers.CharField(help_text="The session's status after the hand-off.")
    state_version = serializers.IntegerField()
    markdown = serializers.CharField(allow_blank=True)
    notified = serializers.IntegerField(help_text="How many people were notified.")
    psa = serializers.JSONField(allow_null=True, help_text="The PSA write-back, when linked.")


class PersonRefSerializer(Body):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ClaimSerializer(Body):
    id = serializers.UUIDField()
    session_id = serializers.IntegerField()
    claimed_by = PersonRefSerializer()
    claimed_at = serializers.DateTimeField()
    already_yours = serializers.BooleanField()
    url = serializers.CharField()


class QueueItemSerializer(HandoffSerializer):
    problem_summary = serializers.CharField(allow_blank=True)
    from_user = PersonRefSerializer()
    target_user = PersonRefSerializer(allow_null=True)
    unread = serializers.BooleanField()


class QueuePageSerializer(Body):
    results = QueueItemSerializer(many=True)
    next = serializers.URLField(
        allow_null=True, help_text="The next page (cursor link), null on the last."
    )
    next_cursor = serializers.CharField(allow_null=True, help_text="The cursor of ``next``.")


class NotificationSerializer(Body):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    link = serializers.CharField(allow_blank=True)
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class NotificationsSerializer(Body):
    unread = serializers.IntegerField()
    results = NotificationSerializer(many=True)


class ReadAllSerializer(Body):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class DailyMedianSerializer(Body):
    day = serializers.DateField()
    median_seconds = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()


class EscalationMetricsSerializer(Body):
    period = serializers.ChoiceField(choices=list(PERIODS))
    since = serializers.DateTimeField()
    n_handoffs_claimed = serializers.IntegerField()
    n_handoffs_with_action = serializers.IntegerField()
    avg_seconds = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True)
    p95_seconds = serializers.FloatField(allow_null=True)
    daily_median_seconds = DailyMedianSerializer(many=True)
    metric_definition = serializers.CharField()
