"""
Admin for every sessions_app model, scoped to the owner's account (super_admin sees all) and
read-only: a session's rows change only through the services, which keep state_version, the
audit log and the 409 rules. Admin is for looking things up.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_base import ReadOnlyOwnerAdmin
from sessions_app.models import AISession, AISessionStep, Fact, SuggestedFix, TaskItem


@admin.register(AISession)
class AISessionAdmin(ReadOnlyOwnerAdmin):
    list_display = ("problem_summary", "user", "status", "psa_ticket_id", "updated_at")
    list_filter = ("status",)
    search_fields = ("problem_summary", "psa_ticket_id", "user__email")
    readonly_fields = ("state_version", "created_at", "updated_at")
    list_select_related = ("user",)


@admin.register(AISessionStep)
class AISessionStepAdmin(ReadOnlyOwnerAdmin):
    list_display = ("session", "role", "short_content", "provider", "created_at")
    list_filter = ("role", "provider")
    search_fields = ("content",)
    readonly_fields = ("raw_content", "marker_errors", "input_tokens", "output_tokens")
    list_select_related = ("session",)

    @admin.display(description="Content")
    def short_content(self, step: AISessionStep) -> str:
        return step.content[:80]


@admin.register(TaskItem)
class TaskItemAdmin(ReadOnlyOwnerAdmin):
    list_display = ("text", "kind", "status", "session", "removed_at")
    list_filter = ("kind", "status")
    search_fields = ("text",)
    readonly_fields = ("uid",)
    list_select_related = ("session",)


@admin.register(Fact)
class FactAdmin(ReadOnlyOwnerAdmin):
    list_display = ("text", "source", "session", "deleted_at")
    list_filter = ("source",)
    search_fields = ("text",)
    list_select_related = ("session",)


@admin.register(SuggestedFix)
class SuggestedFixAdmin(ReadOnlyOwnerAdmin):
    list_display = ("title", "status", "confidence", "session", "superseded_at")
    list_filter = ("status", "decision")
    search_fields = ("title",)
    list_select_related = ("session",)
