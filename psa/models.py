"""
The account's PSA connection. Keys are stored only as Fernet tokens (``flowpilot.crypto``): the
clear values exist in memory while a request talks to the PSA and are never rendered back.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from flowpilot import crypto


class Provider(models.TextChoices):
    NONE = "none", "None (local only)"
    CONNECTWISE = "connectwise", "ConnectWise Manage"


class PSAIntegration(models.Model):
    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="psa_integration"
    )
    provider = models.CharField(max_length=16, choices=Provider, default=Provider.NONE)
    site = models.CharField(max_length=255, blank=True, default="")
    company_id = models.CharField(max_length=64, blank=True, default="")
    client_id = models.CharField(max_length=64, blank=True, default="")
    public_key_encrypted = models.TextField(blank=True, default="")
    private_key_encrypted = models.TextField(blank=True, default="")
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "PSA integration"

    def __str__(self) -> str:
        return f"{self.get_provider_display()} · {self.site or 'not configured'}"

    def public_key(self) -> str:
        return crypto.decrypt(self.public_key_encrypted)

    def private_key(self) -> str:
        return crypto.decrypt(self.private_key_encrypted)

    def public_key_hint(self) -> str:
        return crypto.mask(self.public_key()) if self.public_key_encrypted else ""
