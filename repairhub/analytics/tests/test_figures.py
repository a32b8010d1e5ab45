"""Figures are right: every dashboard number, ranking and workload figure, computed by the
services for a generated history, equals the same figure counted in plain Python from the raw
rows (tests/plain.py)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date

import pytest

from repairhub.accounts.models import User
from repairhub.analytics import queries, rankings, workload
from repairhub.analytics.appraisal import month_figures
from repairhub.analytics.models import AppraisalWeights
from repairhub.analytics.periods import Filters, Period, parse_filters
from repairhub.places.models import Place
from repairhub.workorders.models import Category, Event

from . import plain
from .conftest import FIRST, LAST, NOW
from .history import local

GRAINS = ("day", "week", "month")


def series_of(result: dict) -> dict[str, dict[str, int]]:
    return {
        s["key"]: {b: n for b, n in zip(result["buckets"], s["data"], strict=True) if n}
        for s in result["series"]
    }


def test_the_history_covers_what_the_figures_split(at_now):
    data = plain.rows()
    statuses = Counter(r["status"] for r in data)
    assert {"submitted", "rejected", "cancelled", "accepted", "closed", "completed"} <= set(
        statuses
    )
    assert sum(1 for r in data if r["due_at"] is not None) >= 10
    assert sum(1 for r in data if r["reopen_count"]) >= 2
    assert sum(1 for r in data if r["rating"] is not None) >= 15
    assert sum(1 for r in data if r["registered_by_id"]) >= 10


def test_volume_for_every_grain_and_split(at_now):
    data = plain.rows()
    for grain in GRAINS:
        period, window = Period(FIRST, LAST, grain), plain.Window(FIRST, LAST, grain)
        for split in ("", "category", "channel", "place", "team"):
            got = queries.volume(period, Filters(), split)
            want = plain.volume(data, window, split)
            assert series_of(got) == {k: dict(v) for k, v in want.items()}, (grain, split)
            assert got["total"] == sum(sum(c.values()) for c in want.values())
            assert got["buckets"][0] == window.bucket(local(FIRST))


def test_volume_with_filters_splits_one_level_below(at_now):
    data = plain.rows()
    window = plain.Window(FIRST, LAST, "week")
    period = Period(FIRST, LAST, "week")
    power = Category.objects.get(code="power")
    power_ids = {power.pk, *power.children.values_list("pk", flat=True)}

    got = queries.volume(period, parse_filters(category="power"), "category")

    want: dict[str, Counter] = defaultdict(Counter)
    for r in data:
        if window.has(r["created_at"]) and r["category_id"] in power_ids:
            want[str(r["category_id"])][window.bucket(r["created_at"])] += 1
    assert series_of(got) == {k: dict(v) for k, v in want.items()}
    assert len(want) == 2  # 灯具 and 插座, not 水电

    building = Place.objects.get(code="E03")
    got = queries.volume(period, parse_filters(place="E03"), "place")
    want = defaultdict(Counter)
    for r in data:
        if not window.has(r["created_at"]) or r["place_id"] is None:
            continue
        path = Place.objects.get(pk=r["place_id"]).path
        if path.startswith(building.path + "/"):
            want[plain.top_place(r["place_id"], depth=2)][window.bucket(r["created_at"])] += 1
    assert series_of(got) == {k: dict(v) for k, v in want.items()}
    assert list(want) == [str(Place.objects.get(code="E03-2F").pk)]

    team = at_now.world.team
    got = queries.volume(period, parse_filters(team=team.code, channel="web"), "")
    want_total = sum(
        1
        for r in data
        if window.has(r["created_at"])
        and r["assignee__team_id"] == team.pk
        and r["channel"] == "web"
    )
    assert got["total"] == want_total > 0


def test_backlog_counts_open_orders_now(at_now):
    got = queries.backlog(Filters())
    want, overdue = plain.backlog(plain.rows(), NOW)

    assert {s["status"]: s["count"] for s in got["states"] if s["count"]} == dict(want)
    assert got["total"] == sum(want.values())
    assert got["overdue"] == overdue


def test_on_time_rate_per_bucket(at_now):
    data = plain.rows()
    for grain in GRAINS:
        got = queries.on_time(Period(FIRST, LAST, grain), Filters())
        want = plain.on_time(data, plain.Window(FIRST, LAST, grain))

        assert {
            b["bucket"]: (b["with_deadline"], b["on_time"])
            for b in got["buckets"]
            if b["with_deadline"]
        } == want
        n, good = sum(a for a, _ in want.values()), sum(b for _, b in want.values())
        assert (got["with_deadline"], got["on_time"], got["late"]) == (n, good, n - good)
        assert got["rate"] == round(good / n, 4)


def test_satisfaction_trend_and_distribution(at_now):
    data = plain.rows()
    for grain in GRAINS:
        got = queries.satisfaction(Period(FIRST, LAST, grain), Filters())
        per_bucket, dist = plain.satisfaction(data, plain.Window(FIRST, LAST, grain))

        assert {b["bucket"]: (b["rated"], b["mean"]) for b in got["buckets"] if b["rated"]} == {
            k: (len(v), round(statistics.fmean(v), 2)) for k, v in per_bucket.items()
        }
        assert {d["rating"]: d["count"] for d in got["distribution"] if d["count"]} == dict(dist)
        assert got["rated"] == sum(dist.values())


def test_fault_types_mean_median_longest(at_now):
    got = queries.fault_types(Period(FIRST, LAST, "month"), Filters())
    want = plain.fault_types(plain.rows(), plain.Window(FIRST, LAST, "month"))

    assert {r["key"] for r in got["rows"]} == set(want)
    for row in got["rows"]:
        w = want[row["key"]]
        assert (row["reported"], row["completed"]) == (w["reported"], len(w["times"]))
        expected = plain.stats(w["times"])
        for name, value in expected.items():
            assert row[name] == pytest.approx(value, abs=0.011), (row["name"], name)
        if w["times"]:
            assert row["success_rate"] == round(w["ok"] / len(w["times"]), 4)
    every = [t for w in want.values() for t in w["times"]]
    for name, value in plain.stats(every).items():
        assert got["total"][name] == pytest.approx(value, abs=0.011)
    # Even and odd counts both occur, so both branches of the median are exercised.
    assert {len(w["times"]) % 2 for w in want.values() if w["times"]} == {0, 1}


# --- rankings ------------------------------------------------------------------------------------


def _threshold(settings, counts: list[int]) -> int:
    """A minimum that ranks the busiest and leaves at least one person apart."""
    need = max(counts)
    assert min(counts) < need, counts
    settings.ANALYTICS_MIN_ORDERS = need
    return need


def test_technicians_ranked_by_repair_time_with_delays(at_now, settings):
    window = plain.Window(FIRST, LAST, "day")
    per: dict[int, list[dict]] = defaultdict(list)
    for r in plain.rows():
        if window.has(r["completed_at"]) and r["assignee_id"]:
            per[r["assignee_id"]].append(r)
    need = _threshold(settings, [len(v) for v in per.values()])

    got = rankings.technician_efficiency(Period(FIRST, LAST), Filters())

    mean = {k: statistics.fmean(plain.repair_seconds(r) for r in v) for k, v in per.items()}
    delays = {k: sum(1 for r in v if r["due_at"] and plain.late(r)) for k, v in per.items()}
    ranked = sorted((k for k in per if len(per[k]) >= need), key=lambda k: mean[k])
    assert [r["user_id"] for r in got.ranked] == ranked
    assert [r["rank"] for r in got.ranked] == list(range(1, len(ranked) + 1))
    assert {r["user_id"] for r in got.insufficient} == {k for k in per if len(per[k]) < need}
    for row in got.ranked + got.insufficient:
        k = row["user_id"]
        assert row["orders"] == len(per[k])
        assert row["mean_hours"] == pytest.approx(plain.hours(mean[k]), abs=0.011)
        assert row["delays"] == delays[k]
    assert sum(delays.values()) > 0
    assert got.min_orders == need


def test_dispatchers_ranked_by_acceptance_to_first_dispatch(at_now, settings):
    waits = plain.first_dispatches(plain.Window(FIRST, LAST, "day"), plain.rows())
    settings.ANALYTICS_MIN_ORDERS = 1

    got = rankings.dispatch_speed(Period(FIRST, LAST), Filters())

    mean = {k: statistics.fmean(v) / 60 for k, v in waits.items()}
    assert [r["user_id"] for r in got.ranked] == sorted(waits, key=lambda k: mean[k])
    for row in got.ranked:
        assert row["orders"] == len(waits[row["user_id"]])
        assert row["mean_minutes"] == pytest.approx(round(mean[row["user_id"]], 1), abs=0.051)
    assert got.apart == []
    # Second dispatches (after a decline) are not the dispatcher's acceptance delay.
    total_dispatches = sum(len(v) for v in waits.values())
    assert sum(r["orders"] for r in got.ranked) == total_dispatches
    every = Event.objects.filter(code="workorder.dispatched")
    assert sum(1 for e in every if plain.Window(FIRST, LAST, "day").has(e.created_at)) > (
        total_dispatches
    )


def test_technicians_ranked_by_satisfaction(at_now, settings):
    window = plain.Window(FIRST, LAST, "day")
    ratings: dict[int, list[int]] = defaultdict(list)
    for r in plain.rows():
        if window.has(r["closed_at"]) and r["rating"] is not None and r["assignee_id"]:
            ratings[r["assignee_id"]].append(r["rating"])
    need = _threshold(settings, [len(v) for v in ratings.values()])

    got = rankings.technician_satisfaction(Period(FIRST, LAST), Filters())

    mean = {k: statistics.fmean(v) for k, v in ratings.items()}
    ranked = sorted(
        (k for k in ratings if len(ratings[k]) >= need), key=lambda k: (-mean[k], -len(ratings[k]))
    )
    assert [r["user_id"] for r in got.ranked] == ranked
    assert {r["user_id"] for r in got.insufficient} == {
        k for k in ratings if len(ratings[k]) < need
    }
    for row in got.ranked + got.insufficient:
        assert row["orders"] == len(ratings[row["user_id"]])
        assert row["mean_rating"] == round(mean[row["user_id"]], 2)


# --- workload ------------------------------------------------------------------------------------


def test_agents_calls_per_day_and_first_contact_success(at_now):
    window = plain.Window(FIRST, LAST, "week")
    calls: dict[int, list[dict]] = defaultdict(list)
    for r in plain.rows():
        if window.has(r["created_at"]) and r["registered_by_id"]:
            calls[r["registered_by_id"]].append(r)

    got = workload.agents(Period(FIRST, LAST, "week"), Filters())

    assert {r["user_id"] for r in got["rows"]} == set(calls) and len(calls) == 2
    for row in got["rows"]:
        mine = calls[row["user_id"]]
        settled = [r for r in mine if r["status"] in plain.SETTLED]
        good = [r for r in settled if plain.first_contact(r)]
        per_day = Counter(r["created_at"].astimezone(plain.TZ).date() for r in mine)
        per_week = Counter(window.bucket(r["created_at"]) for r in mine)
        assert row["calls"] == len(mine)
        assert row["per_day"] == round(len(mine) / 56, 2)
        assert row["peak_day"] == max(per_day.values())
        assert (row["settled"], row["pending"]) == (len(settled), len(mine) - len(settled))
        assert row["first_contact"] == len(good)
        assert row["first_contact_rate"] == round(len(good) / len(settled), 4)
        assert dict(zip(got["buckets"], row["data"], strict=True)) == {
            b: per_week.get(b, 0) for b in got["buckets"]
        }


def test_technicians_orders_success_and_hours_on_site(at_now):
    for grain in ("week", "month"):
        window = plain.Window(FIRST, LAST, grain)
        cells: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for r in plain.rows():
            if window.has(r["completed_at"]) and r["assignee_id"]:
                cells[r["assignee_id"]][window.bucket(r["completed_at"])].append(r)

        got = workload.technicians(Period(FIRST, LAST, grain), Filters())

        assert {r["user_id"] for r in got["rows"]} == set(cells)
        for row in got["rows"]:
            for bucket, cell in zip(got["buckets"], row["buckets"], strict=True):
                mine = cells[row["user_id"]].get(bucket, [])
                site = sum(
                    (r["completed_at"] - r["arrived_at"]).total_seconds()
                    for r in mine
                    if r["arrived_at"]
                )
                ok = sum(1 for r in mine if r["result"] == "success")
                assert (cell["orders"], cell["successes"]) == (len(mine), ok)
                assert cell["hours_on_site"] == pytest.approx(site / 3600, abs=0.006)
            every = [r for rs in cells[row["user_id"]].values() for r in rs]
            assert row["orders"] == len(every)
            assert row["success_rate"] == round(
                sum(1 for r in every if r["result"] == "success") / len(every), 4
            )


# --- appraisal -----------------------------------------------------------------------------------


def _linear(value, good, bad):
    if value is None:
        return None
    return 100.0 if value <= good else 0.0 if value >= bad else 100 * (bad - value) / (bad - good)


def test_month_figures_and_scores(at_now):
    march = plain.Window(date(2026, 3, 1), date(2026, 3, 31), "month")
    mine: dict[int, list[dict]] = defaultdict(list)
    ratings: dict[int, list[int]] = defaultdict(list)
    for r in plain.rows():
        if march.has(r["completed_at"]) and r["assignee_id"]:
            mine[r["assignee_id"]].append(r)
        if march.has(r["closed_at"]) and r["rating"] is not None and r["assignee_id"]:
            ratings[r["assignee_id"]].append(r["rating"])
    reopened = Counter(
        User.objects.get(username=e.data["technician"]).pk
        for e in Event.objects.filter(code="workorder.reopened")
        if march.has(e.created_at)
    )
    assert reopened  # the history has rework in March
    weights = AppraisalWeights.current().as_dict()

    got = {r["technician_id"]: r for r in month_figures(Period.month(date(2026, 3, 1)))}

    assert set(got) == set(mine) | set(ratings) | set(reopened)
    for pk, rs in mine.items():
        row = got[pk]
        arrivals = [
            (r["arrived_at"] - r["dispatched_at"]).total_seconds() / 3600
            for r in rs
            if r["arrived_at"] and r["dispatched_at"]
        ]
        deadlines = [r for r in rs if r["due_at"]]
        ok = sum(1 for r in rs if r["result"] == "success")
        figures = {
            "orders": len(rs),
            "successes": ok,
            "arrival_hours": round(statistics.fmean(arrivals), 2) if arrivals else None,
            "completion_hours": plain.hours(statistics.fmean(plain.repair_seconds(r) for r in rs)),
            "rated": len(ratings[pk]),
            "mean_rating": round(statistics.fmean(ratings[pk]), 2) if ratings[pk] else None,
            "with_deadline": len(deadlines),
            "on_time": sum(1 for r in deadlines if not plain.late(r)),
            "rework": reopened.get(pk, 0),
            "qc_failures": 0,
            "complaints": 0,
        }
        for name, value in figures.items():
            assert row[name] == pytest.approx(value, abs=0.011), (pk, name)
        subs = {
            "arrival": _linear(
                row["arrival_hours"], weights["arrival_good_hours"], weights["arrival_bad_hours"]
            ),
            "completion": _linear(
                row["completion_hours"],
                weights["completion_good_hours"],
                weights["completion_bad_hours"],
            ),
            "success": 100 * ok / len(rs),
            "satisfaction": (figures["mean_rating"] - 1) * 25 if ratings[pk] else None,
            "on_time": 100 * figures["on_time"] / len(deadlines) if deadlines else None,
            "rework": 100 * (1 - min(1, figures["rework"] / len(rs))),
            "qc_failures": 100.0,
            "complaints": 100.0,
        }
        used = {k: v for k, v in subs.items() if v is not None}
        want = sum(weights[k] * v for k, v in used.items()) / sum(weights[k] for k in used)
        assert row["score"] == pytest.approx(want, abs=0.051), pk
    ranked = sorted((r for r in got.values() if r["orders"] >= 4), key=lambda r: -r["score"])
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(r["rank"] is None for r in got.values() if r["orders"] < 4)


# --- drill-down ------------------------------------------------------------------------------


def test_every_volume_point_drills_down_to_as_many_orders(at_now):
    for grain in ("week", "month"):
        period = Period(FIRST, LAST, grain)
        for filters in (Filters(), parse_filters(category="power"), parse_filters(place="E")):
            for split in ("", "category", "channel", "place", "team"):
                got = queries.volume(period, filters, split)
                for s in got["series"]:
                    for bucket, n in zip(got["buckets"], s["data"], strict=True):
                        drill = queries.Drill(
                            "reported", date.fromisoformat(bucket), split, s["key"]
                        )
                        listed = queries.orders_behind(period, filters, drill).count()
                        assert listed == n, (grain, filters.as_params(), split, s["label"], bucket)


def test_every_other_figure_drills_down_to_as_many_orders(at_now):
    period = Period(FIRST, LAST, "week")
    f = Filters()

    def behind(figure, **kw) -> int:
        return queries.orders_behind(period, f, queries.Drill(figure, **kw)).count()

    for row in queries.fault_types(period, f)["rows"]:
        assert behind("completed", dim="category", key=row["key"]) == row["completed"]
        assert behind("reported", dim="category", key=row["key"]) == row["reported"]
    for b in queries.on_time(period, f)["buckets"]:
        day = date.fromisoformat(b["bucket"])
        assert behind("deadline", bucket=day) == b["with_deadline"]
        assert behind("deadline", bucket=day, flag="on_time") == b["on_time"]
    for d in queries.satisfaction(period, f)["distribution"]:
        assert behind("rated", dim="rating", key=str(d["rating"])) == d["count"]
    for s in queries.backlog(f)["states"]:
        assert behind("backlog", dim="status", key=s["status"]) == s["count"]
    for r in rankings.technician_efficiency(period, f).ranked:
        key = str(r["user_id"])
        assert behind("completed", dim="assignee", key=key) == r["orders"]
        assert behind("deadline", dim="assignee", key=key, flag="late") == r["delays"]
    for r in rankings.dispatch_speed(period, f).ranked:
        assert behind("dispatched", dim="dispatcher", key=str(r["user_id"])) == r["orders"]
    for r in workload.agents(period, f)["rows"]:
        key = str(r["user_id"])
        assert behind("registered", dim="agent", key=key) == r["calls"]
        assert (
            behind("registered", dim="agent", key=key, flag="first_contact") == (r["first_contact"])
        )
