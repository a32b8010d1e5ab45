"""Daily summaries: the dashboard, rankings, workload and reports read a period in hundreds of
rows instead of every order in it (docs/analytics.md, "Daily summaries").

Two tables hold, per local day, what the aggregates need — counts and sums, never averages, so
days add up to weeks, months and years:

- `DayFigures`, per day × category × channel × campus: orders reported, completed (successes,
  with a deadline, late, repair seconds, the longest), ratings closed that day by value;
- `DayPerson`, per day × person: as technician, as agent, as dispatcher (models.py).

Each figure is counted on the day of its own time (reported on created_at's day, completion on
completed_at's, ratings on closed_at's, first dispatches on the event's), so an order touches a
few days, and a change to it touches the days of its times and its events.

**Kept exact without touching the intake path.** Nothing is written when an order is created or
moves; instead `refresh()` reads the events written since it last ran, finds the orders they
belong to and recomputes every day those orders touch (their reported, completed and closed
days and the days of their events, which includes the day a reopened order had been completed)
from the orders themselves. Readers call it first, so a figure includes everything committed
before it was asked; when nothing happened it costs two small look-ups. A transaction that
committed an older event id after a refresh had passed it (ids are taken before commit) is
caught by the worker's minute job, which re-reads the events of the last few minutes.
Changes made without an event (an admin editing an order, a place moved to another campus)
reach the summaries when the nightly job recomputes the last `ANALYTICS_ROLLUP_RECENT_DAYS`
days, or at once with `repairhub analytics_rollup --rebuild`.

**Until the first build** (a new install, an upgrade, a restored database) the summaries are
not used and every figure is read from the orders; the worker's minute job builds them.

**What they cannot serve** is read from the orders as before: filters by team or by a place
below campus level, people's figures under any filter, medians (a median of days is not the
median of a month) and the backlog (it is about now, not about days).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from repairhub.workorders.models import Event, Result, WorkOrder

from . import queries
from .expressions import LocalBucket, Seconds
from .models import DayFigures, DayPerson, RollupState
from .periods import Filters, Grain, Period, bucket_start

log = logging.getLogger("repairhub.analytics")

# Re-read window of the minute job: longer than any transaction that writes an event.
OVERLAP = timedelta(minutes=3)
# Days recomputed per pass of a build (bounded memory whatever the history's size).
CHUNK_DAYS = 31
# More changed orders than this in one refresh (an import): recompute their whole span of days.
MANY_ORDERS = 20_000
# More new events than this (ids are consecutive, so the gap bounds their number): a reader
# leaves the catching up to the worker without reading them.
MANY_EVENTS = 50_000
RATINGS = range(1, 6)
BUSY = "analytics-rollup-busy"


def _zone() -> str:
    return str(timezone.get_current_timezone())


def _state() -> RollupState | None:
    return RollupState.objects.filter(pk=1).first()


def _usable(state: RollupState | None) -> bool:
    return state is not None and state.built_at is not None and state.zone == _zone()


def recent_days() -> int:
    return int(getattr(settings, "ANALYTICS_ROLLUP_RECENT_DAYS", 62))


# --- computing days from the orders ------------------------------------------------------------


def _day(field: str, period: Period) -> LocalBucket:
    return LocalBucket(field, Grain.DAY, period)


def _between(qs, field: str, period: Period):
    return qs.filter(**{f"{field}__gte": period.start_at, f"{field}__lt": period.end_at})


class _Rows:
    """Summary rows being counted: {key: [value per column]}, written with one prepared INSERT
    (model instances and the ORM's per-value preparation cost more than the counting)."""

    def __init__(self, model, keys: tuple[str, ...], columns: dict[str, object]):
        self.model, self.keys, self.columns = model, keys, list(columns)
        self.defaults = list(columns.values())
        self.at = {c: i for i, c in enumerate(self.columns)}
        self.rows: dict[tuple, list] = {}

    def __call__(self, key: tuple) -> list:
        found = self.rows.get(key)
        if found is None:
            found = self.rows[key] = list(self.defaults)
        return found

    def set(self, key: tuple, **values) -> None:
        row = self(key)
        for column, value in values.items():
            row[self.at[column]] = value

    def insert(self) -> None:
        quote = connection.ops.quote_name
        names = [*self.keys, *self.columns]
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.model._meta.db_table),
            ", ".join(quote(n) for n in names),
            ", ".join(["%s"] * len(names)),
        )
        day = connection.ops.adapt_datefield_value
        values = [(day(k[0]), *k[1:], *v) for k, v in self.rows.items()]
        with connection.cursor() as cursor:
            for i in range(0, len(values), 5000):
                cursor.executemany(sql, values[i : i + 5000])


