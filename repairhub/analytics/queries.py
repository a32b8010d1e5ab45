"""The dashboard's figures (AN1, AN6) and the orders behind each one (drill-down).

Every figure is an aggregate computed in the database (GROUP BY over the order table with
native date and duration expressions, see expressions.py) from one of a few named sets of
orders, each tied to the time that puts an order in a period:

| set          | an order is in the period when …                     | figures                       |
|--------------|------------------------------------------------------|-------------------------------|
| `reported`   | it was reported (created_at)                         | volume                        |
| `completed`  | its repair was completed (completed_at)              | fault types, repair times     |
| `deadline`   | completed in the period and had a deadline (due_at)  | on-time rate                  |
| `rated`      | it was closed with a rating (closed_at)              | satisfaction                  |
| `backlog`    | it is open now (the period does not apply)           | backlog by state              |
| `registered` | an agent registered it at the desk (created_at)      | agents' workload              |
| `dispatched` | its first dispatch happened (the event's time)       | dispatchers' ranking          |

`orders_behind()` returns exactly the set a figure was computed from, so a drill-down lists
the orders that make a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import StrIndex, Substr
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.accounts.models import Team, User
from repairhub.places.models import Place
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category, Channel, Event, Result, WorkOrder
from repairhub.workorders.states import EVENT_CODES, OPEN, Action, Status

from . import rollup
from .expressions import LocalBucket, Seconds, medians_and_total
from .periods import Filters, Period

EVENT_DISPATCHED = EVENT_CODES[Action.DISPATCH]
HOUR = 3600.0
# More series than this in one chart are summed up as "其他".
MAX_SERIES = 10
OTHER = "other"
NONE = "none"


class Figure:
    REPORTED = "reported"
    COMPLETED = "completed"
    DEADLINE = "deadline"
    RATED = "rated"
    BACKLOG = "backlog"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"


FIGURES = {
    Figure.REPORTED: "created_at",
    Figure.COMPLETED: "completed_at",
    Figure.DEADLINE: "completed_at",
    Figure.RATED: "closed_at",
    Figure.BACKLOG: "",
    Figure.REGISTERED: "created_at",
    Figure.DISPATCHED: "",  # the first dispatch event's time
}
SPLITS = ("category", "channel", "place", "team")

# Durations measured on an order.
REPAIR_SECONDS = Seconds("completed_at", "received_at")  # report to completion
ON_SITE_SECONDS = Seconds("completed_at", "arrived_at")
ARRIVAL_SECONDS = Seconds("arrived_at", "dispatched_at")
# Late: completed after the deadline. When the SLA clocks (repairhub/sla) are the source of
# deadlines, this is the one expression to replace (docs/analytics.md, "On time").
LATE = Q(completed_at__gt=F("due_at"))
# An agent's call is settled when it can no longer change: the rate is over these.
SETTLED = (Status.COMPLETED, Status.CLOSED, Status.REJECTED, Status.CANCELLED)


def in_hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 2)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- the sets ----------------------------------------------------------------------------------


def scope_q(f: Filters, prefix: str = "") -> Q:
    """The filters as a condition on an order, or on a relation to one (`prefix="order__"`),
    so a set of events is filtered by a join instead of a sub-query over every order."""
    q = Q()
    if f.category is not None:
        ids = [f.category.pk, *f.category.children.values_list("pk", flat=True)]
        q &= Q(**{f"{prefix}category_id__in": ids})
    if f.channel:
        q &= Q(**{f"{prefix}channel": f.channel})
    if f.place is not None:
        q &= Q(**{f"{prefix}place_id__in": Place.objects.within(f.place).values("pk")})
    if f.team is not None:
        q &= Q(**{f"{prefix}assignee__team": f.team})
    if f.teams is not None:
        q &= Q(**{f"{prefix}assignee__team_id__in": f.teams})
    return q


def in_scope(f: Filters) -> QuerySet[WorkOrder]:
    """Orders matching the filters, whatever their time."""
    return WorkOrder.objects.filter(scope_q(f))


def _between(qs: QuerySet, field: str, start, end) -> QuerySet:
    return qs.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def reported(period: Period, f: Filters) -> QuerySet[WorkOrder]:
    return _between(in_scope(f), "created_at", period.start_at, period.end_at)


def completed(period: Period, f: Filters) -> QuerySet[WorkOrder]:
    """Orders whose repair was completed in the period (a reopened order has no completion
    until it is completed again)."""
    return _between(in_scope(f), "completed_at", period.start_at, period.end_at)


def with_deadline(period: Period, f: Filters) -> QuerySet[WorkOrder]:
    return completed(period, f).filter(due_at__isnull=False)


def rated(period: Period, f: Filters) -> QuerySet[WorkOrder]:
    return _between(in_scope(f), "closed_at", period.start_at, period.end_at).filter(
        rating__isnull=False
    )


def backlog_orders(f: Filters) -> QuerySet[WorkOrder]:
    return in_scope(f).filter(status__in=OPEN)


def registered(period: Period, f: Filters) -> QuerySet[WorkOrder]:
    return reported(period, f).filter(registered_by__isnull=False)


def first_dispatches(start, end) -> QuerySet[Event]:
    """Each order's first dispatch, when it happened between start and end. Later dispatches
    (after a decline or a reopening) would count the technician's time as the dispatcher's."""
    earlier = Event.objects.filter(
        order=OuterRef("order"), code=EVENT_DISPATCHED, id__lt=OuterRef("id")
    )
    return _between(Event.objects.filter(code=EVENT_DISPATCHED), "created_at", start, end).filter(
        ~Exists(earlier)
    )


# --- dashboard figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    key: str
    label: str


def _category_rollup(f: Filters):
    """Map a leaf category id to the series it belongs to: top-level categories without a
    category filter, the filtered category's children with one."""
    cats = {c.pk: c for c in Category.objects.all()}

    def key(cat_id: int) -> Label:
        cat = cats[cat_id]
        if f.category is None and cat.parent_id:
            cat = cats[cat.parent_id]
        return Label(str(cat.pk), str(cat))

    return key


