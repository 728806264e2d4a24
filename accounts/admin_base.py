"""
Django admin scoped to a tenant: owners and admins see and change only their own account's
rows; super_admin sees every account.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from accounts.models import Account, User


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


class TenantScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Base for every account-owned model: querysets, foreign keys and saves stay in the account."""

    account_field = "account"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        user = _user(request)
        if user.is_super_admin:
            return qs
        return qs.filter(**{self.account_field: user.account_id})

    def get_exclude(self, request: HttpRequest, obj: Model | None = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not _user(request).is_super_admin and self.account_field == "account":
            exclude.append("account")
        return exclude

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        user = _user(request)
        if not user.is_super_admin and self.account_field == "account":
            obj.account = user.account
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        user = _user(request)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is None or user.is_super_admin:
            return field
        related = db_field.related_model
        if related is Account:
            field.queryset = Account.objects.filter(pk=user.account_id)
        elif field.queryset is not None and any(
            f.name == "account" for f in related._meta.get_fields()
        ):
            field.queryset = field.queryset.filter(account_id=user.account_id)
        return field


class ReadOnlyOwnerAdmin(TenantScopedAdmin):
    """Records only the application writes (audit events, login sessions, refresh tokens):
    owners (and super_admin) read them; nobody adds, edits or deletes them in admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _user(request).is_owner
