"""What a report contains: its figures are the dashboard's, the rankings' and the workload's for
the same period (tests/history.py generates the orders); the special reports' own groupings
are counted again in plain Python; periods are parsed and refused in words."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date

import pytest
import time_machine

from repairhub.analytics import queries, rankings, reports, workload
from repairhub.analytics.periods import Filters, Grain, Period, parse_filters
from repairhub.feedback.models import Rating
from repairhub.feedback.services import rate_order
from repairhub.places.models import Place
from repairhub.workorders.actors import LinkHolder
from repairhub.workorders.errors import InvalidInput

from . import plain
from .conftest import NOW
from .history import local
from .small import repaired

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), Grain.DAY)
FEBRUARY = Period(date(2026, 2, 1), date(2026, 2, 28), Grain.DAY)


def rows_of(report, key: str) -> list[dict]:
    return report.section(key).as_dicts()


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "start", "end", "grain"),
    [
        ("daily", "2026-05-04", date(2026, 5, 4), date(2026, 5, 4), "day"),
        ("weekly", "2026-05-07", date(2026, 5, 4), date(2026, 5, 10), "day"),  # Mon–Sun
        ("weekly", "2026-W19", date(2026, 5, 4), date(2026, 5, 10), "day"),
        ("monthly", "2026-02", date(2026, 2, 1), date(2026, 2, 28), "day"),
        ("monthly", "2026-02-17", date(2026, 2, 1), date(2026, 2, 28), "day"),
        ("quarterly", "2026-Q2", date(2026, 4, 1), date(2026, 6, 30), "month"),
        ("quarterly", "2026-08-09", date(2026, 7, 1), date(2026, 9, 30), "month"),
        ("annual", "2025", date(2025, 1, 1), date(2025, 12, 31), "month"),
    ],
)
def test_a_period_is_any_day_in_it_or_its_label(kind, value, start, end, grain):
    got = reports.parse_report_period(kind, value, today=date(2026, 11, 20))

    assert (got.start, got.end, got.grain) == (start, end, grain)


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("daily", date(2026, 5, 9), date(2026, 5, 9)),
        ("weekly", date(2026, 4, 27), date(2026, 5, 3)),
        ("monthly", date(2026, 4, 1), date(2026, 4, 30)),
        ("quarterly", date(2026, 1, 1), date(2026, 3, 31)),
        ("annual", date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_an_empty_period_means_the_latest_one_that_is_over(kind, start, end):
    got = reports.parse_report_period(kind, "", today=date(2026, 5, 10))  # a Sunday

    assert (got.start, got.end) == (start, end)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (
            "monthly",
            "2026-13",
            "时段格式不正确：月报请填写该时段中的任一日期（YYYY-MM-DD）或 2026-05 这样的写法。",
        ),
        (
            "quarterly",
            "2026-05",
            "时段格式不正确：季报请填写该时段中的任一日期（YYYY-MM-DD）或 2026-Q2 这样的写法。",
        ),
        ("annual", "2027", "该时段尚未开始，无法生成报表。"),
        (
            "hourly",
            "2026-05-01",
            "报表周期只能是：日报、周报、月报、季报、年报（daily、weekly、monthly、quarterly、annual）。",
        ),
    ],
)
def test_bad_periods_are_refused_in_words(kind, value, message):
    with pytest.raises(InvalidInput) as caught:
        reports.parse_report_period(kind, value, today=date(2026, 5, 10))

    assert caught.value.message == message


# --- the overview equals the pages' figures ------------------------------------------------------


def test_monthly_report_figures_are_the_dashboards_for_the_same_month(at_now):
    report = reports.build("monthly", "2026-03", Filters())

    dash = queries.dashboard(MARCH, Filters())
    summary = {r["figure"]: (r["current"], r["previous"]) for r in rows_of(report, "summary")}
    feb = queries.dashboard(FEBRUARY, Filters())
    assert summary["报修量"] == (dash["summary"]["reported"], feb["summary"]["reported"])
    assert summary["完成量"] == (dash["summary"]["completed"], feb["summary"]["completed"])
    assert summary["维修成功率"] == (
        dash["summary"]["success_rate"],
        feb["summary"]["success_rate"],
    )
    assert summary["平均维修时长（小时）"] == (
        dash["summary"]["mean_repair_hours"],
        feb["summary"]["mean_repair_hours"],
    )
    assert summary["按时率"] == (dash["on_time"]["rate"], feb["on_time"]["rate"])
    assert summary["评价数"] == (dash["satisfaction"]["rated"], feb["satisfaction"]["rated"])
    assert summary["平均评分（1–5）"] == (dash["satisfaction"]["mean"], feb["satisfaction"]["mean"])
    assert summary["当前积压（未完结）"] == (dash["backlog"]["total"], None)
    assert summary["其中已超时"] == (dash["backlog"]["overdue"], None)
    assert dash["summary"]["reported"] > 20 and feb["summary"]["reported"] > 0

    faults = rows_of(report, "faults")
    assert [
        [r["category"], r["reported"], r["completed"], r["success_rate"], r["mean_hours"]]
        for r in faults[:-1]
    ] == [
        [r["name"], r["reported"], r["completed"], r["success_rate"], r["mean_hours"]]
        for r in dash["fault_types"]["rows"]
    ]
    assert [(r["median_hours"], r["longest_hours"]) for r in faults[:-1]] == [
        (r["median_hours"], r["longest_hours"]) for r in dash["fault_types"]["rows"]
    ]
    total = dash["fault_types"]["total"]
    assert faults[-1] | {"category": "合计"} == {
        "category": "合计",
        "reported": total["reported"],
        "completed": total["completed"],
        "success_rate": None,
        "mean_hours": total["mean_hours"],
        "median_hours": total["median_hours"],
        "longest_hours": total["longest_hours"],
    }

    backlog = {r["status"]: r["count"] for r in rows_of(report, "backlog")}
    assert backlog == {
        **{s["label"]: s["count"] for s in dash["backlog"]["states"]},
        "合计": dash["backlog"]["total"],
        "其中已超时": dash["backlog"]["overdue"],
    }


def test_monthly_report_trend_is_by_day_and_counts_each_day(at_now):
    report = reports.build("monthly", date(2026, 3, 15), Filters())

    trend = rows_of(report, "trend")
    data = plain.rows()
    window = plain.Window(MARCH.start, MARCH.end, "day")
    reported = Counter(window.bucket(r["created_at"]) for r in data if window.has(r["created_at"]))
    done = [r for r in data if window.has(r["completed_at"])]
    completed = Counter(window.bucket(r["completed_at"]) for r in done)
    ok = Counter(window.bucket(r["completed_at"]) for r in done if r["result"] == "success")
    assert [t["bucket"] for t in trend] == [date(2026, 3, d) for d in range(1, 32)]
    assert {t["bucket"].isoformat(): t["reported"] for t in trend if t["reported"]} == reported
    assert {t["bucket"].isoformat(): t["completed"] for t in trend if t["completed"]} == completed
    assert {t["bucket"].isoformat(): t["successes"] for t in trend if t["successes"]} == ok
    on = plain.on_time(data, window)
    assert {
        t["bucket"].isoformat(): (t["with_deadline"], t["on_time"])
        for t in trend
        if t["with_deadline"]
    } == on


def test_annual_report_is_broken_down_by_month(at_now):
    report = reports.build("annual", "2026", Filters())

    year = Period(date(2026, 1, 1), date(2026, 12, 31), Grain.MONTH)
    trend = rows_of(report, "trend")
    volume = queries.volume(year, Filters())
    on_time = queries.on_time(year, Filters())
    assert report.section("trend").title == "按月"
    assert [t["bucket"] for t in trend] == [date(2026, m, 1) for m in range(1, 13)]
    assert [t["reported"] for t in trend] == volume["series"][0]["data"]
    assert [t["on_time_rate"] for t in trend] == [b["rate"] for b in on_time["buckets"]]
    assert sum(t["reported"] for t in trend) == len(plain.rows())  # every order is of 2026
    assert report.title == "报修年报（2026年）"
    assert (report.previous.start, report.previous.end) == (date(2025, 1, 1), date(2025, 12, 31))


def test_volume_compares_each_category_channel_and_place_with_the_previous_period(at_now):
    report = reports.build("monthly", "2026-04", Filters())

    april = Period(date(2026, 4, 1), date(2026, 4, 30), Grain.DAY)
    rows = rows_of(report, "volume")
    names = {"category": "类别", "channel": "渠道", "place": "地点"}
    for split, label in names.items():
        now = {s["label"]: s["total"] for s in queries.volume(april, Filters(), split)["series"]}
        then = {s["label"]: s["total"] for s in queries.volume(MARCH, Filters(), split)["series"]}
        got = {
            r["name"]: (r["current"], r["previous"], r["change"])
            for r in rows
            if r["split"] == label
        }
        assert got == {
            name: (now.get(name, 0), then.get(name, 0), now.get(name, 0) - then.get(name, 0))
            for name in set(now) | set(then)
        }, split
    web = next(r for r in rows if r["split"] == "渠道" and r["name"] == "网上报修")
    assert web["growth"] == round((web["current"] - web["previous"]) / web["previous"], 4)


def test_rankings_and_workload_sections_are_the_pages_figures(at_now):
    period = MARCH
    report = reports.build("monthly", "2026-03", Filters())

    eff = rankings.technician_efficiency(period, Filters())
    want = [
        [r["rank"], r["username"], r["orders"], r["mean_hours"], r["with_deadline"], r["delays"]]
        for r in eff.ranked
    ] + [
        [None, r["username"], r["orders"], r["mean_hours"], r["with_deadline"], r["delays"]]
        for r in eff.insufficient
    ]
    got = [
        [r["rank"], r["username"], r["orders"], r["mean_hours"], r["with_deadline"], r["delays"]]
        for r in rows_of(report, "technicians")
    ]
    assert got == want and eff.ranked

    disp = rankings.dispatch_speed(period, Filters())
    got = {
        r["name"]: (r["rank"], r["orders"], r["mean_hours"]) for r in rows_of(report, "dispatchers")
    }
    want = {
        r["name"]: (r.get("rank"), r["orders"], round(r["mean_minutes"] / 60, 4))
        for r in [*disp.ranked, *disp.insufficient, *disp.apart]
    }
    assert got == want

    liked = rankings.technician_satisfaction(period, Filters())
    assert [
        (r["username"], r["rated"], r["mean_rating"])
        for r in rows_of(report, "satisfaction_ranking")
    ] == [
        (r["username"], r["orders"], r["mean_rating"]) for r in [*liked.ranked, *liked.insufficient]
    ]

    agents = workload.agents(period, Filters())
    assert [
        (r["username"], r["calls"], r["per_day"], r["first_contact_rate"])
        for r in rows_of(report, "agents")
    ] == [
        (r["username"], r["calls"], r["per_day"], r["first_contact_rate"]) for r in agents["rows"]
    ]
    techs = workload.technicians(period, Filters())
    assert [
        (r["username"], r["orders"], r["success_rate"], r["hours_on_site"])
        for r in rows_of(report, "workload")
    ] == [
        (r["username"], r["orders"], r["success_rate"], r["hours_on_site"]) for r in techs["rows"]
    ]


def test_a_filtered_report_counts_only_the_filtered_orders(at_now):
    f = parse_filters(category="power", channel="web")
    report = reports.build("monthly", "2026-03", f)

    dash = queries.dashboard(MARCH, f)
    summary = {r["figure"]: r["current"] for r in rows_of(report, "summary")}
    assert (
        summary["报修量"]
        == dash["summary"]["reported"]
        < queries.dashboard(MARCH, Filters())["summary"]["reported"]
    )
    info = {r["item"]: r["value"] for r in rows_of(report, "info")}
    assert info["类别"] == "水电"
    assert info["渠道"] == "网上报修"
    assert info["报表"] == "报修月报（2026年3月）"


# --- fault causes --------------------------------------------------------------------------------


def test_fault_causes_by_category_with_repair_times_and_rework(at_now):
    report = reports.build("annual", "2026", Filters(), topic="faults")

    year = plain.Window(date(2026, 1, 1), date(2026, 12, 31), "month")
    data = plain.rows()
    done = [r for r in data if year.has(r["completed_at"])]
    rows = {r["category"]: r for r in rows_of(report, "causes")}
    ft = queries.fault_types(Period(year.start, year.end, "month"), Filters())
    for want in ft["rows"]:
        got = rows[want["name"]]
        assert (got["reported"], got["completed"], got["success_rate"]) == (
            want["reported"],
            want["completed"],
            want["success_rate"],
        )
        assert (got["mean_hours"], got["median_hours"], got["longest_hours"]) == (
            want["mean_hours"],
            want["median_hours"],
            want["longest_hours"],
        )
        mine = [r for r in done if str(r["category_id"]) == want["key"]]
        assert got["failures"] == sum(1 for r in mine if r["result"] == "failed")
        assert got["rework"] == sum(1 for r in mine if r["reopen_count"])
    total = rows["合计"]
    assert total["completed"] == len(done)
    assert total["rework"] == sum(1 for r in done if r["reopen_count"]) > 0
    assert total["rework_rate"] == round(total["rework"] / len(done), 4)
    assert total["median_hours"] == plain.hours(
        statistics.median(plain.repair_seconds(r) for r in done)
    )


def test_fault_causes_by_place_one_level_below_the_filter(at_now):
    report = reports.build("monthly", "2026-03", Filters(), topic="faults")

    march = plain.Window(MARCH.start, MARCH.end, "day")
    data = plain.rows()
    names = {str(p.pk): p.full_name for p in Place.objects.filter(parent__isnull=True)}
    names["none"] = "未选地点"
    reported = Counter(
        names[plain.top_place(r["place_id"])] for r in data if march.has(r["created_at"])
    )
    done = defaultdict(list)
    for r in data:
        if march.has(r["completed_at"]):
            done[names[plain.top_place(r["place_id"])]].append(plain.repair_seconds(r))
    rows = {r["place"]: r for r in rows_of(report, "places")}
    assert {k: r["reported"] for k, r in rows.items()} == reported
    assert {k: r["completed"] for k, r in rows.items() if r["completed"]} == {
        k: len(v) for k, v in done.items()
    }
    for name, times in done.items():
        assert rows[name]["longest_hours"] == plain.hours(max(times))
        assert rows[name]["median_hours"] == plain.hours(statistics.median(times))
    volume = queries.volume(MARCH, Filters(), "place")
    assert {s["label"]: s["total"] for s in volume["series"]} == reported

    east = reports.build("monthly", "2026-03", parse_filters(place="E"), topic="faults")
    assert {r["place"] for r in rows_of(east, "places")} == {"东校区 / 3号楼"}
    cross = rows_of(east, "place_categories")
    assert sum(r["reported"] for r in cross) == reported["东校区"]


# --- satisfaction --------------------------------------------------------------------------------


def _rate(world, day: date, scores: dict, **kw):
    order = repaired(world, day, close=False, **kw)
    with time_machine.travel(local(day, 20), tick=False):
        return rate_order(order, by=LinkHolder(order.tracking_token), scores=scores)


SCORES = {"timeliness": 5, "quality": 4, "attitude": 5, "result": 3}


def test_satisfaction_report_by_dimension_technician_and_agent(at_now):
    world = at_now.world
    _rate(world, date(2026, 4, 6), SCORES)
    _rate(world, date(2026, 4, 7), {**SCORES, "quality": 2}, technician=world.technician2)
    _rate(
        world,
        date(2026, 4, 8),
        {**SCORES, "agent_attitude": 4, "agent_response": 5, "agent_handling": 3},
        channel="phone",
    )

    report = reports.build("monthly", "2026-04", Filters(), topic="satisfaction")

    april = Period(date(2026, 4, 1), date(2026, 4, 30), Grain.DAY)
    sat = queries.satisfaction(april, Filters())
    dist = {r["rating"]: r["count"] for r in rows_of(report, "ratings")}
    assert dist["合计"] == sat["rated"]
    assert [dist[f"{n} 分"] for n in range(1, 6)] == [d["count"] for d in sat["distribution"]]
    dims = {r["dimension"]: (r["count"], r["mean"]) for r in rows_of(report, "dimensions")}
    assert Rating.objects.count() == 3
    assert dims["维修质量"] == (3, round((4 + 2 + 4) / 3, 2))
    assert dims["值班员接线态度"] == (1, 4.0)
    assert dims["收费透明"] == (0, None)
    liked = rankings.technician_satisfaction(april, Filters())
    techs = rows_of(report, "technicians")
    assert [(r["username"], r["rated"], r["mean_rating"]) for r in techs] == [
        (r["username"], r["orders"], r["mean_rating"]) for r in [*liked.ranked, *liked.insufficient]
    ]
    second = next(r for r in techs if r["username"] == "technician2")
    assert second["quality"] == 2.0  # only his one dimensioned rating
    assert rows_of(report, "agents") == [
        {
            "name": "agent",
            "username": "agent",
            "rated": 1,
            "agent_attitude": 4.0,
            "agent_response": 5.0,
            "agent_handling": 3.0,
            "overall": 4.0,
        }
    ]


def test_a_team_leads_report_holds_only_his_teams_orders(at_now):
    world = at_now.world
    led = reports.allowed_filters(world.team_lead, {})

    report = reports.build("monthly", "2026-03", led)

    mine = queries.dashboard(MARCH, Filters(teams=(world.team.pk,)))
    summary = {r["figure"]: r["current"] for r in rows_of(report, "summary")}
    assert summary["完成量"] == mine["summary"]["completed"]
    assert summary["完成量"] < queries.dashboard(MARCH, Filters())["summary"]["completed"]
    info = {r["item"]: r["value"] for r in rows_of(report, "info")}
    assert info["限于班组"] == world.team.name


def test_a_period_not_over_says_its_figures_are_to_the_generation_time(at_now):
    report = reports.build("monthly", NOW.date(), Filters())

    info = {r["item"]: r["value"] for r in rows_of(report, "info")}
    assert info["说明"] == "时段尚未结束，数字截至生成时间。"
    assert info["生成时间"] == "2026-05-10 10:00"
