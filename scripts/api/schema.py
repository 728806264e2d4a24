"""
Response shapes of the script-library API that are not one model: list envelopes, a
generated script, the safety review and a fix decision. They document the plain dicts the
services build; ``flowpilot/tests/test_api_schema.py`` validates real responses against them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from flowpilot.schema import page_of
from scripts.api.serializers import (
    CategorySerializer,
    DraftSerializer,
    TemplateSerializer,
)
from sessions_app.api.fix_serializers import SuggestedFixSerializer
from sessions_app.models import FixDecision

Body = serializers.Serializer[dict[str, Any]]


TemplateListSerializer = page_of(TemplateSerializer, "TemplatePage")
CategoryListSerializer = page_of(CategorySerializer, "CategoryPage")
DraftListSerializer = page_of(DraftSerializer, "DraftPage")


class FindingSerializer(Body):
    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "high"])
    line = serializers.IntegerField()
    message = serializers.CharField()


class ReviewResultSerializer(Body):
    parses = serializers.BooleanField()
    findings = FindingSerializer(many=True)


class GeneratedSerializer(Body):
    script = serializers.CharField(allow_blank=True)
    review = ReviewResultSerializer()
    generation_id = serializers.IntegerField()
    template_id = serializers.IntegerField(allow_null=True)
    parameters = serializers.JSONField(help_text="The values used, sensitive ones redacted.")
    sha256 = serializers.CharField()


class DecisionResultSerializer(Body):
    decision = serializers.ChoiceField(choices=FixDecision.choices)
    fix_id = serializers.IntegerField()
    script = serializers.CharField(
        required=False, allow_blank=True, help_text="The script to copy (not when dismissed)."
    )
    draft_template_id = serializers.IntegerField(required=False)
    builder_url = serializers.CharField(required=False)
    generator_url = serializers.CharField(required=False)
    fix = SuggestedFixSerializer()
