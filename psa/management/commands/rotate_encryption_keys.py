"""
``manage.py rotate_encryption_keys``: re-encrypt every stored secret (PSA keys, webhook URLs)
with the first key of ``FIELD_ENCRYPTION_KEY``. Run it after putting a new key first; remove the
old key only once it has finished.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services.preferences import reencrypt_webhook_secrets
from flowpilot import crypto
from psa.services.integration import reencrypt_credentials


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the first FIELD_ENCRYPTION_KEY key."

    def handle(self, *args: Any, **options: Any) -> None:
        if not crypto.encryption_available():
            raise CommandError("FIELD_ENCRYPTION_KEY is not set.")
        try:
            keys = reencrypt_credentials()
            webhooks = reencrypt_webhook_secrets()
        except crypto.SecretUnreadable as exc:
            raise CommandError(
                "A stored secret is not readable with any configured key: keep the old key in "
                "FIELD_ENCRYPTION_KEY (after the new one) until this command succeeds."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {keys} PSA key(s) and {webhooks} webhook URL(s).")
        )