FIGURE_COLUMNS = {
    "reported": 0,
    "completed": 0,
    "successes": 0,
    "with_deadline": 0,
    "late": 0,
    "repair_seconds": 0.0,
    "longest_seconds": None,
    **{f"rated_{k}": 0 for k in RATINGS},
}
PERSON_COLUMNS = {
    "completed": 0,
    "successes": 0,
    "with_deadline": 0,
    "late": 0,
    "repair_seconds": 0.0,
    "site_seconds": 0.0,
    "rated": 0,
    "rating_sum": 0,
    "calls": 0,
    "settled": 0,
    "first_contact": 0,
    "dispatched": 0,
    "dispatch_seconds": 0.0,
}


def _completions() -> dict:
    """The aggregates of a set of completed orders both tables keep."""
    return {
        "n": Count("*"),
        "ok": Count("completed_at", filter=Q(result=Result.SUCCESS)),
        "deadlines": Count("due_at"),
        "late": Count("completed_at", filter=queries.LATE),
        "seconds": Sum(queries.REPAIR_SECONDS),
    }


def _figures(period: Period) -> _Rows:
    """The DayFigures rows of the days of `period`, counted from the orders."""
    campus = queries._place_segment(Filters())
    orders = WorkOrder.objects.order_by()
    rows = _Rows(DayFigures, ("day", "category", "channel", "campus"), FIGURE_COLUMNS)
    reported_at = rows.at["reported"]

    def key(d, category, channel, place) -> tuple:
        return (d, category, channel, place or "")

    group = ("d", "category_id", "channel", "c")
    reported = (
        _between(orders, "created_at", period)
        .annotate(d=_day("created_at", period), c=campus)
        .values_list(*group)
        .annotate(n=Count("*"))
    )
    for *k, n in reported:
        rows(key(*k))[reported_at] += n
    completed = (
        _between(orders, "completed_at", period)
        .annotate(d=_day("completed_at", period), c=campus)
        .values_list(*group)
        .annotate(**_completions(), longest=Max(queries.REPAIR_SECONDS))
    )
    for d, category, channel, place, n, ok, deadlines, late, seconds, longest in completed:
        rows.set(
            key(d, category, channel, place),
            completed=n,
            successes=ok,
            with_deadline=deadlines,
            late=late,
            repair_seconds=seconds or 0.0,
            longest_seconds=longest,
        )
    rated = (
        _between(orders, "closed_at", period)
        .filter(rating__in=RATINGS)
        .annotate(d=_day("closed_at", period), c=campus)
        .values_list(*group, "rating")
        .annotate(n=Count("*"))
    )
    for *k, rating, n in rated:
        rows(key(*k))[rows.at[f"rated_{rating}"]] += n
    return rows


