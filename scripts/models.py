"""
The script library: categories and parameterised PowerShell templates per account, the log of
generated scripts, draft templates drafted from real fixes, and script-builder sessions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ScriptCategory(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "script categories"
        constraints = [
            models.UniqueConstraint(fields=["account", "slug"], name="scriptcategory_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class ScriptTemplate(models.Model):
    """A reusable script: ``body`` with ``{{name}}`` placeholders described by the schema."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        ScriptCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    body = models.TextField()
    # Items: {name, label, type string/int/bool/choice/secret, required, default, choices,
    # sensitive, description} — read and validated by scripts.parameters.
    parameters_schema = models.JSONField(default=list, blank=True)
    # Provenance: the session, fix and ticket a template was saved from, and who resolved it.
    source_session = models.ForeignKey(
        "sessions_app.AISession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_ticket = models.CharField(max_length=32, blank=True, default="")
    is_starter = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["account", "category", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"/scripts/templates/{self.pk}"


class ScriptGeneration(models.Model):
    """One rendered script, from a template or ad hoc. Sensitive values are stored redacted."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(
        ScriptTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_name = models.CharField(max_length=120, blank=True, default="")
    session = models.ForeignKey(
        "sessions_app.AISession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters = models.JSONField(default=dict, blank=True)
    schema = models.JSONField(default=list, blank=True)
    rendered_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "created_at"])]

    def __str__(self) -> str:
        return self.template_name or "Ad-hoc script"


class DraftStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class DraftTemplate(models.Model):
    """A template proposed from a fix's script; offered to the team after the session ends."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        "sessions_app.AISession", on_delete=models.CASCADE, related_name="+"
    )
    fix = models.ForeignKey(
        "sessions_app.SuggestedFix",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField()
    templated_body = models.TextField()
    proposed_parameters = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    category = models.ForeignKey(
        ScriptCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=DraftStatus, default=DraftStatus.PENDING)
    promoted_template = models.ForeignKey(
        ScriptTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["session", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DraftStatus.values), name="drafttemplate_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class BuilderOrigin(models.TextChoices):
    STANDALONE = "standalone", "Standalone"
    PILOT_INLINE = "pilot_inline", "From an AI session"


class ScriptBuilderSession(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    origin = models.CharField(max_length=16, choices=BuilderOrigin)
    ai_session = models.ForeignKey(
        "sessions_app.AISession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    fix = models.ForeignKey(
        "sessions_app.SuggestedFix",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(max_length=120, blank=True, default="")
    body = models.TextField(blank=True, default="")
    parameters = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "ai_session"],
                condition=Q(origin="pilot_inline"),
                name="builder_one_inline_per_user_session",
            ),
            models.CheckConstraint(
                condition=Q(origin="standalone", ai_session__isnull=True)
                | Q(origin="pilot_inline", ai_session__isnull=False),
                name="builder_origin_matches_session",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Builder #{self.pk}"

    def get_absolute_url(self) -> str:
        return f"/scripts/builder/{self.pk}"
