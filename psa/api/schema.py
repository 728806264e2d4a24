"""
Response shapes of the PSA API: the connection settings and its test, tickets (list page,
detail with notes), lookups and a ticket's members. They document the dicts the selectors
and ``psa.providers.base`` dataclasses make; ``flowpilot/tests/test_api_schema.py`` validates
real responses against them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from psa.models import Provider
from psa.providers.base import NoteKind

Body = serializers.Serializer[dict[str, Any]]


class LastTestSerializer(Body):
    ok = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()


class IntegrationSummarySerializer(Body):
    provider = serializers.ChoiceField(choices=Provider.choices)
    site = serializers.CharField(allow_blank=True)
    company_id = serializers.CharField(allow_blank=True)
    client_id = serializers.CharField(allow_blank=True)
    public_key_set = serializers.BooleanField()
    private_key_set = serializers.BooleanField()
    public_key_hint = serializers.CharField(allow_blank=True, help_text="Never the key itself.")
    is_simulator = serializers.BooleanField()
    last_test = LastTestSerializer(allow_null=True)


class ConnectionResultSerializer(Body):
    ok = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    company_name = serializers.CharField(allow_blank=True)
    codebase = serializers.CharField(allow_blank=True)
    details = serializers.DictField(child=serializers.CharField())


class RefSerializer(Body):
    id = serializers.IntegerField()
    name = serializers.CharField()
    identifier = serializers.CharField(allow_blank=True)


class TicketSerializer(Body):
    id = serializers.IntegerField()
    summary = serializers.CharField(allow_blank=True)
    board = RefSerializer(allow_null=True)
    status = RefSerializer(allow_null=True)
    priority = RefSerializer(allow_null=True)
    company = RefSerializer(allow_null=True)
    contact_name = serializers.CharField(allow_blank=True)
    resources = serializers.ListField(
        child=serializers.CharField(), help_text="Identifiers of the assigned members."
    )
    closed = serializers.BooleanField()
    initial_description = serializers.CharField(allow_blank=True)
    entered_at = serializers.CharField(allow_blank=True, help_text="As the PSA gives it.")
    updated_at = serializers.CharField(allow_blank=True, help_text="As the PSA gives it.")


class TicketPageSerializer(Body):
    results = TicketSerializer(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    last_page = serializers.IntegerField(allow_null=True)
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Lookups the PSA refused (the list still works)."
    )


class NoteSerializer(Body):
    id = serializers.IntegerField()
    text = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=[kind.value for kind in NoteKind])
    created_by = serializers.CharField(allow_blank=True)
    created_at = serializers.CharField(allow_blank=True, help_text="As the PSA gives it.")


class TicketDetailSerializer(TicketSerializer):
    notes = NoteSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class BoardSerializer(Body):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StatusSerializer(Body):
    id = serializers.IntegerField()
    name = serializers.CharField()
    board_id = serializers.IntegerField()
    closed = serializers.BooleanField()
    sort = serializers.IntegerField()


class PSAMemberSerializer(Body):
    id = serializers.IntegerField()
    identifier = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)


class ResourcesSerializer(Body):
    resources = serializers.ListField(child=serializers.CharField())
