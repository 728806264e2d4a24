"""Request and response shapes of the suggested-fix, preview and post endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.models import FixDecision, SuggestedFix
from sessions_app.services.fixes import OUTCOMES, TEXT_LIMIT


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as "" when unset, answered (and documented) as null."""

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class SuggestedFixSerializer(serializers.ModelSerializer[SuggestedFix]):
    decision = BlankAsNullChoiceField(
        choices=FixDecision.choices,
        allow_null=True,
        read_only=True,
        help_text="The engineer's decision; null while undecided.",
    )
    is_active = serializers.SerializerMethodField()
    verifying = serializers.SerializerMethodField()

    class Meta:
        model = SuggestedFix
        fields = [
            "id",
            "session",
            "title",
            "description",
            "confidence",
            "script",
            "parameters",
            "template_id",
            "status",
            "decision",
            "decided_at",
            "applied_at",
            "verified_at",
            "partial_notes",
            "failure_reason",
            "pending_reason",
            "ai_outcome_proposal",
            "reused_from",
            "superseded_at",
            "created_at",
            "updated_at",
            "is_active",
            "verifying",
        ]
        read_only_fields = fields

    def get_is_active(self, fix: SuggestedFix) -> bool:
        return fix.superseded_at is None

    def get_verifying(self, fix: SuggestedFix) -> bool:
        """Applied, no outcome yet: the card asks "did it work?"."""
        return fix.status == "proposed" and fix.applied_at is not None


class OutcomeSerializer(serializers.Serializer[dict[str, Any]]):
    """
    The outcome with the fix's own field names (``failure_reason``, ``partial_notes``,
    ``pending_reason``); ``notes`` and ``reason`` are accepted as short aliases of the last two.
    Only the shape is read here: the rules (notes or reason required, lengths) are
    ``fixes.record_outcome``'s, the one validator the page uses too (422 with ``errors``).
    """

    outcome = serializers.ChoiceField(choices=[str(o) for o in OUTCOMES])
    failure_reason = serializers.CharField(required=False, allow_blank=True, default="")
    partial_notes = serializers.CharField(required=False, allow_blank=True, default="")
    pending_reason = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Alias of partial_notes.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Alias of pending_reason.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["notes"] = attrs.pop("partial_notes") or attrs["notes"]
        attrs["reason"] = attrs.pop("pending_reason") or attrs["reason"]
        return attrs


class PreviewRequestSerializer(serializers.Serializer[dict[str, Any]]):
    refresh = serializers.BooleanField(required=False, default=False)


class PostSerializer(serializers.Serializer[dict[str, Any]]):
    markdown = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False, default=""
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_LIMIT, default=""
    )