def _people(period: Period) -> _Rows:
    """The DayPerson rows of the days of `period`, counted from the orders and events."""
    orders = WorkOrder.objects.order_by()
    rows = _Rows(DayPerson, ("day", "person"), PERSON_COLUMNS)
    done = (
        _between(orders, "completed_at", period)
        .filter(assignee__isnull=False)
        .annotate(d=_day("completed_at", period))
        .values_list("d", "assignee_id")
        .annotate(**_completions(), site=Sum(queries.ON_SITE_SECONDS))
    )
    for d, who, n, ok, deadlines, late, seconds, site in done:
        rows.set(
            (d, who),
            completed=n,
            successes=ok,
            with_deadline=deadlines,
            late=late,
            repair_seconds=seconds or 0.0,
            site_seconds=site or 0.0,
        )
    liked = (
        _between(orders, "closed_at", period)
        .filter(rating__isnull=False, assignee__isnull=False)
        .annotate(d=_day("closed_at", period))
        .values_list("d", "assignee_id")
        .annotate(n=Count("*"), total=Sum("rating"))
    )
    for d, who, n, total in liked:
        rows.set((d, who), rated=n, rating_sum=total)
    calls = (
        _between(orders, "created_at", period)
        .filter(registered_by__isnull=False)
        .annotate(d=_day("created_at", period))
        .values_list("d", "registered_by_id")
        .annotate(
            n=Count("*"),
            settled=Count("created_at", filter=Q(status__in=queries.SETTLED)),
            good=Count("created_at", filter=queries.FIRST_CONTACT),
        )
    )
    for d, who, n, settled, good in calls:
        rows.set((d, who), calls=n, settled=settled, first_contact=good)
    dispatches = (
        queries.first_dispatches(period.start_at, period.end_at)
        .filter(order__accepted_at__isnull=False)
        .order_by()
        .annotate(d=_day("created_at", period))
        .values_list("d", "actor_id")
        .annotate(n=Count("*"), seconds=Sum(Seconds(F("created_at"), F("order__accepted_at"))))
    )
    for d, who, n, seconds in dispatches:
        # Nobody by hand (automatic dispatch, pool claims): person 0.
        rows.set((d, who or 0), dispatched=n, dispatch_seconds=seconds or 0.0)
    return rows


def _ranges(days: Iterable[date]) -> list[Period]:
    """Consecutive days as periods of at most CHUNK_DAYS days."""
    out: list[Period] = []
    start = end = None
    for d in sorted(set(days)):
        if start is not None and d == end + timedelta(days=1) and (d - start).days < CHUNK_DAYS:
            end = d
            continue
        if start is not None:
            out.append(Period(start, end))
        start = end = d
    if start is not None:
        out.append(Period(start, end))
    return out


def _write(period: Period) -> None:
    """Replace the summaries of the days of `period` by counts from the orders."""
    figures, people = _figures(period), _people(period)
    span = {"day__gte": period.start, "day__lte": period.end}
    DayFigures.objects.filter(**span).delete()
    DayPerson.objects.filter(**span).delete()
    figures.insert()
    people.insert()


def _local(moment) -> date:
    return timezone.localtime(moment).date()


def _span() -> list[date]:
    """Every day from the first order's report to today."""
    first = WorkOrder.objects.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return []
    start, today = _local(first), timezone.localdate()
    return [start + timedelta(days=i) for i in range((today - start).days + 1)]


def _days_of(order_ids: set[int]) -> set[date] | None:
    """Every day these orders count on: their reported, completed and closed days and the days of
    all their events (a reopened order's earlier completion is among them). None for more
    orders than MANY_ORDERS (an import): then every day is recomputed."""
    if len(order_ids) > MANY_ORDERS:
        return None
    days: set[date] = set()
    ids = sorted(order_ids)
    for i in range(0, len(ids), 2000):
        chunk = ids[i : i + 2000]
        times = WorkOrder.objects.filter(pk__in=chunk).values_list(
            "created_at", "completed_at", "closed_at"
        )
        for row in times:
            days.update(_local(t) for t in row if t is not None)
        events = Event.objects.filter(order_id__in=chunk).order_by().values_list("created_at")
        days.update(_local(t) for (t,) in events)
    return days


# --- keeping them up to date -------------------------------------------------------------------


class Busy(Exception):
    """Another process is updating the summaries."""


def _locked_state(*, nowait: bool = False) -> RollupState:
    RollupState.objects.get_or_create(pk=1)
    try:
        return RollupState.objects.select_for_update(nowait=nowait).get(pk=1)
    except OperationalError as exc:  # PostgreSQL: the row is locked and we would not wait
        raise Busy from exc


def _top_event() -> int:
    return Event.objects.aggregate(top=Max("id"))["top"] or 0


def _recompute(days: Iterable[date]) -> int:
    """Recompute these days, a chunk per transaction (a long write would hold up intake on
    SQLite), each under the state's lock; returns how many days."""
    count = 0
    for period in _ranges(days):
        with transaction.atomic():
            _locked_state()
            _write(period)
        count += period.days
    return count


