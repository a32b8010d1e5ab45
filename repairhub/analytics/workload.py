"""Workload (AN4): agents' calls and first-contact success, technicians' orders, success and
hours on site, per bucket (week or month, or day) of the period.

First-contact success (首次接线处理成功) of a call an agent registered (an order from the
phone or walk-in desk with `registered_by` set): the reporter's problem was settled from that
one contact — the order was completed or closed, never reopened, and either repaired
successfully or closed without a dispatch (solved at the desk, IN7). The rate is over the
agent's *settled* calls (completed, closed, rejected, cancelled); calls still open are counted
as pending and left out of the rate. A rejected or cancelled call is settled but not a success.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, Sum

from repairhub.workorders.models import Result

from . import rollup
from .expressions import LocalBucket
from .periods import Filters, Grain, Period, bucket_start
from .queries import (
    FIRST_CONTACT,
    HOUR,
    ON_SITE_SECONDS,
    SETTLED,
    completed,
    registered,
    share,
    user_names,
)


def agents(period: Period, f: Filters) -> dict:
    """Per agent: calls registered in the period, per day and per bucket, and first-contact
    success over the settled calls."""
    if rollup.serves_people(f):
        daily = [
            {
                "registered_by_id": r["person"],
                "day": r["day"],
                "n": r["calls"],
                "settled": r["settled"],
                "good": r["first_contact"],
            }
            for r in rollup.people_by_day(period, "calls", "settled", "first_contact")
        ]
    else:
        daily = _agents_daily(period, f)
    return _agents(period, daily)


def _agents_daily(period: Period, f: Filters) -> list[dict]:
    return list(
        registered(period, f)
        .order_by()
        .annotate(day=LocalBucket("created_at", Grain.DAY, period))
        .values("registered_by_id", "day")
        .annotate(
            n=Count("*"),
            settled=Count("created_at", filter=Q(status__in=SETTLED)),
            good=Count("created_at", filter=FIRST_CONTACT),
        )
    )


def _agents(period: Period, daily: list[dict]) -> dict:
    buckets = period.buckets()
    index = {b: i for i, b in enumerate(buckets)}
    people: dict[int, dict] = {}
    for r in daily:
        p = people.setdefault(
            r["registered_by_id"],
            {"calls": 0, "settled": 0, "first_contact": 0, "peak": 0, "data": [0] * len(buckets)},
        )
        p["calls"] += r["n"]
        p["settled"] += r["settled"]
        p["first_contact"] += r["good"]
        p["peak"] = max(p["peak"], r["n"])
        p["data"][index[bucket_start(r["day"], period.grain)]] += r["n"]
    users = user_names(people)
    rows = [
        {
            "user_id": pk,
            "username": users[pk].username,
            "name": users[pk].name,
            "calls": p["calls"],
            "per_day": round(p["calls"] / period.days, 2),
            "peak_day": p["peak"],
            "settled": p["settled"],
            "pending": p["calls"] - p["settled"],
            "first_contact": p["first_contact"],
            "first_contact_rate": share(p["first_contact"], p["settled"]),
            "data": p["data"],
        }
        for pk, p in people.items()
    ]
    rows.sort(key=lambda r: (-r["calls"], r["name"]))
    return {"period": period.as_params(), "buckets": [b.isoformat() for b in buckets], "rows": rows}


def technicians(period: Period, f: Filters) -> dict:
    """Per technician and bucket: orders completed, how many successfully, hours on site
    (arrival to completion)."""
    if rollup.serves_people(f):
        rows = [
            {
                "assignee_id": r["person"],
                "b": bucket_start(r["day"], period.grain),
                "n": r["completed"],
                "ok": r["successes"],
                "site": r["site_seconds"],
            }
            for r in rollup.people_by_day(period, "completed", "successes", "site_seconds")
        ]
    else:
        rows = _technicians_rows(period, f)
    return _technicians(period, rows)


def _technicians_rows(period: Period, f: Filters) -> list[dict]:
    return list(
        completed(period, f)
        .filter(assignee__isnull=False)
        .order_by()
        .annotate(b=LocalBucket("completed_at", period.grain, period))
        .values("assignee_id", "b")
        .annotate(
            n=Count("*"),
            ok=Count("completed_at", filter=Q(result=Result.SUCCESS)),
            site=Sum(ON_SITE_SECONDS),
        )
    )


def _technicians(period: Period, rows: list[dict]) -> dict:
    buckets = period.buckets()
    index = {b: i for i, b in enumerate(buckets)}
    people: dict[int, dict] = defaultdict(
        lambda: {
            "orders": 0,
            "successes": 0,
            "seconds": 0.0,
            "data": [{"orders": 0, "successes": 0, "seconds": 0.0} for _ in buckets],
        }
    )
    for r in rows:
        p = people[r["assignee_id"]]
        cell = p["data"][index[r["b"]]]
        for target in (p, cell):
            target["orders"] += r["n"]
            target["successes"] += r["ok"]
            target["seconds"] += r["site"] or 0.0
    users = user_names(people)

    def figures(d: dict) -> dict:
        return {
            "orders": d["orders"],
            "successes": d["successes"],
            "success_rate": share(d["successes"], d["orders"]),
            "hours_on_site": round(d["seconds"] / HOUR, 2),
        }

    out = [
        {
            "user_id": pk,
            "username": users[pk].username,
            "name": users[pk].name,
            **figures(p),
            "buckets": [figures(c) for c in p["data"]],
        }
        for pk, p in people.items()
    ]
    out.sort(key=lambda r: (-r["orders"], r["name"]))
    return {"period": period.as_params(), "buckets": [b.isoformat() for b in buckets], "rows": out}
