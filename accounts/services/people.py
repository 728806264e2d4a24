"""
People of an account: invitations (a one-time link to set a password), roles, deactivation.
Owners and admins manage people; admins never create or change owners, and the account always
keeps one active owner. The owner rows of the account are locked (``SELECT … FOR UPDATE``)
before any change that could remove an owner, so two owners demoting each other at once
cannot leave the account without one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import mail
from accounts.models import RevokeReason, Role, User
from accounts.services.audit import record_event
from accounts.services.revocation import sign_out_user_everywhere
from accounts.tenancy import get_for_account
from flowpilot.errors import Conflict, Forbidden, Unprocessable

MANAGER_REQUIRED = "Account owner or admin access required"
OWNERS_ONLY = "Only an owner can create or change owners"
ROLES = tuple(Role.values)


def assignable_roles(actor: User) -> list[tuple[str, str]]:
    """The roles this person may hand out: admins never make owners."""
    return [
        (value, label) for value, label in Role.choices if actor.is_owner or value != Role.OWNER
    ]


def require_manager(actor: User) -> None:
    if not actor.can_manage_people:
        raise Forbidden(MANAGER_REQUIRED)


def _clean_role(role: Any) -> str:
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}.", code="invalid_role")
    return str(role)


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or len(name.strip()) > 120 or "\x00" in name:
        raise Unprocessable("name must be text of at most 120 characters.", code="invalid_name")
    return name.strip()


@transaction.atomic
def invite_user(
    *, actor: User, email: Any, name: Any = "", role: Any = Role.ENGINEER, base_url: str
) -> User:
    """
    Create a person without a usable password and e-mail them a one-time link (72 h) to set
    one. Admins cannot invite owners; an address that already has a login is a 409.
    """
    require_manager(actor)
    if not isinstance(email, str):
        raise Unprocessable("Enter a valid e-mail address.", code="invalid_email")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Unprocessable("Enter a valid e-mail address.", code="invalid_email") from None
    role = _clean_role(role)
    name = _clean_name(name)
    if role == Role.OWNER and not actor.is_owner:
        raise Forbidden(OWNERS_ONLY)
    existing = User.objects.filter(email=email).only("account_id").first()
    if existing is not None:
        if existing.account_id == actor.account_id:
            raise Conflict(
                f"{email} is already a member of this account. Resend the invitation or "
                "change their role instead.",
                code="already_member",
            )
        raise Conflict("This address already has a FlowPilot login.", code="email_taken")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, None, account=actor.account, name=name, role=role, invited_at=timezone.now()
            )
    except IntegrityError:
        raise Conflict("This address already has a FlowPilot login.", code="email_taken") from None
    record_event(
        account=actor.account,
        actor=actor,
        type="user.invited",
        payload={"user_id": user.pk, "email": email, "name": user.display_name, "role": role},
    )
    mail.send_invitation_on_commit(user=user, inviter=actor, base_url=base_url)
    return user


@transaction.atomic
def resend_invitation(*, actor: User, user_id: Any, base_url: str) -> User:
    """A new link for a pending invitation; the previous link stops working."""
    require_manager(actor)
    user = get_for_account(User.objects.select_for_update(), actor.account, pk=user_id)
    if user.is_owner and not actor.is_owner:
        raise Forbidden(OWNERS_ONLY)
    if not user.invitation_pending:
        raise Conflict(f"{user.display_name} has already set a password.", code="not_pending")
    user.set_unusable_password()  # a new random hash: the old link no longer matches
    user.invited_at = timezone.now()
    user.save(update_fields=["password", "invited_at"])
    record_event(
        account=actor.account,
        actor=actor,
        type="user.invitation_resent",
        payload={"user_id": user.pk, "email": user.email, "name": user.display_name},
    )
    mail.send_invitation_on_commit(user=user, inviter=actor, base_url=base_url)
    return user


def _lock_active_owners(account_id: int) -> list[int]:
    return list(
        User.objects.select_for_update()
        .filter(account_id=account_id, role=Role.OWNER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def update_user(*, actor: User, user_id: Any, changes: dict[str, Any]) -> User:
    """
    ``PATCH /accounts/me/users/{id}``: ``name``, ``role``, ``is_active`` (only the keys sent).
    Deactivating signs the person out everywhere at once and keeps their history.
    """
    require_manager(actor)
    unknown = set(changes) - {"name", "role", "is_active"}
    if unknown:
        raise Unprocessable(f"Unknown field: {', '.join(sorted(unknown))}.", code="unknown_field")
    owners = _lock_active_owners(actor.account_id)
    user = get_for_account(User.objects.select_for_update(), actor.account, pk=user_id)
    new_role = _clean_role(changes["role"]) if "role" in changes else user.role
    active = changes.get("is_active", user.is_active)
    if not isinstance(active, bool):
        raise Unprocessable("is_active must be true or false.", code="invalid_is_active")
    if (user.role == Role.OWNER or new_role == Role.OWNER) and not actor.is_owner:
        raise Forbidden(OWNERS_ONLY)
    if user.pk == actor.pk and not active:
        raise Conflict("You can't deactivate yourself.", code="self_deactivation")
    loses_owner = (
        user.role == Role.OWNER and user.is_active and (new_role != Role.OWNER or not active)
    )
    if loses_owner and owners == [user.pk]:
        raise Conflict(
            "The account needs at least one active owner. Make someone else an owner first.",
            code="last_owner",
        )
    fields: list[str] = []
    events: list[tuple[str, dict[str, Any]]] = []
    subject = {"user_id": user.pk, "user": user.display_name}
    if "name" in changes:
        name = _clean_name(changes["name"])
        if name != user.name:
            events.append(("user.renamed", {**subject, "old": user.name, "new": name}))
            user.name = name
            fields.append("name")
    if new_role != user.role:
        events.append(("user.role_changed", {**subject, "old": user.role, "new": new_role}))
        user.role = new_role
        fields.append("role")
    if active != user.is_active:
        events.append(("user.deactivated" if not active else "user.reactivated", subject))
        user.is_active = active
        fields.append("is_active")
    if fields:
        user.save(update_fields=fields)
    if "is_active" in fields and not active:
        sign_out_user_everywhere(user=user, reason=RevokeReason.DEACTIVATED)
    for type_, payload in events:
        record_event(account=actor.account, actor=actor, type=type_, payload=payload)
    return user
