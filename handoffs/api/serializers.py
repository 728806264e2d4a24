from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.services.resolution import REASON_LIMIT


class HandoffRequestSerializer(serializers.Serializer[dict[str, Any]]):
    intent = serializers.CharField(max_length=32)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_LIMIT, default=""
    )
    target_user_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    markdown = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False, default=""
    )


class EscalateRequestSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_LIMIT, default=""
    )
    target_user_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    markdown = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False, default=""
    )