def rebuild(days: Iterable[date] | None = None) -> int:
    """Recompute the summaries of these days, or of the whole history; returns how many days.

    A whole rebuild is the first build: the summaries are set aside while it runs (readers read
    the orders) and made usable at the end, up to the newest event seen when it began."""
    if days is not None:
        return _recompute(days)
    with transaction.atomic():
        state = _locked_state()
        state.built_at = None
        state.save()
    top = _top_event()
    count = _recompute(_span())
    with transaction.atomic():
        state = _locked_state()
        # Rows of days after today (a clock that ran ahead) must not remain.
        DayFigures.objects.filter(day__gt=timezone.localdate()).delete()
        DayPerson.objects.filter(day__gt=timezone.localdate()).delete()
        now = timezone.now()
        state.built_at, state.zone = now, _zone()
        state.seen_event_id = state.safe_event_id = state.checkpoint_event_id = top
        state.checkpoint_at = now
        state.save()
    log.info("analytics: daily summaries built for %d days", count)
    return count


def refresh(*, overlap: bool = False) -> bool:
    """Bring the summaries up to the newest event. Returns False when the caller must read the
    orders instead: the summaries are not built, or — for a reader — another process is updating
    them, or the catching up is a job for the worker (an import changed many days).

    `overlap` (the worker's minute job) re-reads the last minutes' events too and does any amount
    of catching up."""
    state = _state()
    if not _usable(state):
        return False
    top = _top_event()
    if top <= (state.safe_event_id if overlap else state.seen_event_id):
        return True
    since = state.safe_event_id if overlap else state.seen_event_id
    if not overlap and top - since > MANY_EVENTS:
        return False
    changed = set(
        Event.objects.filter(id__gt=since, id__lte=top)
        .order_by()
        .values_list("order_id", flat=True)
    )
    days = _days_of(changed)
    if not overlap and (days is None or len(days) > CHUNK_DAYS):
        return False
    if days is None or len(days) > CHUNK_DAYS:
        _recompute(_span() if days is None else days)
        days = set()
    try:
        with transaction.atomic():
            state = _locked_state(nowait=not overlap)
            if not _usable(state):
                return False
            if top > (state.safe_event_id if overlap else state.seen_event_id):
                for period in _ranges(days):
                    _write(period)
            state.seen_event_id = max(state.seen_event_id, top)
            now = timezone.now()
            if overlap and (state.checkpoint_at is None or now - state.checkpoint_at >= OVERLAP):
                # Every event up to the last checkpoint committed long ago and was read now.
                state.safe_event_id = state.checkpoint_event_id
                state.checkpoint_event_id, state.checkpoint_at = top, now
            state.save()
    except Busy:
        return False
    return True


def keep_up() -> int:
    """The worker's minute job: build the summaries if they never were, else catch up (with
    the re-read window). Returns the days built, or 0."""
    # A first build, or catching up after an import, may outlast the minute: one at a time.
    if not cache.add(BUSY, 1, timeout=6 * 3600):
        return 0
    try:
        if not _usable(_state()):
            return rebuild()
        refresh(overlap=True)
        return 0
    finally:
        cache.delete(BUSY)


def recompute_recent() -> int:
    """The nightly job: recompute the last ANALYTICS_ROLLUP_RECENT_DAYS days, which catches
    changes made without an event."""
    if not _usable(_state()):
        return 0
    today = timezone.localdate()
    return rebuild([today - timedelta(days=i) for i in range(recent_days())])


# --- reading them ------------------------------------------------------------------------------

# Within reading(): whether this reading's one refresh found the summaries usable.
_reading: ContextVar[dict | None] = ContextVar("analytics_rollup_reading", default=None)


@contextmanager
def reading() -> Iterator[None]:
    """One page's or report's figures: the summaries are brought up to date once, on the first
    figure, and every figure after it reads the same state (nested readings share the outer)."""
    if _reading.get() is not None:
        yield
        return
    token = _reading.set({})
    try:
        yield
    finally:
        _reading.reset(token)


def _current() -> bool:
    scope = _reading.get()
    if scope is None:
        return refresh()
    if "usable" not in scope:
        scope["usable"] = refresh()
    return scope["usable"]


def serves(f: Filters) -> bool:
    """Whether the order figures for these filters can come from DayFigures (after a refresh)."""
    if f.team is not None or f.teams is not None:
        return False
    if f.place is not None and f.place.parent_id is not None:
        return False
    return _current()


