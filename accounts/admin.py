from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_base import TenantScopedAdmin, _user
from accounts.models import Account, AuditEvent, LoginSession, RefreshToken, User


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        qs = super().get_queryset(request)
        user = _user(request)
        return qs if user.is_super_admin else qs.filter(pk=user.account_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _user(request).is_super_admin

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _user(request).is_super_admin


@admin.register(User)
class UserAdmin(TenantScopedAdmin):
    list_display = ("email", "name", "role", "account", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "name")
    readonly_fields = ("last_login", "date_joined", "password")
    ordering = ("email",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["email", "name", "role", "is_active", "account", "last_login", "date_joined"]
        if _user(request).is_super_admin:
            fields.append("is_super_admin")
        else:
            fields.remove("account")
        return fields


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdmin):
    list_display = ("created_at", "type", "actor", "account", "ip_address")
    list_filter = ("type",)
    search_fields = ("type", "actor__email")
    readonly_fields = (
        "account",
        "actor",
        "type",
        "payload",
        "ip_address",
        "dedupe_key",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = _user(request)
        return user.is_super_admin or user.is_owner


class _SessionRecordAdmin(TenantScopedAdmin):
    """Session records are written by the policy machinery only; owners read them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _user(request).is_owner


@admin.register(LoginSession)
class LoginSessionAdmin(_SessionRecordAdmin):
    list_display = ("user", "auth_time", "last_activity_at", "absolute_expires_at", "revoked_at")
    list_filter = ("revoked_reason",)
    search_fields = ("user__email",)
    exclude = ("session_key",)


@admin.register(RefreshToken)
class RefreshTokenAdmin(_SessionRecordAdmin):
    list_display = ("user", "issued_at", "expires_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("user__email",)
    exclude = ("jti",)
