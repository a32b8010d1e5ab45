"""Database expressions the aggregates need, native on SQLite and PostgreSQL.

Django's own date truncation and datetime subtraction run as Python functions inside SQLite
(one call per row); at millions of orders that is the whole cost. These compile to the
databases' built-in functions instead:

- `Seconds(end, start)`: seconds between two timestamps (julianday on SQLite, EXTRACT(EPOCH)
  on PostgreSQL), a float.
- `LocalBucket(field, grain, period)`: the local day, Monday or 1st of the month of a
  timestamp, as a date (DATE_TRUNC … AT TIME ZONE on PostgreSQL; date()/strftime() with the
  zone's UTC offset on SQLite when that offset is the same throughout the period, else
  Django's Trunc).
- `medians(qs, key, value)`: the median of `value` per `key` with window functions
  (ROW_NUMBER and COUNT over the group, average of the middle one or two rows), the same SQL
  on both databases.
"""

from __future__ import annotations

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
            sql = f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})))::double precision"
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


def medians(qs: QuerySet, key, value) -> dict:
    """{key: median of value} over the rows of `qs` where value is not NULL."""
    inner = (
        qs.order_by().annotate(_k=key, _v=value).filter(_v__isnull=False).values_list("_k", "_v")
    )
    sql, params = inner.query.sql_with_params()
    outer = (
        "SELECT _k, AVG(_v) FROM ("
        " SELECT _k, _v,"
        " ROW_NUMBER() OVER (PARTITION BY _k ORDER BY _v) AS _rn,"
        " COUNT(*) OVER (PARTITION BY _k) AS _n"
        f" FROM ({sql}) AS _rows"
        ") AS _ranked WHERE _rn IN ((_n + 1) / 2, (_n + 2) / 2) GROUP BY _k"
    )
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        return {k: float(v) for k, v in cursor.fetchall()}
