"""
The account's session-expiration policy: presets, system bounds, the effective values every
login (page or API) snapshots, and the owner's changes to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import Account, User
from accounts.services.audit import record_event
from flowpilot.errors import Unprocessable

IDLE_BOUNDS = (15, 43200)
ABSOLUTE_BOUNDS = (60, 129600)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    idle_minutes: int | None
    absolute_minutes: int | None
    guidance: str


# Strict is the default (NULL overrides). The guidance line compares each preset with OWASP ASVS
# and NIST SP 800-63B, so an owner can justify the choice (ASVS 5.0 V7.1.1 asks for that).
PRESETS: tuple[Preset, ...] = (
    Preset(
        "strict",
        "Strict",
        4320,
        20160,
        "3 days idle, 14 days absolute: within the 30-day cap of ASVS L1 and NIST 800-63B AAL1; "
        "looser than ASVS L2 (30 min / 12 h).",
    ),
    Preset(
        "standard",
        "Standard",
        10080,
        43200,
        "7 days idle, 30 days absolute: at the ASVS L1 / NIST AAL1 30-day ceiling; suits shared "
        "help-desk machines behind SSO-protected devices.",
    ),
    Preset(
        "custom",
        "Custom",
        None,
        None,
        "Your own limits. ASVS L2 asks for 30 min idle and 12 h absolute; NIST AAL2 for at most "
        "1 h idle and 24 h absolute.",
    ),
)
DEFAULT_IDLE = 4320
DEFAULT_ABSOLUTE = 20160


def resolve_session_policy(account: Account) -> tuple[int, int]:
    """The effective ``(idle, absolute)`` minutes of an account, defaults applied."""
    idle = account.idle_minutes if account.idle_minutes is not None else DEFAULT_IDLE
    absolute = (
        account.absolute_minutes if account.absolute_minutes is not None else DEFAULT_ABSOLUTE
    )
    return idle, absolute


def preset_name(idle: int | None, absolute: int | None) -> str:
    """Which preset a pair of overrides is: NULLs are Strict, an exact preset pair is that one."""
    if idle is None and absolute is None:
        return "strict"
    for preset in PRESETS:
        if preset.key != "custom" and (idle, absolute) == (
            preset.idle_minutes,
            preset.absolute_minutes,
        ):
            return preset.key
    return "custom"


def policy_state(account: Account) -> dict[str, Any]:
    idle, absolute = resolve_session_policy(account)
    return {
        "idle_minutes": account.idle_minutes,
        "absolute_minutes": account.absolute_minutes,
        "effective": {"idle_minutes": idle, "absolute_minutes": absolute},
        "preset": preset_name(account.idle_minutes, account.absolute_minutes),
        "presets": [
            {
                "key": p.key,
                "label": p.label,
                "idle_minutes": p.idle_minutes,
                "absolute_minutes": p.absolute_minutes,
                "guidance": p.guidance,
            }
            for p in PRESETS
        ],
        "bounds": {
            "idle_minutes": {"min": IDLE_BOUNDS[0], "max": IDLE_BOUNDS[1]},
            "absolute_minutes": {"min": ABSOLUTE_BOUNDS[0], "max": ABSOLUTE_BOUNDS[1]},
        },
    }


def _check_bounds(name: str, value: Any, bounds: tuple[int, int]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return "Enter a whole number of minutes."
    low, high = bounds
    if not low <= value <= high:
        return f"Must be between {low} and {high} minutes."
    return None


def validate_policy(*, idle_minutes: Any, absolute_minutes: Any) -> tuple[int, int]:
    """
    Per-field bounds first, then the invariant on the effective values (a partial override is
    checked against the default of the other field). Raises 422 with per-field messages.
    """
    errors: dict[str, list[str]] = {}
    for name, value, bounds in (
        ("idle_minutes", idle_minutes, IDLE_BOUNDS),
        ("absolute_minutes", absolute_minutes, ABSOLUTE_BOUNDS),
    ):
        message = _check_bounds(name, value, bounds)
        if message:
            errors[name] = [message]
    if errors:
        first = next(iter(errors))
        raise Unprocessable(f"{first}: {errors[first][0]}", code="out_of_bounds", extra=errors)
    idle = idle_minutes if idle_minutes is not None else DEFAULT_IDLE
    absolute = absolute_minutes if absolute_minutes is not None else DEFAULT_ABSOLUTE
    if idle > absolute:
        message = (
            f"Idle timeout ({idle} min) cannot be longer than the absolute limit ({absolute} min)."
        )
        raise Unprocessable(
            message, code="idle_exceeds_absolute", extra={"idle_minutes": [message]}
        )
    return idle, absolute


@transaction.atomic
def update_session_policy(
    *, account: Account, actor: User, changes: dict[str, Any]
) -> dict[str, Any]:
    """
    Apply the owner's overrides (only the keys sent; NULL clears one), validate, save and write
    one ``account.session_policy_update`` audit event. Applies from the next login on.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    old = {"idle_minutes": locked.idle_minutes, "absolute_minutes": locked.absolute_minutes}
    new = dict(old)
    for key in ("idle_minutes", "absolute_minutes"):
        if key in changes:
            new[key] = changes[key]
    effective_new = validate_policy(
        idle_minutes=new["idle_minutes"], absolute_minutes=new["absolute_minutes"]
    )
    effective_old = resolve_session_policy(locked)
    locked.idle_minutes = new["idle_minutes"]
    locked.absolute_minutes = new["absolute_minutes"]
    locked.save(update_fields=["idle_minutes", "absolute_minutes"])
    account.idle_minutes, account.absolute_minutes = locked.idle_minutes, locked.absolute_minutes
    record_event(
        account=account,
        actor=actor,
        type="account.session_policy_update",
        payload={
            "old": old,
            "new": new,
            "effective_old": {
                "idle_minutes": effective_old[0],
                "absolute_minutes": effective_old[1],
            },
            "effective_new": {
                "idle_minutes": effective_new[0],
                "absolute_minutes": effective_new[1],
            },
        },
    )
    return policy_state(locked)
