"""
The page session store (``SESSION_ENGINE``): Django's database sessions, read with one
written-out statement. Every signed-in request reads its session before anything else; the ORM
spends more CPU building ``Session.objects.get(...)`` than the database spends answering it, so
the read is the same filter (the key, not expired) as SQL made from the model's metadata.
Writes, deletes and key changes are Django's own.

The same statement reads the sign-in row made for the session (``LoginSession``, found by its
session key, with its user and account): the session policy middleware reads that row on every
signed-in request right after the session, so both come in one round trip. The middleware uses
the row only when it is the one the session names (``accounts.selectors.load_web_session``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from accounts.models import Account, LoginSession, User

# The sign-in row and the objects it joins, in column order after the session data.
_JOINED: tuple[type[models.Model], ...] = (LoginSession, User, Account)


@cache
def _read_sql(using: str) -> str:
    qn = connections[using].ops.quote_name

    def column(model: type[models.Model], name: str) -> str:
        return qn(str(model._meta.get_field(name).column))  # type: ignore[union-attr]

    key, data, expires = (
        column(Session, name) for name in ("session_key", "session_data", "expire_date")
    )
    selected = [f"s.{data}"]
    for alias, model in zip(("ls", "u", "a"), _JOINED, strict=True):
        selected += [f"{alias}.{qn(str(field.column))}" for field in model._meta.concrete_fields]
    pk = qn(str(LoginSession._meta.pk.column))
    # Only model metadata is formatted in; the key and the moment are parameters. A session key
    # names one sign-in (each login cycles the key); should two rows share it, the newest comes.
    return (
        f"SELECT {', '.join(selected)} FROM {qn(Session._meta.db_table)} s"  # noqa: S608
        f" LEFT JOIN {qn(LoginSession._meta.db_table)} ls"
        f" ON ls.{column(LoginSession, 'session_key')} = s.{key}"
        f" LEFT JOIN {qn(User._meta.db_table)} u ON u.{qn(str(User._meta.pk.column))}"
        f" = ls.{column(LoginSession, 'user')}"
        f" LEFT JOIN {qn(Account._meta.db_table)} a ON a.{qn(str(Account._meta.pk.column))}"
        f" = u.{column(User, 'account')}"
        f" WHERE s.{key} = %s AND s.{expires} > %s ORDER BY ls.{pk} DESC LIMIT 1"
    )


Converter = Callable[[Any, Any, Any], Any]


# Per joined model: its attribute names, its primary key's position and its columns' converters.
_Readers = tuple[tuple[list[str], int, list[tuple[Any, list[Converter]]]], ...]
# Per connection (each thread has its own): the ORM binds some converters to its backend.
_READERS: WeakKeyDictionary[BaseDatabaseWrapper, _Readers] = WeakKeyDictionary()


def _readers(connection: BaseDatabaseWrapper) -> _Readers:
    """What it takes to make each joined model's instance from its columns, as the ORM does."""
    found = _READERS.get(connection)
    if found is not None:
        return found
    readers = []
    for model in _JOINED:
        fields = model._meta.concrete_fields
        columns = []
        for field in fields:
            col = field.get_col(model._meta.db_table)
            columns.append(
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            )
        attnames = [field.attname for field in fields]
        readers.append((attnames, attnames.index(str(model._meta.pk.attname)), columns))
    _READERS[connection] = made = tuple(readers)
    return made


def _instances(using: str, values: Sequence[Any]) -> LoginSession | None:
    """The sign-in row with its user and account, made as the ORM makes them (None: no row)."""
    connection = connections[using]
    made: list[models.Model] = []
    start = 0
    for model, (attnames, pk, columns) in zip(_JOINED, _readers(connection), strict=True):
        row = list(values[start : start + len(attnames)])
        start += len(attnames)
        if row[pk] is None:  # nothing joined
            return None
        for index, (col, converters) in enumerate(columns):
            for converter in converters:
                row[index] = converter(row[index], col, connection)
        made.append(model.from_db(using, attnames, row))
    sign_in, user, account = made
    LoginSession._meta.get_field("user").set_cached_value(sign_in, user)
    User._meta.get_field("account").set_cached_value(user, account)
    return sign_in  # type: ignore[return-value]


class SessionStore(db.SessionStore):
    _sign_in: tuple[str | None, LoginSession | None] = (None, None)

    def load(self) -> dict[str, Any]:
        """The session's data, or an empty session (and no key) when it expired or is gone."""
        using = router.db_for_read(Session)
        key = self.session_key
        with connections[using].cursor() as cursor:
            cursor.execute(_read_sql(using), [key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._sign_in = (None, None)
            self._session_key = None
            return {}
        self._sign_in = (key, _instances(using, row[1:]))
        return self.decode(row[0])

    @property
    def sign_in(self) -> LoginSession | None:
        """The ``LoginSession`` row read with this session's data (None once the key changed)."""
        key, sign_in = self._sign_in
        return sign_in if key is not None and key == self.session_key else None
