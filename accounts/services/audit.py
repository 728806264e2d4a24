"""Writing audit events. Events are append-only; this is the one place that creates them."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction

from accounts.models import Account, AuditEvent, User


def build_event(
    *,
    account: Account | None = None,
    account_id: int | None = None,
    type: str,
    actor: User | None = None,
    payload: dict[str, Any] | None = None,
    ip_address: str | None = None,
    dedupe_key: str | None = None,
) -> AuditEvent:
    """The audit row, not saved yet: ``record_event`` saves it, ``insert_select`` inlines it."""
    event = AuditEvent(
        actor=actor,
        type=type,
        payload=payload or {},
        ip_address=ip_address,
        dedupe_key=dedupe_key,
    )
    if account is not None:
        event.account = account
    else:
        assert account_id is not None, "an audit event belongs to an account"
        event.account_id = account_id
    return event


def save_event(event: AuditEvent) -> AuditEvent | None:
    """
    Append a built event. With a ``dedupe_key`` a repeated call (a retried Celery task) records
    nothing and returns None.
    """
    if event.dedupe_key is None:
        event.save(force_insert=True)
        return event
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        return None
    return event


def record_event(
    *,
    account: Account,
    type: str,
    actor: User | None = None,
    payload: dict[str, Any] | None = None,
    ip_address: str | None = None,
    dedupe_key: str | None = None,
) -> AuditEvent | None:
    """Append one audit event (see ``save_event`` for the ``dedupe_key``)."""
    return save_event(
        build_event(
            account=account,
            actor=actor,
            type=type,
            payload=payload,
            ip_address=ip_address,
            dedupe_key=dedupe_key,
        )
    )


def insert_select(event: AuditEvent, *, source: str, prefix: str = "audit_") -> tuple[str, dict]:
    """
    ``INSERT INTO <audit table> (…) SELECT … FROM <source>`` with the event's values bound as
    named parameters: a data-modifying CTE appends the event in the same statement as the write
    it records, once per row of ``source`` (a CTE of the rows that write changed). The values
    are the model's own (defaults, ``pre_save`` and the database preparation of each field, cast
    to the column's type), so the row is the one ``save_event`` would write. Without a dedupe
    key only: a duplicate would fail the whole statement.
    """
    if event.dedupe_key is not None:
        raise ValueError("An inlined audit event cannot carry a dedupe key.")
    sql, fields = _insert_select_sql(connection.vendor, source, prefix)
    params = {
        f"{prefix}{n}": field.get_db_prep_save(field.pre_save(event, add=True), connection)
        for n, field in enumerate(fields)
    }
    return sql, params


@cache
def _insert_select_sql(vendor: str, source: str, prefix: str) -> tuple[str, list[Any]]:
    """The statement's text (the same for every event) and the fields in parameter order."""
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    # Typed: a NULL in a SELECT list is text, which would not assign to every column.
    values = ", ".join(
        f"CAST(%({prefix}{n})s AS {field.db_type(connection)})" for n, field in enumerate(fields)
    )
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) SELECT {values} FROM {source}"  # noqa: S608
    return sql, fields
