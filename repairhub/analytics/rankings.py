"""Rankings (AN2, AN3): who is quick, who is late, who is liked — and on how many orders.

Each ranking is one GROUP BY in the database. People with fewer than ANALYTICS_MIN_ORDERS
orders behind their figure are not ranked: they are listed apart as "样本不足", because a mean
of two orders says more about luck than about the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Avg, Count, F
from django.utils.translation import gettext as _

from . import rollup
from .expressions import Seconds
from .periods import Filters, Period
from .queries import (
    LATE,
    NONE,
    REPAIR_SECONDS,
    completed,
    first_dispatches,
    in_hours,
    rated,
    scope_q,
    user_names,
)

MINUTE = 60.0


def min_orders() -> int:
    return int(getattr(settings, "ANALYTICS_MIN_ORDERS", 5))


@dataclass
class Ranking:
    """Ranked rows (rank 1 is best) and the rows resting on too few orders, listed apart."""

    kind: str
    min_orders: int
    ranked: list[dict] = field(default_factory=list)
    insufficient: list[dict] = field(default_factory=list)
    apart: list[dict] = field(default_factory=list)  # not people (the system's dispatches)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "min_orders": self.min_orders,
            "ranked": self.ranked,
            "insufficient": self.insufficient,
            "apart": self.apart,
        }


def _rank(kind: str, rows: list[dict], sort_key) -> Ranking:
    """Rank rows by `sort_key` (ties share a rank); rows under the minimum go apart."""
    need = min_orders()
    out = Ranking(kind, need)
    enough = sorted((r for r in rows if r["orders"] >= need), key=sort_key)
    previous, rank = None, 0
    for i, row in enumerate(enough, start=1):
        value = sort_key(row)[:-1]  # the last part only makes the order stable (the name)
        if value != previous:
            rank, previous = i, value
        out.ranked.append({"rank": rank, **row})
    out.insufficient = sorted(
        (r for r in rows if r["orders"] < need), key=lambda r: (-r["orders"], r["name"])
    )
    return out


def _person(users, pk: int) -> dict:
    user = users[pk]
    return {"user_id": pk, "username": user.username, "name": user.name}


def technician_efficiency(period: Period, f: Filters) -> Ranking:
    """Technicians by mean time from report to completion of the orders they completed in the
    period (shortest first); delays are those completed after their deadline."""
    if rollup.serves_people(f):
        columns = ("completed", "repair_seconds", "with_deadline", "late")
        rows = [
            {
                "assignee_id": pk,
                "n": r["completed"],
                "mean": r["repair_seconds"] / r["completed"],
                "deadlines": r["with_deadline"],
                "late": r["late"],
            }
            for pk, r in rollup.people(period, *columns).items()
            if r["completed"]
        ]
    else:
        rows = _technician_rows(period, f)
    users = user_names(r["assignee_id"] for r in rows)
    out = [
        {
            **_person(users, r["assignee_id"]),
            "orders": r["n"],
            "mean_hours": in_hours(r["mean"]),
            "with_deadline": r["deadlines"],
            "delays": r["late"],
        }
        for r in rows
    ]
    return _rank("technicians", out, lambda r: (r["mean_hours"], r["delays"], r["name"]))


def _technician_rows(period: Period, f: Filters) -> list[dict]:
    return list(
        completed(period, f)
        .filter(assignee__isnull=False)
        .order_by()
        .values("assignee_id")
        .annotate(
            n=Count("*"),
            mean=Avg(REPAIR_SECONDS),
            deadlines=Count("due_at"),
            late=Count("completed_at", filter=LATE),
        )
    )


def dispatch_speed(period: Period, f: Filters) -> Ranking:
    """Dispatchers (and team leads, managers) by mean time from an order's acceptance to its
    first dispatch, for first dispatches made in the period (quickest first). The dispatcher is
    the actor of the `workorder.dispatched` event; automatic dispatches and pool claims have no
    person behind them and are shown apart."""
    if rollup.serves_people(f):
        rows = [
            {
                "actor_id": pk or None,
                "n": r["dispatched"],
                "mean": r["dispatch_seconds"] / r["dispatched"],
            }
            for pk, r in rollup.people(period, "dispatched", "dispatch_seconds").items()
            if r["dispatched"]
        ]
    else:
        # The filters as a join on the order (not `order__in=<every order in scope>`).
        events = first_dispatches(period.start_at, period.end_at).filter(
            scope_q(f, "order__"), order__accepted_at__isnull=False
        )
        rows = list(
            events.order_by()
            .values("actor_id")
            .annotate(n=Count("*"), mean=Avg(Seconds(F("created_at"), F("order__accepted_at"))))
        )
    users = user_names(r["actor_id"] for r in rows)
    people, apart = [], []
    for r in rows:
        figures = {
            "orders": r["n"],
            "mean_minutes": None if r["mean"] is None else round(r["mean"] / MINUTE, 1),
        }
        if r["actor_id"] is None:
            apart.append(
                {"user_id": None, "username": NONE, "name": _("系统自动派工或抢单"), **figures}
            )
        else:
            people.append({**_person(users, r["actor_id"]), **figures})
    ranking = _rank("dispatchers", people, lambda r: (r["mean_minutes"], r["name"]))
    ranking.apart = apart
    return ranking


def technician_satisfaction(period: Period, f: Filters) -> Ranking:
    """Technicians by the mean rating of orders closed with a rating in the period (best first).

    The rating is WorkOrder.rating (1–5) for now; ratings by dimension from repairhub/feedback
    replace it when they land (docs/analytics.md).
    """
    if rollup.serves_people(f):
        rows = [
            {"assignee_id": pk, "n": r["rated"], "mean": r["rating_sum"] / r["rated"]}
            for pk, r in rollup.people(period, "rated", "rating_sum").items()
            if r["rated"]
        ]
    else:
        rows = list(
            rated(period, f)
            .filter(assignee__isnull=False)
            .order_by()
            .values("assignee_id")
            .annotate(n=Count("*"), mean=Avg("rating"))
        )
    users = user_names(r["assignee_id"] for r in rows)
    out = [
        {**_person(users, r["assignee_id"]), "orders": r["n"], "mean_rating": round(r["mean"], 2)}
        for r in rows
    ]
    return _rank("satisfaction", out, lambda r: (-r["mean_rating"], -r["orders"], r["name"]))


RANKINGS = {
    "technicians": technician_efficiency,
    "dispatchers": dispatch_speed,
    "satisfaction": technician_satisfaction,
}
