"""
Response shapes of the memory API (similar sessions, search, a reused fix). They document the
plain dicts the selectors build; ``flowpilot/tests/test_api_schema.py`` validates real
responses against them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.api.fix_serializers import SuggestedFixSerializer
from sessions_app.models import FixStatus

Body = serializers.Serializer[dict[str, Any]]


class ResolverSerializer(Body):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FailedFixSerializer(Body):
    title = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)


class MatchSerializer(Body):
    session_id = serializers.IntegerField()
    problem = serializers.CharField(allow_blank=True, help_text="The problem's first line.")
    outcome = serializers.ChoiceField(choices=FixStatus.choices, allow_null=True)
    fix_title = serializers.CharField(allow_null=True)
    resolved_by = ResolverSerializer(allow_null=True)
    resolved_at = serializers.DateTimeField()
    score = serializers.FloatField()
    why = serializers.ListField(child=serializers.CharField(), help_text="Why it matched.")
    ticket = serializers.CharField(allow_null=True)
    failed_fixes = FailedFixSerializer(many=True)


class SimilarSerializer(Body):
    results = MatchSerializer(many=True)


class SearchPageSerializer(Body):
    results = MatchSerializer(many=True)
    next = serializers.URLField(
        allow_null=True, help_text="The next page (cursor link), null on the last."
    )
    next_cursor = serializers.CharField(allow_null=True, help_text="The cursor of ``next``.")
    corrections = serializers.DictField(
        child=serializers.CharField(), help_text="Misspelt word → the term searched instead."
    )


class ReusedFixSerializer(SuggestedFixSerializer):
    state_version = serializers.IntegerField(help_text="The session's, after the proposal.")

    class Meta(SuggestedFixSerializer.Meta):
        fields = [*SuggestedFixSerializer.Meta.fields, "state_version"]
        read_only_fields = fields
