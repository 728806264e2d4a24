"""The owner's session-policy form: a preset, or Custom with both limits in minutes."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Account
from accounts.services import session_policy
from flowpilot.errors import DomainError

PRESET_CHOICES = [(p.key, p.label) for p in session_policy.PRESETS]


class SessionPolicyForm(forms.Form):
    preset = forms.ChoiceField(choices=PRESET_CHOICES, widget=forms.RadioSelect)
    # Plain text inputs with inputmode: the server's messages are the single source of truth for
    # bounds, so the browser's own number validation does not pre-empt them.
    idle_minutes = forms.CharField(
        required=False,
        label="Idle timeout (minutes)",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    absolute_minutes = forms.CharField(
        required=False,
        label="Absolute limit (minutes)",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        idle, absolute = session_policy.resolve_session_policy(account)
        kwargs.setdefault(
            "initial",
            {
                "preset": session_policy.preset_name(
                    account.idle_minutes, account.absolute_minutes
                ),
                "idle_minutes": idle,
                "absolute_minutes": absolute,
            },
        )
        super().__init__(*args, **kwargs)
        low, high = session_policy.IDLE_BOUNDS
        self.fields["idle_minutes"].help_text = f"{low}–{high} minutes."
        low, high = session_policy.ABSOLUTE_BOUNDS
        self.fields["absolute_minutes"].help_text = f"{low}–{high} minutes, counted from sign-in."

    @property
    def is_custom(self) -> bool:
        return bool(self["preset"].value() == "custom")

    def _minutes(self, name: str) -> int | None:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            self.add_error(name, "Enter the number of minutes.")
            return None
        if not raw.isdigit():
            self.add_error(name, "Enter a whole number of minutes.")
            return None
        return int(raw)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("preset") == "custom":
            cleaned["idle"] = self._minutes("idle_minutes")
            cleaned["absolute"] = self._minutes("absolute_minutes")
        return cleaned

    def policy_changes(self) -> dict[str, int | None]:
        preset = self.cleaned_data["preset"]
        if preset == "custom":
            return {
                "idle_minutes": self.cleaned_data["idle"],
                "absolute_minutes": self.cleaned_data["absolute"],
            }
        chosen = next(p for p in session_policy.PRESETS if p.key == preset)
        if preset == "strict":
            # Strict is the default: stored as "no override" so it follows future defaults.
            return {"idle_minutes": None, "absolute_minutes": None}
        return {"idle_minutes": chosen.idle_minutes, "absolute_minutes": chosen.absolute_minutes}

    def add_domain_error(self, exc: DomainError) -> None:
        placed = False
        for name in ("idle_minutes", "absolute_minutes"):
            for message in exc.extra.get(name, []):
                self.add_error(name, message)
                placed = True
        if not placed:
            self.add_error(None, exc.detail)
