"""The audit write helper: an event appended inside another statement is record_event's row."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from accounts.models import AuditEvent, User
from accounts.services.audit import build_event, insert_select, record_event

pytestmark = pytest.mark.django_db


def _columns(event: AuditEvent) -> dict[str, object]:
    return {
        "account_id": event.account_id,
        "actor_id": event.actor_id,
        "type": event.type,
        "payload": event.payload,
        "ip_address": event.ip_address,
        "dedupe_key": event.dedupe_key,
    }


def test_an_inlined_event_is_the_row_record_event_writes(engineer: User) -> None:
    fields: dict[str, Any] = {
        "actor": engineer,
        "type": "handoff.claimed",
        "payload": {"session_id": 7, "handoff_id": "abc", "nested": {"ok": True}},
        "ip_address": "203.0.113.9",
    }
    recorded = record_event(account=engineer.account, **fields)
    assert recorded is not None
    built = build_event(account_id=engineer.account_id, **fields)
    sql, params = insert_select(built, source="(SELECT 1) AS one")
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING id", params)
        (inlined_id,) = cursor.fetchone()
    inlined = AuditEvent.objects.get(pk=inlined_id)
    assert _columns(inlined) == _columns(AuditEvent.objects.get(pk=recorded.pk))
    assert inlined.created_at == built.created_at


def test_no_source_row_appends_nothing_and_nulls_are_typed(engineer: User) -> None:
    built = build_event(account_id=engineer.account_id, type="auth.logout")
    sql, params = insert_select(built, source="(SELECT 1 WHERE false) AS none")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert not AuditEvent.objects.filter(type="auth.logout").exists()
    sql, params = insert_select(built, source="(SELECT 1) AS one")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    stored = AuditEvent.objects.get(type="auth.logout")
    assert stored.actor_id is None and stored.ip_address is None and stored.payload == {}


def test_a_dedupe_key_is_refused_when_inlined(engineer: User) -> None:
    built = build_event(account_id=engineer.account_id, type="x", dedupe_key="once")
    with pytest.raises(ValueError, match="dedupe key"):
        insert_select(built, source="(SELECT 1) AS one")
