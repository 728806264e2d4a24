"""
The one path to account-owned data: every query of an account's objects goes through these
helpers, so an object of another account is simply not found (404), never forbidden (403).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

from accounts.models import Account

M = TypeVar("M", bound=Model)


def scoped(source: type[M] | QuerySet[M], account: Account) -> QuerySet[M]:
    """Limit a model or queryset to one account's rows."""
    qs = source._default_manager.all() if isinstance(source, type) else source
    return qs.filter(account=account)


def get_for_account(source: type[M] | QuerySet[M], account: Account, **lookup: Any) -> M:
    """Fetch one object of the account or raise Http404, whoever else owns a row with that id."""
    qs = scoped(source, account)
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("Not found.") from exc
