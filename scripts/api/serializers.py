from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scripts.models import DraftTemplate, ScriptBuilderSession, ScriptCategory, ScriptTemplate
from scripts.services.library import BODY_LIMIT
from sessions_app.models import FixDecision


class CategorySerializer(serializers.ModelSerializer[ScriptCategory]):
    class Meta:
        model = ScriptCategory
        fields = ["id", "name", "slug"]


class ProvenanceSerializer(serializers.Serializer[dict[str, Any]]):
    session_id = serializers.IntegerField(allow_null=True)
    ticket = serializers.CharField(allow_null=True)
    resolved_by = serializers.CharField(allow_null=True)


def provenance(template: ScriptTemplate) -> dict[str, Any] | None:
    if template.source_session_id is None and not template.source_ticket:
        return None
    return {
        "session_id": template.source_session_id,
        "ticket": template.source_ticket or None,
        "resolved_by": template.source_user.display_name if template.source_user else None,
    }


class TemplateSerializer(serializers.ModelSerializer[ScriptTemplate]):
    category = CategorySerializer(read_only=True, allow_null=True)
    parameters = serializers.JSONField(source="parameters_schema", read_only=True)
    provenance = serializers.SerializerMethodField()

    class Meta:
        model = ScriptTemplate
        fields = [
            "id",
            "name",
            "description",
            "category",
            "body",
            "parameters",
            "provenance",
            "is_starter",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(ProvenanceSerializer(allow_null=True))
    def get_provenance(self, template: ScriptTemplate) -> dict[str, Any] | None:
        return provenance(template)


class TemplateWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=BODY_LIMIT, trim_whitespace=False)
    parameters = serializers.JSONField(required=False)
    category_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class TemplatePatchSerializer(TemplateWriteSerializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(max_length=BODY_LIMIT, trim_whitespace=False, required=False)
    parameters = serializers.JSONField(required=False)
    category_id = serializers.IntegerField(required=False, allow_null=True)


class GenerateSerializer(serializers.Serializer[Any]):
    template_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    parameters = serializers.DictField(required=False, default=dict)
    ai_session_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1
    )


class ReviewSerializer(serializers.Serializer[Any]):
    script = serializers.CharField(max_length=BODY_LIMIT, trim_whitespace=False, allow_blank=True)


class DraftSerializer(serializers.ModelSerializer[DraftTemplate]):
    category = CategorySerializer(read_only=True, allow_null=True)
    session_id = serializers.IntegerField(read_only=True)
    fix_id = serializers.IntegerField(read_only=True, allow_null=True)
    promoted_template_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = DraftTemplate
        fields = [
            "id",
            "session_id",
            "fix_id",
            "name",
            "description",
            "category",
            "body",
            "templated_body",
            "proposed_parameters",
            "status",
            "promoted_template_id",
            "created_at",
            "resolved_at",
        ]


class AcceptDraftSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(max_length=BODY_LIMIT, trim_whitespace=False, required=False)
    parameters = serializers.JSONField(required=False)
    category_id = serializers.IntegerField(required=False, allow_null=True)


class BuilderSessionCreateSerializer(serializers.Serializer[Any]):
    origin = serializers.ChoiceField(choices=["standalone", "pilot_inline"])
    ai_session_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1
    )
    fix_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1
    )
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    body = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=BODY_LIMIT
    )


class DecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=FixDecision.values)
    script = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=BODY_LIMIT
    )
    parameters = serializers.DictField(required=False, child=serializers.JSONField())


class FixDraftSerializer(serializers.Serializer[Any]):
    script = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default="", max_length=BODY_LIMIT
    )
    parameters = serializers.JSONField(required=False, default=None)


class BuilderSessionSerializer(serializers.ModelSerializer[ScriptBuilderSession]):
    ai_session_id = serializers.IntegerField(read_only=True, allow_null=True)
    fix_id = serializers.IntegerField(read_only=True, allow_null=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ScriptBuilderSession
        fields = [
            "id",
            "origin",
            "ai_session_id",
            "fix_id",
            "name",
            "body",
            "parameters",
            "url",
            "created_at",
            "updated_at",
        ]
