"""Receivers the app connects in ``ScriptsConfig.ready``."""

from __future__ import annotations

from typing import Any

from accounts.models import Account
from scripts.services.library import copy_starter_library


def give_new_account_the_starter_library(
    sender: type[Account], instance: Account, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    # Accounts know nothing of scripts: the library hooks onto their creation instead.
    if created and not raw:
        copy_starter_library(account=instance)
