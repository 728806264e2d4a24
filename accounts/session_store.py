"""
The page session store (``SESSION_ENGINE``): Django's database sessions, read with one
written-out statement. Every signed-in request reads its session before anything else; the ORM
spends more CPU building ``Session.objects.get(...)`` than the database spends answering it, so
the read is the same filter (the key, not expired) as SQL made from the model's metadata.
Writes, deletes and key changes are Django's own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone


@cache
def _read_sql(using: str) -> str:
    qn = connections[using].ops.quote_name
    key, data, expires = (
        qn(str(Session._meta.get_field(name).column))  # type: ignore[union-attr]
        for name in ("session_key", "session_data", "expire_date")
    )
    # Only model metadata is formatted in; the key and the moment are parameters.
    return f"SELECT {data} FROM {qn(Session._meta.db_table)} WHERE {key} = %s AND {expires} > %s"  # noqa: S608


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        """The session's data, or an empty session (and no key) when it expired or is gone."""
        using = router.db_for_read(Session)
        with connections[using].cursor() as cursor:
            cursor.execute(_read_sql(using), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
