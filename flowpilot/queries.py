"""
Querysets compiled once. A list a page shows on every request (a dashboard panel, the first page
of the queue) is a queryset whose shape never changes, only the ids it filters on; the ORM spends
more CPU building and compiling such a queryset (1-4 ms for a join with subqueries) than the
database spends answering it (~0.2 ms). ``Prepared`` builds the queryset once per database
backend with stand-in ids, keeps its SQL and its compiler, and on each call binds the real ids
to that SQL and makes the rows as the queryset itself would (the same model instances, related
objects and annotations). The queryset stays the one definition of the filters: the SQL is
the ORM's own.

Only integer parameters are bound (ids); a value of another type belongs in the queryset as a
constant, or the query goes through the ORM as usual (``Prepared`` refuses a builder whose SQL
does not carry every stand-in exactly as given, and one whose SQL carries a date or time: a
"since a day ago" compiled once would mean the first call's day for ever).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=models.Model)

# Stand-in ids: far outside any real id, so a match in the compiled parameters is one of them.
_STAND_IN_BASE = 8_000_000_000_000_000_000
_ID_RANGE = range(-(2**63), 2**63)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each parameter of the SQL: the name of the id bound there, or None for a constant.
    slots: tuple[str | None, ...]
    constants: tuple[Any, ...]
    compiler: SQLCompiler
    model_rows: bool

    def bind(self, values: dict[str, int]) -> list[Any]:
        return [
            values[name] if name is not None else constant
            for name, constant in zip(self.slots, self.constants, strict=True)
        ]


class Prepared(Generic[M]):
    """``Prepared(build, "account_id", "user_id")``; ``.rows(account_id=1, user_id=2)``."""

    def __init__(self, build: Callable[..., models.QuerySet[M, Any]], *names: str) -> None:
        self._build = build
        self._names = names
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        key = (using, connection.vendor)
        found = self._compiled.get(key)
        if found is not None:
            return found
        stand_ins = {name: _STAND_IN_BASE + index for index, name in enumerate(self._names)}
        queryset = self._build(**stand_ins)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in stand_ins.items()}
        slots = tuple(by_value.get(param) if type(param) is int else None for param in params)
        missing = set(self._names) - set(slots)
        leaked = [name for name, value in stand_ins.items() if str(value) in sql]
        if missing or leaked:
            raise ValueError(f"Prepared query does not bind {sorted(missing | set(leaked))}")
        frozen = [param for param in params if isinstance(param, (date, time, timedelta))]
        if frozen:
            # A time in the SQL would be the first call's "now" for the life of the process.
            raise ValueError(f"Prepared query would freeze the times {frozen}: keep it in the ORM")
        model_rows = queryset._iterable_class is ModelIterable
        compiled = _Compiled(sql, slots, tuple(params), compiler, model_rows)
        with self._lock:
            self._compiled[key] = compiled
        return compiled

    def _can_match(self, values: dict[str, int]) -> bool:
        """
        Whether these ids can name a row: ids are 64-bit, so one outside that range matches
        nothing (and the database would refuse to bind it) — the caller gets no row, no query.
        """
        if set(values) != set(self._names):
            raise TypeError(f"Prepared query takes {self._names}, got {sorted(values)}")
        if any(type(value) is not int for value in values.values()):
            raise TypeError(f"Prepared query binds integer ids, got {values!r}")
        return all(value in _ID_RANGE for value in values.values())

    def _fetch(self, values: dict[str, int], using: str) -> tuple[_Compiled, list[Sequence[Any]]]:
        compiled = self._compile(using)
        if not self._can_match(values):
            return compiled, []
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.bind(values))
            fetched = cursor.fetchall()
        compiler = compiled.compiler
        if compiler.has_extra_select:
            fetched = [row[: compiler.col_count] for row in fetched]
        return compiled, list(compiler.results_iter(results=[fetched]))

    def rows(self, *, using: str = "default", **values: int) -> list[M]:
        """The queryset's model instances (with its select_related objects and annotations)."""
        compiled, fetched = self._fetch(values, using)
        if not compiled.model_rows:
            raise TypeError("rows() reads a queryset of model instances; use tuples()")
        compiler = compiled.compiler
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None  # noqa: S101 - a model queryset always has it
        model = klass_info["model"]
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        attnames = [column[0].target.attname for column in select[start:end]]
        # Django 5.2's signature (the stubs describe a later one).
        populators = get_related_populators(klass_info, select, using)  # type: ignore[call-arg]
        annotations = compiler.annotation_col_map or {}
        result = []
        for row in fetched:
            obj = model.from_db(using, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            result.append(obj)
        return result

    def tuples(self, *, using: str = "default", **values: int) -> list[tuple[Any, ...]]:
        """The rows as tuples, in the queryset's column order (a ``values_list`` queryset)."""
        return [tuple(row) for row in self._fetch(values, using)[1]]

    def count(self, *, using: str = "default", **values: int) -> int:
        """How many rows the queryset answers (a sliced queryset: at most its slice)."""
        if not self._can_match(values):
            return 0
        compiled = self._compile(using)
        with connections[using].cursor() as cursor:
            counted = f"SELECT COUNT(*) FROM ({compiled.sql}) counted"  # noqa: S608 - ORM's SQL
            cursor.execute(counted, compiled.bind(values))
            row = cursor.fetchone()
        return int(row[0]) if row else 0
