"""Monthly appraisal figures and scores (AN5), pure reads: services.compute_appraisal freezes
them into a snapshot.

Criteria and where their figures come from:

| criterion    | figure                                            | sub-score (0–100)                    |
|--------------|---------------------------------------------------|--------------------------------------|
| arrival      | mean hours dispatch → arrival                     | 100 at ≤ good hours, 0 at ≥ bad, linear |
| completion   | mean hours report → completion                    | same, with its own good/bad hours    |
| success      | successful / completed                            | 100 × rate                           |
| satisfaction | mean rating (1–5)                  [source]       | (mean − 1) / 4 × 100                 |
| on_time      | completed by the deadline / with a deadline [src] | 100 × rate                           |
| rework       | reopened after his completion       [source]      | 100 × (1 − count / completed)        |
| qc_failures  | failed QC checks                    [source]      | 100 × (1 − count / completed)        |
| complaints   | complaints about his work           [source]      | 100 × (1 − count / completed)        |

The orders are those each technician completed in the month. A criterion without data for a
technician (no ratings, no deadlines) is left out of his weighted mean rather than scored 0.

[source]: a function `(start, end) -> {technician id: figure}` named by dotted path in
SOURCES, overridable with settings.ANALYTICS_APPRAISAL_SOURCES. QC failures are the penalties
the quality checks recorded (repairhub/feedback), complaints those registered about the
technician — named as the person, or, when nobody is named, about an order he had.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db.models import Avg, Count, Q
from django.db.models.functions import Coalesce
from django.utils.module_loading import import_string

from repairhub.accounts.models import User
from repairhub.feedback.models import Complaint, Penalty
from repairhub.workorders.models import Event, Result, WorkOrder
from repairhub.workorders.states import EVENT_CODES, Action

from .models import AppraisalWeights
from .periods import Filters, Period
from .queries import ARRIVAL_SECONDS, LATE, REPAIR_SECONDS, completed, in_hours, share
from .rankings import min_orders

CRITERIA = (
    "arrival",
    "completion",
    "success",
    "satisfaction",
    "on_time",
    "rework",
    "qc_failures",
    "complaints",
)
COUNTED = ("rework", "qc_failures", "complaints")

SOURCES = {
    "satisfaction": "repairhub.analytics.appraisal.ratings_by_technician",
    "on_time": "repairhub.analytics.appraisal.deadlines_by_technician",
    "rework": "repairhub.analytics.appraisal.reopened_by_technician",
    "qc_failures": "repairhub.analytics.appraisal.qc_failures_by_technician",
    "complaints": "repairhub.analytics.appraisal.complaints_by_technician",
}


def source(name: str):
    paths = {**SOURCES, **getattr(settings, "ANALYTICS_APPRAISAL_SOURCES", {})}
    return import_string(paths[name])


# --- default sources -------------------------------------------------------------------------


def ratings_by_technician(start: datetime, end: datetime) -> dict[int, tuple[int, float]]:
    """{technician: (ratings, mean)} of orders closed with a rating between start and end."""
    rows = (
        WorkOrder.objects.filter(
            closed_at__gte=start, closed_at__lt=end, rating__isnull=False, assignee__isnull=False
        )
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"), mean=Avg("rating"))
    )
    return {r["assignee_id"]: (r["n"], float(r["mean"])) for r in rows}


def deadlines_by_technician(start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """{technician: (orders with a deadline, completed by it)} for orders completed between
    start and end (WorkOrder.due_at)."""
    rows = (
        WorkOrder.objects.filter(
            completed_at__gte=start,
            completed_at__lt=end,
            due_at__isnull=False,
            assignee__isnull=False,
        )
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=LATE))
    )
    return {r["assignee_id"]: (r["n"], r["n"] - r["late"]) for r in rows}


def reopened_by_technician(start: datetime, end: datetime) -> dict[int, int]:
    """{technician: orders reopened between start and end after he had completed them} (the
    reopen event names the technician who had the order)."""
    names = Counter(
        (data or {}).get("technician", "")
        for data in Event.objects.filter(
            code=EVENT_CODES[Action.REOPEN], created_at__gte=start, created_at__lt=end
        ).values_list("data", flat=True)
    )
    names.pop("", None)
    ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    return {ids[name]: n for name, n in names.items() if name in ids}


def qc_failures_by_technician(start: datetime, end: datetime) -> dict[int, int]:
    """{technician: failed quality checks recorded between start and end} (one penalty each)."""
    rows = (
        Penalty.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("technician_id")
        .annotate(n=Count("pk"))
    )
    return {r["technician_id"]: r["n"] for r in rows}


def complaints_by_technician(start: datetime, end: datetime) -> dict[int, int]:
    """{technician: complaints registered between start and end about him}: the person named,
    else the technician of the order complained about. A complaint about the canteen names
    nobody and counts against no technician."""
    rows = (
        Complaint.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(about=Coalesce("person_id", "order__assignee_id"))
        .filter(about__isnull=False)
        .order_by()
        .values("about")
        .annotate(n=Count("pk"))
    )
    return {r["about"]: r["n"] for r in rows}


# --- scores ------------------------------------------------------------------------------------


def _linear(value: float | None, good: float, bad: float) -> float | None:
    if value is None:
        return None
    if value <= good:
        return 100.0
    if value >= bad:
        return 0.0
    return 100.0 * (bad - value) / (bad - good)


def sub_scores(row: dict, w: dict) -> dict[str, float | None]:
    n = row["orders"]
    subs: dict[str, float | None] = {
        "arrival": _linear(row["arrival_hours"], w["arrival_good_hours"], w["arrival_bad_hours"]),
        "completion": _linear(
            row["completion_hours"], w["completion_good_hours"], w["completion_bad_hours"]
        ),
        "success": None if row["success_rate"] is None else 100.0 * row["success_rate"],
        "satisfaction": None
        if row["mean_rating"] is None
        else 100.0 * (row["mean_rating"] - 1) / 4,
        "on_time": None if row["on_time_rate"] is None else 100.0 * row["on_time_rate"],
    }
    for name in COUNTED:
        subs[name] = 100.0 * (1 - min(1.0, row[name] / n)) if n else None
    return subs


def score(subs: dict[str, float | None], w: dict) -> float:
    """The mean of the available sub-scores weighted by w (0 when nothing is available)."""
    used = [(w[k], s) for k, s in subs.items() if s is not None and w[k] > 0]
    total = sum(weight for weight, _ in used)
    return round(sum(weight * s for weight, s in used) / total, 1) if total else 0.0


def month_figures(period: Period, weights: AppraisalWeights | dict | None = None) -> list[dict]:
    """One row per technician with work in the month: figures, sub-scores, score, rank
    (None when resting on fewer than ANALYTICS_MIN_ORDERS completed orders)."""
    w = weights.as_dict() if isinstance(weights, AppraisalWeights) else weights
    w = w or AppraisalWeights.current().as_dict()
    start, end = period.start_at, period.end_at
    base = {
        r["assignee_id"]: r
        for r in completed(period, Filters())
        .filter(assignee__isnull=False)
        .order_by()
        .values("assignee_id")
        .annotate(
            n=Count("pk"),
            ok=Count("pk", filter=Q(result=Result.SUCCESS)),
            arrival=Avg(ARRIVAL_SECONDS),
            repair=Avg(REPAIR_SECONDS),
        )
    }
    ratings = source("satisfaction")(start, end)
    deadlines = source("on_time")(start, end)
    counted = {name: source(name)(start, end) for name in COUNTED}
    people = set(base) | set(ratings) | set(deadlines)
    for found in counted.values():
        people |= set(found)
    users = User.objects.in_bulk(people)
    rows = []
    for pk in people:
        b = base.get(pk, {"n": 0, "ok": 0, "arrival": None, "repair": None})
        rated, mean = ratings.get(pk, (0, None))
        with_deadline, good = deadlines.get(pk, (0, 0))
        row = {
            "technician_id": pk,
            "username": users[pk].username,
            "name": users[pk].name,
            "orders": b["n"],
            "successes": b["ok"],
            "success_rate": share(b["ok"], b["n"]),
            "arrival_hours": in_hours(b["arrival"]),
            "completion_hours": in_hours(b["repair"]),
            "rated": rated,
            "mean_rating": None if mean is None else round(mean, 2),
            "with_deadline": with_deadline,
            "on_time": good,
            "on_time_rate": share(good, with_deadline),
            **{name: counted[name].get(pk, 0) for name in COUNTED},
        }
        subs = sub_scores(row, w)
        row["sub_scores"] = {k: None if v is None else round(v, 1) for k, v in subs.items()}
        row["score"] = score(subs, w)
        rows.append(row)
    need = min_orders()
    rows.sort(key=lambda r: (r["orders"] < need, -r["score"], r["name"]))
    previous, rank = None, 0
    for i, row in enumerate(rows, start=1):
        if row["orders"] < need:
            row["rank"] = None
            continue
        if row["score"] != previous:
            rank, previous = i, row["score"]
        row["rank"] = rank
    return rows