def _place_segment(f: Filters):
    """The code of the place one level below the filtered place (the campus without a filter)
    that an order's place lies under, computed by the database from the materialised path
    ("E/E03/E03-2F/E03-201"): a chart needs a handful of series, not one row per room.
    '' for an order at the filtered place itself; NULL for an order without a place."""
    path = F("place__path")
    # What follows "<filtered path>/" (the whole path without a filter) …
    rest = path if f.place is None else Substr(path, len(f.place.path) + 2)
    cut = StrIndex(rest, Value("/"))
    # … up to its next "/".
    return Case(
        When(GreaterThan(cut, 0), then=Substr(rest, 1, cut - 1)),
        default=rest,
        output_field=CharField(),
    )


def _place_rollup(codes, f: Filters):
    """Map a _place_segment() code to its series: the node one level below the filtered place
    (the top level without a place filter); an order at the filtered place itself stays there."""
    wanted = {c or f.place.code for c in codes if c is not None}
    nodes = {p.code: p for p in Place.objects.filter(code__in=wanted)}

    def key(code: str | None) -> Label:
        if code is None:
            return Label(NONE, _("未选地点"))
        node = nodes[code or f.place.code]
        return Label(str(node.pk), node.full_name or node.name)

    return key


def _team_rollup():
    teams = dict(Team.objects.values_list("pk", "name"))

    def key(team_id: int | None) -> Label:
        if team_id is None:
            return Label(NONE, _("未派工或无班组"))
        return Label(str(team_id), teams[team_id])

    return key


def _split_key(split: str, f: Filters):
    return {
        "category": F("category_id"),
        "channel": F("channel"),
        "place": _place_segment(f),
        "team": F("assignee__team_id"),
    }.get(split, Value(""))


def _check_split(split: str) -> None:
    if split and split not in SPLITS:
        raise InvalidInput(
            _("分组只能是：类别、渠道、地点、班组（category、channel、place、team）。"),
            field="split",
        )


