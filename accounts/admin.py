from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_base import ReadOnlyOwnerAdmin, TenantScopedAdmin, _user
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Policy minutes and preferences have their own validated, audited paths (the security
        # page and the preferences API); admin must not bypass them.
        if _user(request).is_super_admin:
            return ()
        return ("slug", "preferences", "idle_minutes", "absolute_minutes", "created_at")


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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        # Only the owner hands out roles: an admin must not promote themselves to owner.
        if not _user(request).is_owner:
            readonly.append("role")
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = _user(request)
        if obj is not None and obj.role == "owner" and not user.is_owner:
            return False
        return super().has_change_permission(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyOwnerAdmin):
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


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyOwnerAdmin):
    list_display = ("user", "auth_time", "last_activity_at", "absolute_expires_at", "revoked_at")
    list_filter = ("revoked_reason",)
    search_fields = ("user__email",)
    exclude = ("session_key",)


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyOwnerAdmin):
    list_display = ("user", "issued_at", "expires_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("user__email",)
    exclude = ("jti",)


# Django's global auth groups are not tenant data; FlowPilot roles live on the user.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
