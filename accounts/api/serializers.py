from __future__ import annotations

from rest_framework import serializers


class LoginSerializer(serializers.Serializer[dict[str, str]]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer[dict[str, str]]):
    refresh = serializers.CharField(max_length=4096)
