"""The same figures computed the plain way: every raw row fetched, counted in Python.

Nothing here imports the code under test; definitions follow docs/analytics.md.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from repairhub.places.models import Place
from repairhub.workorders.models import Event, WorkOrder

from .history import TZ

OPEN = {
    "submitted",
    "accepted",
    "dispatched",
    "acknowledged",
    "in_progress",
    "on_hold",
    "completed",
}
SETTLED = {"completed", "closed", "rejected", "cancelled"}


@dataclass
class Window:
    start: date
    end: date  # included
    grain: str

    def has(self, dt: datetime | None) -> bool:
        return dt is not None and self.start <= dt.astimezone(TZ).date() <= self.end

    def bucket(self, dt: datetime) -> str:
        d = dt.astimezone(TZ).date()
        if self.grain == "week":
            d -= timedelta(days=d.weekday())
        elif self.grain == "month":
            d = d.replace(day=1)
        return d.isoformat()


def rows() -> list[dict]:
    fields = [
        "id",
        "status",
        "created_at",
        "received_at",
        "accepted_at",
        "dispatched_at",
        "arrived_at",
        "completed_at",
        "closed_at",
        "due_at",
        "rating",
        "result",
        "channel",
        "category_id",
        "category__parent_id",
        "place_id",
        "assignee_id",
        "assignee__team_id",
        "registered_by_id",
        "reopen_count",
    ]
    return list(WorkOrder.objects.values(*fields))


def hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def repair_seconds(r: dict) -> float:
    return (r["completed_at"] - r["received_at"]).total_seconds()


def late(r: dict) -> bool:
    return r["completed_at"] > r["due_at"]


def top_place(place_id: int | None, depth: int = 0) -> str:
    if place_id is None:
        return "none"
    codes = Place.objects.get(pk=place_id).path.split("/")
    return str(Place.objects.get(code=codes[min(depth, len(codes) - 1)]).pk)


def volume(data: list[dict], w: Window, split: str) -> dict[str, Counter]:
    """{series key: Counter(bucket → orders)}."""
    out: dict[str, Counter] = defaultdict(Counter)
    for r in data:
        if not w.has(r["created_at"]):
            continue
        if split == "category":
            key = str(r["category__parent_id"] or r["category_id"])
        elif split == "channel":
            key = r["channel"]
        elif split == "place":
            key = top_place(r["place_id"])
        elif split == "team":
            key = str(r["assignee__team_id"]) if r["assignee__team_id"] else "none"
        else:
            key = ""
        out[key][w.bucket(r["created_at"])] += 1
    return out


def backlog(data: list[dict], now: datetime) -> tuple[Counter, int]:
    open_rows = [r for r in data if r["status"] in OPEN]
    overdue = sum(1 for r in open_rows if r["due_at"] is not None and r["due_at"] < now)
    return Counter(r["status"] for r in open_rows), overdue


def on_time(data: list[dict], w: Window) -> dict[str, tuple[int, int]]:
    """{bucket: (with a deadline, on time)} by completion."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in data:
        if w.has(r["completed_at"]) and r["due_at"] is not None:
            cell = out[w.bucket(r["completed_at"])]
            cell[0] += 1
            cell[1] += 0 if late(r) else 1
    return {k: (a, b) for k, (a, b) in out.items()}


def satisfaction(data: list[dict], w: Window) -> tuple[dict[str, list[int]], Counter]:
    per_bucket: dict[str, list[int]] = defaultdict(list)
    dist: Counter = Counter()
    for r in data:
        if w.has(r["closed_at"]) and r["rating"] is not None:
            per_bucket[w.bucket(r["closed_at"])].append(r["rating"])
            dist[r["rating"]] += 1
    return per_bucket, dist


def fault_types(data: list[dict], w: Window) -> dict[str, dict]:
    out: dict[str, dict] = defaultdict(lambda: {"reported": 0, "times": [], "ok": 0})
    for r in data:
        key = str(r["category_id"])
        if w.has(r["created_at"]):
            out[key]["reported"] += 1
        if w.has(r["completed_at"]):
            out[key]["times"].append(repair_seconds(r))
            out[key]["ok"] += r["result"] == "success"
    return out


def stats(times: list[float]) -> dict:
    if not times:
        return {"mean_hours": None, "median_hours": None, "longest_hours": None}
    return {
        "mean_hours": hours(statistics.fmean(times)),
        "median_hours": hours(statistics.median(times)),
        "longest_hours": hours(max(times)),
    }


def first_dispatches(w: Window, data: list[dict]) -> dict[int | None, list[float]]:
    """{actor: [seconds from acceptance to the order's first dispatch]} for first dispatches
    in the window."""
    by_id = {r["id"]: r for r in data}
    seen: set[int] = set()
    out: dict[int | None, list[float]] = defaultdict(list)
    for e in Event.objects.filter(code="workorder.dispatched").order_by("id").values():
        if e["order_id"] in seen:
            continue
        seen.add(e["order_id"])
        order = by_id[e["order_id"]]
        if w.has(e["created_at"]) and order["accepted_at"] is not None:
            out[e["actor_id"]].append((e["created_at"] - order["accepted_at"]).total_seconds())
    return out


def first_contact(r: dict) -> bool:
    if r["status"] not in {"completed", "closed"} or r["reopen_count"]:
        return False
    return r["result"] == "success" or r["dispatched_at"] is None