def volume(period: Period, f: Filters, split: str = "") -> dict:
    """Orders reported per bucket, one series per category, channel, place or team."""
    _check_split(split)
    if rollup.serves_split(split, f):
        return _volume(period, f, split, rollup.reported(period, f, split))
    rows = list(
        reported(period, f)
        .order_by()
        .annotate(b=LocalBucket("created_at", period.grain, period), k=_split_key(split, f))
        .values_list("b", "k")
        .annotate(n=Count("*"))
    )
    return _volume(period, f, split, rows)


def _volume(period: Period, f: Filters, split: str, rows: list[tuple]) -> dict:
    """The volume chart from (bucket, series key, count) rows; a key may repeat in a bucket."""
    if split == "category":
        label = _category_rollup(f)
    elif split == "place":
        label = _place_rollup({k for _b, k, _n in rows}, f)
    elif split == "team":
        label = _team_rollup()
    elif split == "channel":
        names = dict(Channel.choices)

        def label(k):
            return Label(k, str(names.get(k, k)))
    else:

        def label(k):
            return Label("", _("报修量"))

    buckets = period.buckets()
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[str, dict] = {}
    labels: dict = {}
    for b, k, n in rows:
        lab = labels.get(k)
        if lab is None:
            lab = labels[k] = label(k)
        s = series.setdefault(
            lab.key, {"key": lab.key, "label": lab.label, "data": [0] * len(buckets)}
        )
        s["data"][index[b]] += n
    ordered = sorted(series.values(), key=lambda s: (-sum(s["data"]), s["label"]))
    for s in ordered:
        s["total"] = sum(s["data"])
    if len(ordered) > MAX_SERIES:
        rest = ordered[MAX_SERIES - 1 :]
        other = {
            "key": OTHER,
            "label": _("其他"),
            "data": [sum(s["data"][i] for s in rest) for i in range(len(buckets))],
            "total": sum(s["total"] for s in rest),
        }
        ordered = [*ordered[: MAX_SERIES - 1], other]
    if not split and not ordered:
        ordered = [{"key": "", "label": _("报修量"), "data": [0] * len(buckets), "total": 0}]
    return {
        "split": split,
        "buckets": [b.isoformat() for b in buckets],
        "series": ordered,
        "total": sum(s["total"] for s in ordered),
    }


def backlog(f: Filters, *, now=None) -> dict:
    """Open orders now, by state, and how many of them are past their deadline."""
    now = now or timezone.now()
    # One pass over the open orders (index wo_status_due): counted and overdue together.
    rows = (
        backlog_orders(f)
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"), overdue=Count("due_at", filter=Q(due_at__lt=now)))
    )
    counts = {status: (n, overdue) for status, n, overdue in rows}
    states = [
        {
            "status": s.value,
            "label": str(s.label),
            "count": counts.get(s.value, (0, 0))[0],
        }
        for s in Status
        if s in OPEN
    ]
    return {
        "total": sum(n for n, _ in counts.values()),
        "overdue": sum(late for _, late in counts.values()),
        "states": states,
    }


def on_time(period: Period, f: Filters) -> dict:
    """Of the orders completed in the period that had a deadline, the share completed by it."""
    if rollup.serves(f):
        by_bucket: dict = {}
        for r in rollup.completed_stats(period, f):
            n, late = by_bucket.get(r["b"], (0, 0))
            by_bucket[r["b"]] = (n + r["deadlines"], late + r["late"])
        return _on_time(period, by_bucket)
    rows = (
        with_deadline(period, f)
        .order_by()
        .annotate(b=LocalBucket("completed_at", period.grain, period))
        .values_list("b")
        .annotate(n=Count("*"), late=Count("completed_at", filter=LATE))
    )
    return _on_time(period, {b: (n, late) for b, n, late in rows})


