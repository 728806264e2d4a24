from __future__ import annotations

from typing import Any

from rest_framework import serializers

from psa.models import Provider


class IntegrationSerializer(serializers.Serializer[Any]):
    provider = serializers.ChoiceField(choices=Provider.choices)
    site = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    company_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    public_key = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True, max_length=200
    )
    private_key = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True, max_length=200
    )
    client_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class TicketQuerySerializer(serializers.Serializer[Any]):
    board = serializers.IntegerField(required=False, min_value=1)
    status = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    assignee = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    open = serializers.BooleanField(required=False, default=True)
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000)
    page_size = serializers.IntegerField(required=False, default=25, min_value=1, max_value=100)


class NewTicketSerializer(serializers.Serializer[Any]):
    summary = serializers.CharField(max_length=100)
    board_id = serializers.IntegerField(min_value=1)
    company_id = serializers.IntegerField(min_value=1)
    status_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    priority_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    initial_description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000
    )


class MemberSerializer(serializers.Serializer[Any]):
    member = serializers.CharField(max_length=64)
