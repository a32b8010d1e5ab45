"""Hotspots on the generated history equal a plain Python count over every order."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from repairhub.analytics import hotspots as hot
from repairhub.analytics.periods import Filters
from repairhub.workorders.models import WorkOrder

from .history import TZ


def plain(start: date, end: date, min_count: int) -> tuple[set, set]:
    """(place rows, building rows) counted one order at a time, the rule of docs/forecast.md."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for o in WorkOrder.objects.values(
        "number",
        "status",
        "place__code",
        "place__path",
        "category__code",
        "created_at",
        "result",
        "reopen_count",
    ):
        day = o["created_at"].astimezone(TZ).date()
        if o["place__code"] is None or o["status"] in ("rejected", "cancelled"):
            continue
        if start <= day <= end:
            groups[(o["place__code"], o["category__code"])].append(o)

    def figures(orders: list[dict]) -> tuple:
        times = sorted(o["created_at"] for o in orders)
        n = len(orders)
        gap = round((times[-1] - times[0]).total_seconds() / 86400 / (n - 1), 1) if n > 1 else None
        failed = sum(o["result"] == "failed" for o in orders)
        reworked = sum(o["reopen_count"] > 0 for o in orders)
        return n, times[0], times[-1], gap, failed, reworked

    places = set()
    buildings: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for (code, cat), orders in groups.items():
        if len(orders) >= min_count:
            numbers = tuple(o["number"] for o in sorted(orders, key=lambda o: o["created_at"]))
            places.add((code, cat, *figures(orders), numbers))
        path = orders[0]["place__path"].split("/")
        if len(path) >= 2:
            buildings[(path[1], cat)].extend(orders)
    rolled = set()
    for (code, cat), orders in buildings.items():
        spread = len({o["place__code"] for o in orders})
        if len(orders) >= min_count and spread >= 2:
            rolled.add((code, cat, spread, *figures(orders)))
    return places, rolled


def served(window: hot.Window) -> tuple[list, list]:
    found = hot.hotspots(window, Filters())
    places = [
        (
            r["place"]["code"],
            r["category"]["code"],
            r["count"],
            r["first"],
            r["last"],
            r["mean_interval_days"],
            r["failed"],
            r["reworked"],
            tuple(r["orders"]),
        )
        for r in found["places"]
    ]
    buildings = [
        (
            r["place"]["code"],
            r["category"]["code"],
            r["places"],
            r["count"],
            r["first"],
            r["last"],
            r["mean_interval_days"],
            r["failed"],
            r["reworked"],
        )
        for r in found["buildings"]
    ]
    return places, buildings


def ranked(rows: list, count: int, gap: int, last: int) -> bool:
    keys = [(-r[count], r[gap] if r[gap] is not None else 1e9, -r[last].timestamp()) for r in rows]
    return keys == sorted(keys)


@pytest.mark.parametrize(
    ("days", "min_count", "end"),
    [(90, 2, "2026-05-10"), (90, 3, "2026-05-10"), (90, 6, "2026-05-10"), (30, 2, "2026-04-15")],
)
def test_hotspots_equal_a_plain_count_over_the_orders(at_now, days, min_count, end):
    window = hot.parse_window(days, min_count, end)

    places, buildings = served(window)

    want_places, want_buildings = plain(window.start, window.end, min_count)
    assert set(places) == want_places
    assert set(buildings) == want_buildings
    assert places, "the history must give at least one place hotspot here"
    assert ranked(places, 2, 5, 4) and ranked(buildings, 3, 6, 5)