def _on_time(period: Period, by_bucket: dict) -> dict:
    """The on-time figures from {bucket: (completed with a deadline, late)}."""
    buckets = []
    for b in period.buckets():
        n, late = by_bucket.get(b, (0, 0))
        buckets.append(
            {
                "bucket": b.isoformat(),
                "with_deadline": n,
                "on_time": n - late,
                "rate": share(n - late, n),
            }
        )
    n = sum(b["with_deadline"] for b in buckets)
    good = sum(b["on_time"] for b in buckets)
    return {
        "with_deadline": n,
        "on_time": good,
        "late": n - good,
        "rate": share(good, n),
        "buckets": buckets,
    }


def satisfaction(period: Period, f: Filters) -> dict:
    """Ratings (1–5) given in the period: mean and count per bucket, and how many of each."""
    # One pass: how many of each rating per bucket; the means and the distribution follow.
    if rollup.serves(f):
        rows = rollup.ratings(period, f)
    else:
        rows = (
            rated(period, f)
            .order_by()
            .annotate(b=LocalBucket("closed_at", period.grain, period))
            .values_list("b", "rating")
            .annotate(n=Count("*"))
        )
    per_bucket: dict[date, list[int]] = {}
    dist: dict[int, int] = {}
    for b, rating, n in rows:
        counted = per_bucket.setdefault(b, [0, 0])
        counted[0] += n
        counted[1] += rating * n
        dist[rating] = dist.get(rating, 0) + n
    buckets = []
    for b in period.buckets():
        n, total = per_bucket.get(b, (0, 0))
        buckets.append(
            {
                "bucket": b.isoformat(),
                "rated": n,
                "mean": round(total / n, 2) if n else None,
            }
        )
    n = sum(dist.values())
    total = sum(k * v for k, v in dist.items())
    return {
        "rated": n,
        "mean": round(total / n, 2) if n else None,
        "distribution": [{"rating": k, "count": dist.get(k, 0)} for k in range(1, 6)],
        "buckets": buckets,
    }


def completed_stats_by_category(period: Period, f: Filters) -> list[dict]:
    """The completed orders in one pass, by bucket and category: how many, how many repaired
    successfully, with a deadline and late, and their repair times (count, sum, longest)."""
    if rollup.serves(f):
        return rollup.completed_stats(period, f)
    return list(
        completed(period, f)
        .order_by()
        .annotate(b=LocalBucket("completed_at", period.grain, period))
        .values("b", "category_id")
        .annotate(
            n=Count("*"),
            ok=Count("completed_at", filter=Q(result=Result.SUCCESS)),
            deadlines=Count("due_at"),
            late=Count("completed_at", filter=LATE),
            # Every completed order has a repair time (received_at is never empty), so the
            # mean is seconds / n.
            seconds=Sum(REPAIR_SECONDS),
            longest=Max(REPAIR_SECONDS),
        )
    )


def _reported_by_category(period: Period, f: Filters) -> list[tuple]:
    """(bucket, category, count) of the orders reported in the period."""
    if rollup.serves(f):
        return rollup.reported(period, f, "category")
    return list(
        reported(period, f)
        .order_by()
        .annotate(b=LocalBucket("created_at", period.grain, period))
        .values_list("b", "category_id")
        .annotate(n=Count("*"))
    )


def _mean(seconds, count: int) -> float | None:
    return seconds / count if count else None