def serves_people(f: Filters) -> bool:
    """People's figures come from DayPerson only without filters."""
    plain = f.category is None and not f.channel and f.place is None
    return plain and f.team is None and f.teams is None and _current()


def _in(period: Period, qs):
    return qs.filter(day__gte=period.start, day__lte=period.end)


def _scoped(period: Period, f: Filters):
    qs = _in(period, DayFigures.objects.order_by())
    if f.category is not None:
        qs = qs.filter(
            category__in=[f.category.pk, *f.category.children.values_list("pk", flat=True)]
        )
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.place is not None:
        qs = qs.filter(campus=f.place.code)
    return qs


def completed_stats(period: Period, f: Filters) -> list[dict]:
    """queries.completed_stats_by_category() from the summaries: by bucket and category."""
    rows = (
        _scoped(period, f)
        .filter(completed__gt=0)
        .values_list("day", "category")
        .annotate(
            n=Sum("completed"),
            ok=Sum("successes"),
            deadlines=Sum("with_deadline"),
            late=Sum("late"),
            seconds=Sum("repair_seconds"),
            longest=Max("longest_seconds"),
        )
    )
    out: dict[tuple, dict] = {}
    for d, category, n, ok, deadlines, late, seconds, longest in rows:
        b = bucket_start(d, period.grain)
        r = out.setdefault(
            (b, category),
            {
                "b": b,
                "category_id": category,
                "n": 0,
                "ok": 0,
                "deadlines": 0,
                "late": 0,
                "seconds": 0.0,
                "longest": None,
            },
        )
        r["n"] += n
        r["ok"] += ok
        r["deadlines"] += deadlines
        r["late"] += late
        r["seconds"] += seconds
        if longest is not None and (r["longest"] is None or longest > r["longest"]):
            r["longest"] = longest
    return list(out.values())


SPLIT_COLUMNS = {"": None, "category": "category", "channel": "channel", "place": "campus"}


def serves_split(split: str, f: Filters) -> bool:
    """Volume splits the summaries hold: none, category, channel, and place at campus level."""
    if split not in SPLIT_COLUMNS or (split == "place" and f.place is not None):
        return False
    return serves(f)


def reported(period: Period, f: Filters, split: str = "category") -> list[tuple]:
    """(bucket, key, count) of the orders reported in the period, keyed like queries.volume()."""
    column = SPLIT_COLUMNS[split]
    keys = ("day", column) if column else ("day",)
    rows = _scoped(period, f).filter(reported__gt=0).values_list(*keys).annotate(n=Sum("reported"))
    out: dict[tuple, int] = defaultdict(int)
    for d, *key, n in rows:
        k = key[0] if key else ""
        if split == "place":
            k = k or None  # an order without a place, as queries._place_segment() says
        out[(bucket_start(d, period.grain), k)] += n
    return [(b, k, n) for (b, k), n in out.items()]


def ratings(period: Period, f: Filters) -> list[tuple]:
    """(bucket, rating, count) of the ratings given in the period."""
    rows = (
        _scoped(period, f)
        .values_list("day")
        .annotate(**{f"r{k}": Sum(f"rated_{k}") for k in RATINGS})
    )
    out: dict[tuple, int] = defaultdict(int)
    for d, *counts in rows:
        for rating, n in zip(RATINGS, counts, strict=True):
            if n:
                out[(bucket_start(d, period.grain), rating)] += n
    return [(b, rating, n) for (b, rating), n in out.items()]


def people(period: Period, *columns: str) -> dict[int, dict]:
    """{person: {column: sum}} over the period, for people with any of these figures."""
    has = Q()
    for c in columns:
        has |= Q(**{f"{c}__gt": 0})
    rows = (
        _in(period, DayPerson.objects.order_by())
        .filter(has)
        .values("person")
        .annotate(**{c: Sum(c) for c in columns})
    )
    return {r.pop("person"): r for r in rows}


def people_by_day(period: Period, *columns: str) -> list[dict]:
    """One dict per person and day with these figures (any of them non-zero)."""
    has = Q()
    for c in columns:
        has |= Q(**{f"{c}__gt": 0})
    return list(
        _in(period, DayPerson.objects.order_by()).filter(has).values("day", "person", *columns)
    )
