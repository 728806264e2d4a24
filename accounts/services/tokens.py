"""Minting API tokens: the one place a token pair is made, for every kind of login."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


def user_payload(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "name": user.display_name, "role": user.role}


def issue_token_pair(user: User) -> dict[str, Any]:
    refresh = RefreshToken.for_user(user)
    return {
        "access": str(refresh.access_token),
        "refresh": str(refresh),
        "user": user_payload(user),
    }