def _fault_types(period: Period, f: Filters, done: list[dict], new_rows: list[tuple]) -> dict:
    """fault_types() from the passes over the completed and the reported orders."""
    stats: dict[int, dict] = {}
    for r in done:
        s = stats.setdefault(r["category_id"], {"n": 0, "ok": 0, "seconds": 0.0, "longest": None})
        s["n"] += r["n"]
        s["ok"] += r["ok"]
        s["seconds"] += r["seconds"] or 0.0
        if r["longest"] is not None and (s["longest"] is None or r["longest"] > s["longest"]):
            s["longest"] = r["longest"]
    new: dict[int, int] = {}
    for _b, category_id, n in new_rows:
        new[category_id] = new.get(category_id, 0) + n
    middle, all_middle = medians_and_total(completed(period, f), F("category_id"), REPAIR_SECONDS)
    cats = Category.objects.select_related("parent").in_bulk(set(stats) | set(new))
    rows = []
    for pk, cat in cats.items():
        s = stats.get(pk, {})
        rows.append(
            {
                "key": str(pk),
                "code": cat.code,
                "name": str(cat),
                "reported": new.get(pk, 0),
                "completed": s.get("n", 0),
                "success_rate": share(s.get("ok", 0), s.get("n", 0)),
                "mean_hours": in_hours(_mean(s.get("seconds"), s.get("n", 0))),
                "median_hours": in_hours(middle.get(pk)),
                "longest_hours": in_hours(s.get("longest")),
            }
        )
    rows.sort(key=lambda r: (-r["reported"], -r["completed"], r["name"]))
    longest = max((s["longest"] for s in stats.values() if s["longest"] is not None), default=None)
    return {
        "rows": rows,
        "total": {
            "reported": sum(new.values()),
            "completed": sum(s["n"] for s in stats.values()),
            "mean_hours": in_hours(
                _mean(
                    sum(s["seconds"] for s in stats.values()),
                    sum(s["n"] for s in stats.values()),
                )
            ),
            "median_hours": in_hours(all_middle),
            "longest_hours": in_hours(longest),
        },
    }


def fault_types(period: Period, f: Filters) -> dict:
    """Per category: orders reported, and for orders completed in the period the mean, median
    and longest time from report (received_at) to completion, in hours."""
    return _fault_types(
        period, f, completed_stats_by_category(period, f), _reported_by_category(period, f)
    )


@rollup.reading()
def dashboard(period: Period, f: Filters, *, split: str = "", now=None) -> dict:
    """Every dashboard figure for one period and set of filters.

    The figures share their passes over the orders: the completed orders are read once by
    bucket and category (summary, on-time rate, fault types) and once for the medians; the
    reported orders once by bucket and category (volume unsplit or by category, fault types).
    """
    _check_split(split)
    done = completed_stats_by_category(period, f)
    new_rows = _reported_by_category(period, f)
    if split in ("", "category"):
        rows = [(b, k if split else "", n) for b, k, n in new_rows]
        volume_chart = _volume(period, f, split, rows)
    else:
        volume_chart = volume(period, f, split)
    faults = _fault_types(period, f, done, new_rows)
    late: dict = {}
    for r in done:
        n, k = late.get(r["b"], (0, 0))
        late[r["b"]] = (n + r["deadlines"], k + r["late"])
    n = sum(r["n"] for r in done)
    return {
        "period": period.as_params(),
        "filters": f.as_params(),
        "summary": {
            "reported": faults["total"]["reported"],
            "completed": n,
            "success_rate": share(sum(r["ok"] for r in done), n),
            "mean_repair_hours": faults["total"]["mean_hours"],
        },
        "volume": volume_chart,
        "backlog": backlog(f, now=now),
        "on_time": _on_time(period, late),
        "satisfaction": satisfaction(period, f),
        "fault_types": faults,
    }


# --- drill-down --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drill:
    """Which figure, and which part of it: a bucket, one value of a dimension, a flag."""

    figure: str
    bucket: date | None = None
    dim: str = ""
    key: str = ""
    flag: str = ""

    def as_params(self) -> dict[str, str]:
        params = {
            "figure": self.figure,
            "bucket": self.bucket.isoformat() if self.bucket else "",
            "dim": self.dim,
            "key": self.key,
            "flag": self.flag,
        }
        return {k: v for k, v in params.items() if v}


DIMS = (*SPLITS, "status", "assignee", "agent", "dispatcher", "rating")
FLAGS = ("late", "on_time", "success", "failed", "first_contact")


def _bad(field: str):
    return InvalidInput(_("下钻参数 %(field)s 不正确。") % {"field": field}, field=field)


def _int_key(key: str) -> int:
    if not key.isdigit():
        raise _bad("key")
    return int(key)


