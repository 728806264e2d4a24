"""API authentication: simplejwt access tokens, refused once their user was signed out."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from accounts.services import tokens


class PolicyJWTAuthentication(JWTAuthentication):
    """
    Access tokens are stateless and live 5 minutes; "sign everyone out" should not leave them
    working until then. The user row is loaded anyway, so comparing the token's ``iat`` with the
    user's ``sessions_valid_after`` costs nothing.
    """

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        valid_after = getattr(user, "sessions_valid_after", None)
        issued = validated_token.get("iat")
        # iat is whole seconds: only tokens from an earlier second are refused, so a login in
        # the same second as the revoke keeps working.
        if valid_after is not None and (
            not isinstance(issued, int) or issued < int(valid_after.timestamp())
        ):
            raise AuthenticationFailed("This session was signed out.", code="token_not_valid")
        # One device signed out (or its refresh token reused): its access tokens stop too.
        family_id = tokens.family_of(validated_token)
        if family_id is not None and tokens.family_is_revoked(family_id):
            raise AuthenticationFailed("This session was signed out.", code="token_not_valid")
        return user
