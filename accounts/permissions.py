"""Role checks for pages (decorators) and the API (DRF permission classes)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import User

ENGINEER_OR_ADMIN_REQUIRED = "Engineer or admin access required"
OWNER_REQUIRED = "Account owner access required"

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def require_engineer_or_admin(user: User) -> None:
    if not user.can_act:
        raise PermissionDenied(ENGINEER_OR_ADMIN_REQUIRED)


def require_owner(user: User) -> None:
    if not user.is_owner:
        raise PermissionDenied(OWNER_REQUIRED)


def engineer_or_admin_required(view: V) -> V:
    """Page decorator: signed in, and engineer, admin, owner or super_admin."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        require_engineer_or_admin(cast(User, request.user))
        return view(request, *args, **kwargs)

    return cast(V, wrapper)


def owner_required(view: V) -> V:
    """Page decorator: signed in as the account owner (or super_admin)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        require_owner(cast(User, request.user))
        return view(request, *args, **kwargs)

    return cast(V, wrapper)


class IsEngineerOrAdmin(BasePermission):
    message = ENGINEER_OR_ADMIN_REQUIRED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.can_act)


class IsEngineerOrAdminForWrites(BasePermission):
    """Any member reads; only engineers and up change anything."""

    message = ENGINEER_OR_ADMIN_REQUIRED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.can_act


class IsOwner(BasePermission):
    message = OWNER_REQUIRED

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_owner)