def _by_dim(qs: QuerySet, dim: str, key: str, f: Filters, events: QuerySet | None) -> QuerySet:
    # A series of the filtered category or place itself holds only the orders right there
    # (its children have their own series); any other key means everything under it.
    if dim == "category":
        pk = _int_key(key)
        if f.category is not None and f.category.pk == pk:
            return qs.filter(category_id=pk)
        return qs.filter(Q(category_id=pk) | Q(category__parent_id=pk))
    if dim == "channel":
        return qs.filter(channel=key)
    if dim == "place":
        if key == NONE:
            return qs.filter(place__isnull=True)
        place = Place.objects.filter(pk=_int_key(key)).first()
        if place is None:
            raise _bad("key")
        if f.place is not None and f.place.pk == place.pk:
            return qs.filter(place_id=place.pk)
        return qs.filter(place_id__in=Place.objects.within(place).values("pk"))
    if dim == "team":
        if key == NONE:
            return qs.filter(Q(assignee__isnull=True) | Q(assignee__team__isnull=True))
        return qs.filter(assignee__team_id=_int_key(key))
    if dim == "status":
        if key not in Status.values:
            raise _bad("key")
        return qs.filter(status=key)
    if dim == "assignee":
        return qs.filter(assignee_id=_int_key(key))
    if dim == "agent":
        return qs.filter(registered_by_id=_int_key(key))
    if dim == "rating":
        return qs.filter(rating=_int_key(key))
    if dim == "dispatcher":
        if events is None:
            raise _bad("dim")
        actor = None if key == NONE else _int_key(key)
        return qs.filter(pk__in=events.filter(actor_id=actor).values("order_id"))
    raise _bad("dim")


FIRST_CONTACT = Q(status__in=[Status.COMPLETED, Status.CLOSED], reopen_count=0) & (
    Q(result=Result.SUCCESS) | Q(dispatched_at__isnull=True)
)


def orders_behind(period: Period, f: Filters, drill: Drill) -> QuerySet[WorkOrder]:
    """The orders a figure (or one part of it) was computed from."""
    if drill.figure not in FIGURES:
        raise _bad("figure")
    if drill.dim and drill.dim not in DIMS:
        raise _bad("dim")
    if drill.flag and drill.flag not in FLAGS:
        raise _bad("flag")
    start, end = period.start_at, period.end_at
    if drill.bucket is not None:
        if drill.bucket not in period.buckets():
            raise _bad("bucket")
        start, end = period.bucket_range(drill.bucket)
    field = FIGURES[drill.figure]
    events = None
    if drill.figure == Figure.BACKLOG:
        qs = backlog_orders(f)
    elif drill.figure == Figure.DISPATCHED:
        events = first_dispatches(start, end)
        qs = in_scope(f).filter(pk__in=events.values("order_id"))
    else:
        qs = _between(in_scope(f), field, start, end)
        if drill.figure == Figure.DEADLINE:
            qs = qs.filter(due_at__isnull=False)
        elif drill.figure == Figure.RATED:
            qs = qs.filter(rating__isnull=False)
        elif drill.figure == Figure.REGISTERED:
            qs = qs.filter(registered_by__isnull=False)
    if drill.dim:
        qs = _by_dim(qs, drill.dim, drill.key, f, events)
    if drill.flag == "late":
        qs = qs.filter(due_at__isnull=False).filter(LATE)
    elif drill.flag == "on_time":
        qs = qs.filter(due_at__isnull=False).exclude(LATE)
    elif drill.flag == "success":
        qs = qs.filter(result=Result.SUCCESS)
    elif drill.flag == "failed":
        qs = qs.filter(result=Result.FAILED)
    elif drill.flag == "first_contact":
        qs = qs.filter(FIRST_CONTACT)
    order = f"-{field}" if field else "-created_at"
    return qs.for_listing().order_by(order, "-pk")


def user_names(ids) -> dict[int, User]:
    return User.objects.in_bulk([i for i in ids if i is not None])
