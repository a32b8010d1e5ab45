"""Database expressions the aggregates need, native on SQLite and PostgreSQL.

Django's own date truncation and datetime subtraction run as Python functions inside SQLite
(one call per row); at millions of orders that is the whole cost. These compile to the
databases' built-in functions instead:

- `Seconds(end, start)`: seconds between two timestamps (julianday on SQLite, date_part('epoch')
  on PostgreSQL), a float.
- `LocalBucket(field, grain, period)`: the local day, Monday or 1st of the month of a
  timestamp, as a date (DATE_TRUNC … AT TIME ZONE on PostgreSQL; date()/strftime() with the
  zone's UTC offset on SQLite when that offset is the same throughout the period, else
  Django's Trunc).
- `medians(qs, key, value)`: the exact median of `value` per `key` (the middle value, or the
  mean of the middle two) in one statement: PostgreSQL's `percentile_cont(0.5)`, and on SQLite
  an aggregate registered on the connection that sorts each key's values (SQLite's window
  functions cost about four times as much). `medians_and_total` adds the median of all rows
  from the same reading.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.db import NotSupportedError, connection
from django.db.models import DateField, FloatField, Func, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone

from .periods import Grain, Period


class Seconds(Func):
    """Seconds from `start` to `end` (NULL when either is NULL)."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        if connection.vendor == "sqlite":
            sql = f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)"
        elif connection.vendor == "postgresql":
            # date_part() works in double precision; EXTRACT() returns numeric (PostgreSQL 14+),
            # several times slower per row for the same seconds.
            sql = f"date_part('epoch', {end_sql} - {start_sql})"
        else:  # pragma: no cover - RepairHub runs on SQLite and PostgreSQL only
            raise NotSupportedError("Seconds() supports SQLite and PostgreSQL.")
        return sql, (*end_params, *start_params)


def fixed_offset(period: Period) -> int | None:
    """The zone's UTC offset in seconds if it is the same on every day of the period."""
    return _fixed_offset(timezone.get_current_timezone(), period.start, period.days)


@lru_cache(maxsize=256)
def _fixed_offset(tz, start: date, days: int) -> int | None:
    # Noon of each day from the day before to the day after: a change at night on the first or
    # last day still shows between two samples.
    first = datetime.combine(start - timedelta(days=1), time(12))
    offsets = {tz.utcoffset(first + timedelta(days=i)) for i in range(days + 2)}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return int(offset.total_seconds()) if offset is not None else None


class LocalBucket(Trunc):
    """The first local day of the bucket (day, week from Monday, month) holding a timestamp."""

    def __init__(self, expression, grain: str, period: Period, **extra):
        super().__init__(
            expression,
            grain,
            output_field=DateField(),
            tzinfo=timezone.get_current_timezone(),
            **extra,
        )
        self.grain = grain
        self.offset = fixed_offset(period)

    def as_sqlite(self, compiler, connection, **extra):
        if self.offset is None:
            return super().as_sql(compiler, connection, **extra)
        sql, params = compiler.compile(self.lhs)
        shift = f"{self.offset:+d} seconds"
        if self.grain == Grain.MONTH:
            return f"strftime(%s, {sql}, %s)", ("%Y-%m-01", *params, shift)
        if self.grain == Grain.WEEK:
            # 'weekday 0' moves to the coming Sunday (or stays); six days back is its Monday.
            return f"date({sql}, %s, 'weekday 0', '-6 days')", (*params, shift)
        return f"date({sql}, %s)", (*params, shift)


def _median(values: list) -> float:
    values.sort()
    n = len(values)
    if n % 2:
        return float(values[n // 2])
    return (values[n // 2 - 1] + values[n // 2]) / 2


class _SqliteMedians:
    """SQLite aggregate `repairhub_medians(key, value)`: the exact median of the values per key
    and over all rows, as JSON {"keys": [[key, median], …], "all": median of all}.

    SQLite runs window functions row by row in its virtual machine (about 4 µs a row here) and
    sorts for every GROUP BY; this aggregate reads the rows once and sorts plain lists, about a
    quarter of the cost. The middle one or two values are averaged as AVG() over them would.
    """

    def __init__(self):
        self.values: dict = {}
        self.every: list = []

    def step(self, key, value):
        if value is not None:
            self.values.setdefault(key, []).append(value)
            self.every.append(value)

    def finalize(self):
        return json.dumps(
            {
                "keys": [[k, _median(v)] for k, v in self.values.items()],
                "all": _median(self.every) if self.every else None,
            }
        )


def _medians(qs: QuerySet, key, value) -> tuple[dict, float | None]:
    inner = (
        qs.order_by().annotate(_k=key, _v=value).filter(_v__isnull=False).values_list("_k", "_v")
    )
    sql, params = inner.query.sql_with_params()
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_aggregate("repairhub_medians", 2, _SqliteMedians)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT repairhub_medians(_k, _v) FROM ({sql}) AS _rows", params)
            (found,) = cursor.fetchone()
        if not found:  # no rows: SQLite does not call finalize()
            return {}, None
        out = json.loads(found)
        return {k: v for k, v in out["keys"]}, out["all"]
    if connection.vendor == "postgresql":
        # An ordered-set aggregate sorts each group once; the empty grouping set is the whole.
        outer = (
            "SELECT _k, GROUPING(_k), percentile_cont(0.5) WITHIN GROUP (ORDER BY _v)"
            f" FROM ({sql}) AS _rows GROUP BY GROUPING SETS ((_k), ())"
        )
        per_key: dict = {}
        total = None
        with connection.cursor() as cursor:
            cursor.execute(outer, params)
            for k, whole, v in cursor.fetchall():
                if whole:
                    total = None if v is None else float(v)
                else:
                    per_key[k] = float(v)
        return per_key, total
    raise NotSupportedError("medians() supports SQLite and PostgreSQL.")  # pragma: no cover


def medians(qs: QuerySet, key, value) -> dict:
    """{key: median of value} over the rows of `qs` where value is not NULL."""
    return _medians(qs, key, value)[0]


def medians_and_total(qs: QuerySet, key, value) -> tuple[dict, float | None]:
    """medians(qs, key, value) and the median over all the rows, from one reading of the rows."""
    return _medians(qs, key, value)
