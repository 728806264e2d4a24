from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone


class Account(models.Model):
    """A tenant: one MSP. Every other object belongs to exactly one account."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    preferences = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Session-expiration policy overrides in minutes; NULL means the Strict default.
    idle_minutes = models.PositiveIntegerField(null=True, blank=True)
    absolute_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ENGINEER = "engineer", "Engineer"
    VIEWER = "viewer", "Viewer"


ACTING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.ENGINEER})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        email: str,
        password: str | None = None,
        *,
        account: Account,
        name: str = "",
        role: str = Role.ENGINEER,
        **extra: Any,
    ) -> User:
        user = self.model(
            email=self.normalize_email(email).lower(),
            account=account,
            name=name,
            role=role,
            **extra,
        )
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        account, _ = Account.objects.get_or_create(slug="platform", defaults={"name": "Platform"})
        extra.setdefault("role", Role.OWNER)
        return self.create_user(email, password, account=account, is_super_admin=True, **extra)


class User(AbstractBaseUser):
    """A person who signs in with an e-mail address; belongs to one account with one role."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="users")
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=16, choices=Role, default=Role.ENGINEER)
    is_super_admin = models.BooleanField(
        default=False, help_text="Platform operator: sees every account in admin."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when an owner or admin invites the person (and on every resend); the invitation is
    # pending while the password is unusable.
    invited_at = models.DateTimeField(null=True, blank=True)
    # Set by "sign everyone out": access tokens issued before it are refused.
    sessions_valid_after = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["name", "email"]
        indexes = [models.Index(fields=["account", "role"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def first_name(self) -> str:
        return self.display_name.split(" ")[0]

    @property
    def is_owner(self) -> bool:
        return self.is_super_admin or self.role == Role.OWNER

    @property
    def can_act(self) -> bool:
        """Engineer or admin: engineer, admin, owner or super_admin. Viewers read, never act."""
        return self.is_super_admin or self.role in ACTING_ROLES

    @property
    def can_manage_people(self) -> bool:
        """Owners and admins invite people, change roles and deactivate (admins: not owners)."""
        return self.is_super_admin or self.role in (Role.OWNER, Role.ADMIN)

    @property
    def invitation_pending(self) -> bool:
        return self.invited_at is not None and not self.has_usable_password()

    # Django admin: owners and admins reach it through their role; super_admin sees all.
    @property
    def is_staff(self) -> bool:
        return self.is_super_admin or self.role in (Role.OWNER, Role.ADMIN)

    @property
    def is_superuser(self) -> bool:
        return self.is_super_admin

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if not (self.is_active and self.is_staff):
            return False
        return self.is_super_admin or perm.split(".", 1)[0] not in ("auth", "sessions")

    def has_perms(self, perm_list: Any, obj: object = None) -> bool:
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        if not (self.is_active and self.is_staff):
            return False
        return self.is_super_admin or app_label not in ("auth", "sessions")


class AuditEvent(models.Model):
    """An append-only record of something security- or workflow-relevant that happened."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "type", "-created_at"]),
            # The audit page: newest first within an account, the id breaking ties (keyset).
            models.Index(fields=["account", "-created_at", "-id"], name="accounts_audit_page"),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")


# ---- Session-expiration policy: web logins and API refresh tokens --------------------------


class RevokeReason(models.TextChoices):
    ROTATED = "rotated", "Rotated"
    LOGOUT = "logout", "Signed out"
    BULK = "bulk", "Signed out by the owner"
    IDLE = "idle", "Idle expiry"
    ABSOLUTE = "absolute", "Absolute expiry"
    REPLACED = "replaced", "Session replaced"
    DEVICE = "device", "Signed out by an administrator"
    DEVICE_SELF = "device_self", "Signed out from another device"
    DEACTIVATED = "deactivated", "Account deactivated"
    PASSWORD = "password", "Password changed"
    REUSE = "reuse", "Refresh token reused"


# Reasons a person did not choose themselves: the next page they open says so.
ADMIN_REVOKE_REASONS = frozenset({RevokeReason.DEVICE, RevokeReason.DEACTIVATED})


class SignInChannel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"


class LoginSessionQuerySet(models.QuerySet["LoginSession"]):
    def live(self, now: datetime | None = None) -> LoginSessionQuerySet:
        """Sign-ins still working at ``now``: not revoked, neither idle- nor absolute-expired."""
        now = now or timezone.now()
        return self.filter(
            revoked_at__isnull=True, idle_expires_at__gt=now, absolute_expires_at__gt=now
        )


_LoginSessionManager = models.Manager.from_queryset(LoginSessionQuerySet)


class LoginSession(models.Model):
    """
    One sign-in — a device — with the policy snapshot it started under: a page login (a Django
    session; the middleware reads this row on every request to enforce idle and absolute expiry
    and revocation) or an API token family (every refresh token minted from one API login
    points here; rotation moves ``last_activity_at`` and ``idle_expires_at``).
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    channel = models.CharField(max_length=8, choices=SignInChannel, default=SignInChannel.WEB)
    session_key = models.CharField(max_length=40, db_index=True)
    auth_time = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    idle_seconds = models.PositiveIntegerField()
    absolute_seconds = models.PositiveIntegerField()
    idle_expires_at = models.DateTimeField()
    absolute_expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=RevokeReason, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    objects = _LoginSessionManager()

    class Meta:
        # No index covers the columns that change (activity, revocation), so those UPDATEs stay
        # HOT (heap-only); migration 0003 also leaves free space in each page for them.
        indexes = [models.Index(fields=["absolute_expires_at"])]

    def __str__(self) -> str:
        return f"web session of user {self.user_id} since {self.auth_time:%Y-%m-%d %H:%M}"

    def expiry_kind(self, now: Any) -> str:
        """``absolute`` or ``idle`` when the session has run out at ``now`` (boundary included)."""
        if now >= self.absolute_expires_at:
            return RevokeReason.ABSOLUTE
        if now >= self.idle_expires_at:
            return RevokeReason.IDLE
        return ""


class RefreshToken(models.Model):
    """
    One issued API refresh token, by its ``jti``. Consuming it (rotation, logout, bulk sign-out)
    is a conditional UPDATE of ``revoked_at``, so each token is spent at most once.
    """

    jti = models.CharField(max_length=64)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    # The family: the API sign-in this token descends from (NULL for tokens minted before
    # families existed). A spent token presented again revokes the whole family.
    login_session = models.ForeignKey(
        LoginSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="refresh_tokens",
    )
    auth_time = models.DateTimeField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=RevokeReason, blank=True)

    class Meta:
        # As for LoginSession: revocation touches no indexed column, so a bulk revoke of many
        # rows is HOT. A plain unique constraint (not unique=True) avoids a second, LIKE-only
        # index on jti in PostgreSQL.
        constraints = [models.UniqueConstraint(fields=["jti"], name="accounts_refreshtoken_jti")]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"refresh token {self.jti[:8]}… of user {self.user_id}"
