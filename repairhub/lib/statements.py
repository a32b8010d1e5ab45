"""Hot reads with the SQL built once by the ORM, then run with new values (cf. lib/rows.py).

Compiling a QuerySet to SQL costs the ORM more than a small indexed read costs the database
(docs/benchmarks.md: 0.44 ms through the ORM, 0.13 ms as SQL). A `Statement` keeps the query
defined by the ORM — one readable source of truth — but compiles it once per database and
shape: it builds the QuerySet with placeholder values, keeps `sql_with_params()`, remembers
where each placeholder landed among the parameters, and on each call runs that SQL with the
real values put in their places, converting the columns as the ORM would (`from_db_value`).

    _OPEN = Statement(lambda user: WorkOrder.objects.filter(assignee_id=user).values_list("id"))
    _OPEN.rows(user=7)  # [(12,), (15,)]

Limits:
- the query's shape must depend only on the number of items in list parameters (one SQL per
  length): no branching on values inside `build`, no empty lists (the ORM would answer
  without SQL);
- values are integers, strings or aware datetimes compared with a DateTimeField (adapted with
  `connection.ops.adapt_datetimefield_value`, as the ORM does), or non-empty lists of those;
  booleans and None are refused — bake them into the query instead;
- the QuerySet is a `values_list()` (rows are tuples) or a plain model query without
  `select_related`, `only()` or annotations (`objects()` gives instances);
- `select_for_update()` keeps its FOR UPDATE (and OF) clause (none on SQLite, which locks
  the whole database on write), and is refused outside a transaction on every database, so
  a test on SQLite catches what PostgreSQL would refuse.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.query import QuerySet
from django.db.transaction import TransactionManagementError

_BASE = 1_900_000_000  # placeholder integers: far from any key the tests or a site will use


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list[Any]  # the compiled parameters; placeholders are overwritten per call
    slots: dict[str, list[tuple[int, int | None]]]  # name → [(position, item index or None)]
    converters: dict[int, tuple[list, Any]]
    model: type[models.Model] | None  # set for a model query (instances), else rows
    locks: bool


class Statement:
    """One ORM-defined read, compiled once per database alias, vendor and shape."""

    def __init__(self, build: Callable[..., QuerySet], *, using: str = DEFAULT_DB_ALIAS):
        self._build = build
        self._using = using
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()

    def sql(self, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and parameters run for these values: what `sql_with_params()` gives."""
        compiled, connection = self._prepare(values)
        return compiled.sql, self._params(compiled, connection, values)

    def rows(self, **values: Any) -> list[tuple]:
        """The query's rows for these values, converted as the ORM converts them."""
        compiled, connection = self._prepare(values)
        params = self._params(compiled, connection, values)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for i, (convs, expression) in compiled.converters.items():
                    value = row[i]
                    for convert in convs:
                        value = convert(value, expression, connection)
                    row[i] = value
        return [tuple(row) for row in rows]

    def objects(self, **values: Any) -> list[models.Model]:
        """The query's rows as model instances (a plain model query only)."""
        compiled, _connection = self._prepare(values)
        if compiled.model is None:
            raise TypeError("objects() needs a model query; this one is a values_list()")
        model = compiled.model
        names = [f.attname for f in model._meta.concrete_fields]
        return [model.from_db(self._using, names, row) for row in self.rows(**values)]

    @staticmethod
    def _params(compiled: _Compiled, connection, values: dict[str, Any]) -> list[Any]:
        params = list(compiled.params)
        adapt = connection.ops.adapt_datetimefield_value
        for name, slots in compiled.slots.items():
            value = values[name]
            for position, item in slots:
                v = value if item is None else value[item]
                params[position] = adapt(v) if isinstance(v, dt.datetime) else v
        return params

    def _prepare(self, values: dict[str, Any]):
        connection = connections[self._using]
        shape = tuple(
            (name, len(v) if isinstance(v, list | tuple) else None)
            for name, v in sorted(values.items())
        )
        key = (self._using, connection.vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(values, connection)
                self._compiled[key] = compiled
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        return compiled, connection

    def _compile(self, values: dict[str, Any], connection) -> _Compiled:
        marks: dict[str, Any] = {}
        n = 0
        for name, value in values.items():
            if isinstance(value, list | tuple):
                if not value:
                    raise ValueError(f"{name}: an empty list has no SQL; answer it before")
                marks[name] = [_mark(name, v, n + i) for i, v in enumerate(value)]
                n += len(value)
            else:
                marks[name] = _mark(name, value, n)
                n += 1
        qs = self._build(**marks)
        query = qs.query
        is_model = qs._fields is None and not query.values_select
        if is_model and (query.select_related or query.deferred_loading[0] or query.annotations):
            raise TypeError("a model query with select_related, only() or annotations")
        compiler = query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        params = list(params)
        adapt = connection.ops.adapt_datetimefield_value
        slots: dict[str, list[tuple[int, int | None]]] = {}
        for name, mark in marks.items():
            items = list(enumerate(mark)) if isinstance(mark, list) else [(None, mark)]
            for item, m in items:
                wanted = adapt(m) if isinstance(m, dt.datetime) else m
                found = [i for i, p in enumerate(params) if type(p) is type(wanted) and p == wanted]
                if not found:
                    raise TypeError(f"{name}: the ORM did not pass it as a parameter")
                slots.setdefault(name, []).extend((i, item) for i in found)
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        return _Compiled(
            sql=sql,
            params=params,
            slots=slots,
            converters=converters,
            model=query.model if is_model else None,
            locks=bool(query.select_for_update),
        )


def _mark(name: str, value: Any, n: int) -> Any:
    """A placeholder of the value's type the ORM passes through and nothing else contains."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name}: booleans and None change the SQL; put them in the query")
    if isinstance(value, int):
        return _BASE + n
    if isinstance(value, str):
        return f"\ue000statement-{n}\ue000"
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return dt.datetime(1901, 1, 1, 0, 0, 0, n + 1, tzinfo=dt.UTC)
    raise TypeError(f"{name}: {type(value).__name__} values are not supported")
