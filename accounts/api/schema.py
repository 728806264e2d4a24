"""
Response shapes of the accounts API (tokens, preferences, security policy, people) and its
bearer-token security scheme. They
document the plain dicts the services build; ``flowpilot/tests/test_api_schema.py`` validates
real responses against them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import serializers

from flowpilot.schema import page_of

Body = serializers.Serializer[dict[str, Any]]


class PolicyJWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]  # untyped library
    """The API's bearer access token (``Authorization: Bearer <access>``) in the schema."""

    target_class = "accounts.authentication.PolicyJWTAuthentication"


class TokenUserSerializer(Body):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()


class TokenPairSerializer(Body):
    access = serializers.CharField()
    refresh = serializers.CharField()
    idle_expires_at = serializers.DateTimeField()
    absolute_expires_at = serializers.DateTimeField()
    user = TokenUserSerializer()


class PreferencesSerializer(Body):
    templatize_prompt_enabled = serializers.BooleanField()
    cw_resolved_status_id = serializers.IntegerField(allow_null=True)
    cw_escalated_status_id = serializers.IntegerField(allow_null=True)
    slack_webhook_url = serializers.CharField(
        allow_null=True, help_text="Masked (host only) for managers, “(set)” for others."
    )
    teams_webhook_url = serializers.CharField(
        allow_null=True, help_text="Masked (host only) for managers, “(set)” for others."
    )


class PolicyMinutesSerializer(Body):
    idle_minutes = serializers.IntegerField()
    absolute_minutes = serializers.IntegerField()


class PresetSerializer(Body):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    idle_minutes = serializers.IntegerField(allow_null=True, help_text="Null for Custom.")
    absolute_minutes = serializers.IntegerField(allow_null=True, help_text="Null for Custom.")
    guidance = serializers.CharField()


class BoundSerializer(Body):
    min = serializers.IntegerField()
    max = serializers.IntegerField()


class PolicyBoundsSerializer(Body):
    idle_minutes = BoundSerializer()
    absolute_minutes = BoundSerializer()


class ActiveUserSerializer(Body):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    last_login_at = serializers.DateTimeField(allow_null=True)


class DeviceUserSerializer(Body):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class DeviceSerializer(Body):
    id = serializers.IntegerField()
    user = DeviceUserSerializer()
    kind = serializers.CharField()
    device = serializers.CharField()
    ip_address = serializers.CharField(allow_null=True)
    signed_in_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    this_device = serializers.BooleanField()


class SecuritySerializer(Body):
    idle_minutes = serializers.IntegerField(allow_null=True, help_text="Null: the default.")
    absolute_minutes = serializers.IntegerField(allow_null=True, help_text="Null: the default.")
    effective = PolicyMinutesSerializer()
    preset = serializers.ChoiceField(choices=["strict", "standard", "custom"])
    presets = PresetSerializer(many=True)
    bounds = PolicyBoundsSerializer()
    active_users = ActiveUserSerializer(many=True)
    active_sessions = DeviceSerializer(many=True)


class RevokedSessionsSerializer(Body):
    scope = serializers.CharField()
    revoked_count = serializers.IntegerField()


class RevokedDeviceSerializer(Body):
    id = serializers.IntegerField()
    revoked = serializers.BooleanField()


class PersonSerializer(Body):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()
    invitation_pending = serializers.BooleanField()
    invited_at = serializers.DateTimeField(allow_null=True)
    last_login_at = serializers.DateTimeField(allow_null=True)


PersonPage = page_of(PersonSerializer, "PersonPage")


# Request bodies (documentation only: the services validate what is sent).
class SecurityChangeSerializer(Body):
    idle_minutes = serializers.IntegerField(required=False, allow_null=True)
    absolute_minutes = serializers.IntegerField(required=False, allow_null=True)


class RevokeScopeSerializer(Body):
    scope = serializers.ChoiceField(choices=["all", "others"], required=False, default="all")


class InviteSerializer(Body):
    email = serializers.EmailField()
    name = serializers.CharField(required=False)
    role = serializers.CharField(required=False, default="engineer")


class PersonChangeSerializer(Body):
    name = serializers.CharField(required=False)
    role = serializers.CharField(required=False)
    is_active = serializers.BooleanField(required=False)
